//! Import through the real GDAL reader (`import::read_file`) and the CLI path
//! (`cli::import_files`): formats, CRSs, OSM, the Hangzhou sample, broken
//! files, repairs, mapping files, GCJ-02 and household estimates.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use civgrid::{AdminLevel, Datum, FacilityKind, LayerCounts, Territory};
use civgrid_service::cli::import_files;
use civgrid_service::import::{
    read_file, ImportError, ImportOptions, ImportedFile, Mapping, Target,
};
use geo::{Area, GeodesicArea, Validation};
use geo_types::{Coord, MultiPolygon, Point};
use serde_json::{json, Value};

use crate::common::{
    area, assert_same_territory, data_dir, estimated_households, feature, fixture_territory,
    footprint_m2, gdal_tool, multipolygon_json, normalized, ogr_to_gpkg, ogr_to_shapefile,
    ogrinfo_counts, ogrinfo_scalar, point_json, rect, write_geojson, write_territory,
};

fn read(path: &Path, opts: &ImportOptions) -> ImportedFile {
    read_file(path, opts).unwrap_or_else(|e| panic!("{} should import: {e}", path.display()))
}

fn repair() -> ImportOptions {
    ImportOptions {
        repair: true,
        ..ImportOptions::default()
    }
}

/// Reads every file and merges their territories; returns the notes too.
fn read_all(paths: &[PathBuf], opts: &ImportOptions) -> (Territory, Vec<String>) {
    let mut t = Territory::default();
    let mut notes = Vec::new();
    for p in paths {
        let f = read(p, opts);
        notes.extend(f.notes.iter().map(|n| format!("{}: {}", n.at, n.what)));
        t.extend(f.batch.territory);
    }
    (t, notes)
}

fn count_of(c: &LayerCounts, target: Target) -> usize {
    match target {
        Target::Admin(AdminLevel::District) => c.districts,
        Target::Admin(AdminLevel::Subdistrict) => c.subdistricts,
        Target::Admin(AdminLevel::Community) => c.communities,
        Target::Buildings => c.buildings,
        Target::Facilities => c.facilities,
        Target::Hazards => c.hazards,
        Target::Roads => c.roads,
        Target::Barriers => c.barriers,
        Target::Incidents => c.incidents,
        Target::Components => c.components,
        Target::Zones => c.zones,
    }
}

// ---------------------------------------------------------------------------
// Formats and CRSs
// ---------------------------------------------------------------------------

/// The fixture as GeoJSON files, one GeoPackage and Shapefiles.
struct Formats {
    _dir: tempfile::TempDir,
    geojson: Vec<PathBuf>,
    gpkg: PathBuf,
    shapefiles: Vec<PathBuf>,
}

fn formats() -> Formats {
    let dir = tempfile::tempdir().expect("tempdir");
    let (gj, shp) = (dir.path().join("geojson"), dir.path().join("shp"));
    std::fs::create_dir_all(&gj).expect("mkdir");
    std::fs::create_dir_all(&shp).expect("mkdir");
    let geojson = write_territory(&gj, &fixture_territory());
    let gpkg = ogr_to_gpkg(&geojson, &dir.path().join("fixture.gpkg"), None);
    let shapefiles = geojson
        .iter()
        .flat_map(|f| ogr_to_shapefile(f, &shp))
        .collect();
    Formats {
        _dir: dir,
        geojson,
        gpkg,
        shapefiles,
    }
}

#[test]
fn geojson_geopackage_and_shapefile_give_the_same_features() {
    let f = formats();
    let expected = normalized(&fixture_territory());
    let opts = ImportOptions::default();

    let (from_geojson, notes) = read_all(&f.geojson, &opts);
    assert!(
        notes.is_empty(),
        "the clean fixture needs no tidying: {notes:#?}"
    );
    assert_same_territory(&normalized(&from_geojson), &expected, 1e-9, "GeoJSON");

    let (from_gpkg, notes) = read_all(std::slice::from_ref(&f.gpkg), &opts);
    assert!(
        notes.is_empty(),
        "the clean fixture needs no tidying: {notes:#?}"
    );
    assert_same_territory(&normalized(&from_gpkg), &expected, 1e-9, "GeoPackage");

    // A Shapefile stores exterior rings clockwise: reading one back rewinds
    // them (and says so), which gives the fixture's rings exactly.
    let (from_shp, notes) = read_all(&f.shapefiles, &opts);
    assert!(
        notes.iter().all(|n| n.contains("rewound rings")),
        "Shapefile rings only need rewinding: {notes:#?}"
    );
    assert_same_territory(&normalized(&from_shp), &expected, 1e-9, "Shapefile");
}

#[test]
fn imported_feature_counts_match_ogrinfo() {
    let f = formats();
    let opts = ImportOptions::default();
    let files: Vec<&PathBuf> = f
        .geojson
        .iter()
        .chain([&f.gpkg])
        .chain(&f.shapefiles)
        .collect();
    let mut total = 0;
    for path in files {
        let imported = read(path, &opts);
        let counts = imported.batch.territory.counts();
        // Per target layer: the sum of ogrinfo's counts of the layers mapping to it.
        let mut by_target: BTreeMap<String, i64> = BTreeMap::new();
        for (layer, n) in ogrinfo_counts(path) {
            let target = Target::by_convention(&layer)
                .unwrap_or_else(|| panic!("{}: layer {layer} maps to nothing", path.display()));
            *by_target.entry(format!("{target:?}")).or_default() += n;
        }
        assert!(
            !by_target.is_empty(),
            "{}: ogrinfo saw no layer",
            path.display()
        );
        for (target, n) in &by_target {
            let t = Target::NAMED
                .iter()
                .map(|(_, t)| *t)
                .find(|t| format!("{t:?}") == *target)
                .expect("a target");
            assert_eq!(
                count_of(&counts, t) as i64,
                *n,
                "{}: {target}: imported vs ogrinfo Feature Count",
                path.display()
            );
            total += n;
        }
        assert_eq!(
            counts.total() as i64,
            by_target.values().sum::<i64>(),
            "{}: nothing else imported",
            path.display()
        );
        assert_eq!(imported.skipped, 0, "{}", path.display());
    }
    // GeoJSON, GeoPackage and Shapefile each hold the whole fixture.
    assert_eq!(total as usize, 3 * fixture_territory().counts().total());
}

#[test]
fn a_copy_reprojected_to_cgcs2000_gauss_kruger_comes_back_to_lon_lat() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture = fixture_territory();
    let geojson = write_territory(dir.path(), &fixture);
    let projected = ogr_to_gpkg(
        &geojson,
        &dir.path().join("epsg4549.gpkg"),
        Some("EPSG:4549"),
    );
    // The copy really is in metres of CGCS2000 / 3-degree Gauss-Kruger CM 120E.
    let info = gdal_tool(
        "ogrinfo",
        &[
            "-ro",
            "-so",
            projected.to_str().expect("utf-8"),
            "communities",
        ],
    );
    assert!(
        info.contains("CGCS2000 / 3-degree Gauss-Kruger CM 120E"),
        "{info}"
    );
    let extent = info
        .lines()
        .find_map(|l| l.strip_prefix("Extent: ("))
        .expect("an extent");
    let min_x: f64 = extent
        .split(',')
        .next()
        .expect("x")
        .trim()
        .parse()
        .expect("number");
    assert!(
        (400_000.0..600_000.0).contains(&min_x),
        "eastings in metres: {extent}"
    );

    let (t, _) = read_all(std::slice::from_ref(&projected), &ImportOptions::default());
    assert_same_territory(
        &normalized(&t),
        &normalized(&fixture),
        1e-6,
        "EPSG:4549 copy",
    );
}

// ---------------------------------------------------------------------------
// OpenStreetMap
// ---------------------------------------------------------------------------

/// OSM highway values of roads that carry vehicles: the list in
/// service/src/import/records.rs (`DRIVABLE`), written out again here so that
/// a change to it has to be made on purpose.
const DRIVABLE: &[&str] = &[
    "motorway",
    "trunk",
    "primary",
    "secondary",
    "tertiary",
    "unclassified",
    "residential",
    "service",
    "living_street",
    "road",
    "motorway_link",
    "trunk_link",
    "primary_link",
    "secondary_link",
    "tertiary_link",
    "busway",
];

/// OSM tags that make a feature a facility, by kind, in the order civgrid
/// tries them (amenity before emergency).
const FACILITY_TAGS: &[(FacilityKind, &str, &[&str])] = &[
    (FacilityKind::FireStation, "amenity", &["fire_station"]),
    (FacilityKind::Hospital, "amenity", &["hospital"]),
    (FacilityKind::Clinic, "amenity", &["clinic", "doctors"]),
    (FacilityKind::Police, "amenity", &["police"]),
    (FacilityKind::School, "amenity", &["school"]),
    (FacilityKind::FireHydrant, "emergency", &["fire_hydrant"]),
    (
        FacilityKind::AmbulanceStation,
        "emergency",
        &["ambulance_station"],
    ),
    (FacilityKind::Defibrillator, "emergency", &["defibrillator"]),
    (FacilityKind::Shelter, "emergency", &["assembly_point"]),
];

/// SQL: `key` = one of `values`, whether `key` is a column of the layer or
/// lives in `other_tags`.
fn tag_in(columns: &[&str], key: &str, values: &[&str]) -> String {
    if columns.contains(&key) {
        let list: Vec<String> = values.iter().map(|v| format!("'{v}'")).collect();
        format!("coalesce({key} IN ({}), 0)", list.join(","))
    } else {
        let likes: Vec<String> = values
            .iter()
            .map(|v| format!("coalesce(other_tags LIKE '%\"{key}\"=>\"{v}\"%', 0)"))
            .collect();
        format!("({})", likes.join(" OR "))
    }
}

/// SQL: the feature is a facility of any kind.
fn any_facility(columns: &[&str]) -> String {
    let parts: Vec<String> = FACILITY_TAGS
        .iter()
        .map(|(_, k, v)| tag_in(columns, k, v))
        .collect();
    format!("({})", parts.join(" OR "))
}

/// SQL: the feature is a facility of `kind` (an amenity wins over an emergency tag).
fn facility_of(columns: &[&str], kind: FacilityKind) -> String {
    let (_, key, values) = FACILITY_TAGS
        .iter()
        .find(|(k, _, _)| *k == kind)
        .expect("kind");
    let own = tag_in(columns, key, values);
    if *key == "amenity" {
        return own;
    }
    let amenities: Vec<String> = FACILITY_TAGS
        .iter()
        .filter(|(_, k, _)| *k == "amenity")
        .map(|(_, k, v)| tag_in(columns, k, v))
        .collect();
    // An earlier emergency kind wins too.
    let earlier: Vec<String> = FACILITY_TAGS
        .iter()
        .filter(|(_, k, _)| *k == "emergency")
        .take_while(|(k, _, _)| *k != kind)
        .map(|(_, k, v)| tag_in(columns, k, v))
        .chain(amenities)
        .collect();
    format!("({own} AND NOT ({}))", earlier.join(" OR "))
}

const POINT_COLUMNS: &[&str] = &["highway", "barrier", "place", "man_made"];
const LINE_COLUMNS: &[&str] = &["highway", "waterway", "barrier", "man_made", "railway"];
const AREA_COLUMNS: &[&str] = &["amenity", "building", "boundary", "admin_level", "landuse"];

#[test]
fn an_osm_extract_imports_the_buildings_roads_and_facilities_ogrinfo_counts() {
    let pbf = data_dir().join("helsinki-center.osm.pbf");
    let q = |sql: &str| ogrinfo_scalar(&pbf, "SQLite", sql);
    let building = format!(
        "building IS NOT NULL AND NOT {}",
        any_facility(AREA_COLUMNS)
    );
    // Clipped at the extract's edge, some building ways keep fewer than 4
    // points: no area ("toxic" to GEOS). civgrid drops those under --repair
    // (and rejects the file without it).
    let degenerate = "ST_IsValidReason(geometry) LIKE '%Toxic%'";
    let buildings_all = q(&format!(
        "SELECT count(*) AS n FROM multipolygons WHERE {building}"
    ));
    let buildings_degenerate = q(&format!(
        "SELECT count(*) AS n FROM multipolygons WHERE {building} AND {degenerate}"
    ));
    let buildings_invalid = q(&format!(
        "SELECT count(*) AS n FROM multipolygons WHERE {building} AND NOT ST_IsValid(geometry) AND NOT {degenerate}"
    ));
    let drivable: Vec<String> = DRIVABLE.iter().map(|d| format!("'{d}'")).collect();
    let roads = q(&format!(
        "SELECT count(*) AS n FROM lines WHERE highway IN ({}) \
         AND NOT coalesce(other_tags LIKE '%\"building\"=>%', 0) AND NOT {}",
        drivable.join(","),
        any_facility(LINE_COLUMNS)
    ));
    let mut facilities_by_kind = BTreeMap::new();
    for (kind, _, _) in FACILITY_TAGS {
        let n = q(&format!(
            "SELECT count(*) AS n FROM points WHERE {}",
            facility_of(POINT_COLUMNS, *kind)
        )) + q(&format!(
            "SELECT count(*) AS n FROM multipolygons WHERE {} AND NOT {degenerate}",
            facility_of(AREA_COLUMNS, *kind)
        ));
        facilities_by_kind.insert(*kind, n as usize);
    }
    let facilities_invalid = q(&format!(
        "SELECT count(*) AS n FROM multipolygons WHERE {} AND NOT ST_IsValid(geometry) AND NOT {degenerate}",
        any_facility(AREA_COLUMNS)
    ));
    // The extract is what data/README.md says it is.
    assert!(
        buildings_all > 400 && roads > 500,
        "{buildings_all} buildings, {roads} roads"
    );
    assert_eq!(facilities_by_kind[&FacilityKind::FireHydrant], 37);
    assert_eq!(facilities_by_kind[&FacilityKind::FireStation], 1);

    let f = read(&pbf, &repair());
    let t = &f.batch.territory;
    let c = t.counts();
    assert_eq!(
        c.buildings as i64,
        buildings_all - buildings_degenerate,
        "buildings: {buildings_all} tagged, {buildings_degenerate} without area"
    );
    assert_eq!(c.roads as i64, roads, "drivable road ways");
    for (kind, n) in &facilities_by_kind {
        let got = t.facilities.iter().filter(|x| x.kind == *kind).count();
        assert_eq!(got, *n, "facilities of kind {kind}");
    }
    assert_eq!(c.facilities, facilities_by_kind.values().sum::<usize>());
    assert_eq!(
        (
            c.districts,
            c.subdistricts,
            c.communities,
            c.hazards,
            c.incidents
        ),
        (0, 0, 0, 0, 0)
    );
    // Every drop and every repair is reported.
    let dropped = f
        .notes
        .iter()
        .filter(|n| n.what.starts_with("dropped"))
        .count();
    assert_eq!(
        dropped as i64, buildings_degenerate,
        "one note per dropped building"
    );
    let repaired = f
        .notes
        .iter()
        .filter(|n| n.what.starts_with("repaired"))
        .count();
    assert_eq!(
        repaired as i64,
        buildings_invalid + facilities_invalid,
        "one note per repaired feature"
    );
    assert!(t.buildings.iter().all(|b| b.geometry.is_valid()));
    // Everything lies in central Helsinki.
    let inside = |p: Coord<f64>| (24.90..25.00).contains(&p.x) && (60.14..60.20).contains(&p.y);
    assert!(t.facilities.iter().all(|x| inside(x.location.0)));
    assert!(t
        .roads
        .iter()
        .all(|r| r.geometry.0.iter().all(|c| inside(*c))));
    // Households come from footprint × levels: none is given in OSM.
    assert!(t
        .buildings
        .iter()
        .all(|b| b.households_estimated && b.households >= 1));

    // Without --repair the first degenerate building stops the import.
    let err = read_file(&pbf, &ImportOptions::default()).expect_err("needs --repair");
    let msg = err.to_string();
    assert!(
        msg.contains("helsinki-center.osm.pbf")
            && msg.contains("layer \"multipolygons\"")
            && msg.contains("polygon has no area"),
        "{msg}"
    );
}

// ---------------------------------------------------------------------------
// The Hangzhou districts: real, self-intersecting
// ---------------------------------------------------------------------------

/// Absolute shoelace area (deg²) of each polygon ring set, read straight
/// from the GeoJSON: exterior minus holes.
fn shoelace(rings: &[Value]) -> f64 {
    let ring_area = |r: &Value| {
        let pts: Vec<(f64, f64)> = r
            .as_array()
            .expect("ring")
            .iter()
            .map(|p| (p[0].as_f64().expect("x"), p[1].as_f64().expect("y")))
            .collect();
        let s: f64 = pts
            .windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum();
        (s / 2.0).abs()
    };
    let mut it = rings.iter();
    let exterior = it.next().map_or(0.0, ring_area);
    exterior - it.map(ring_area).sum::<f64>()
}

fn hangzhou() -> (PathBuf, Vec<(String, String, f64)>) {
    let path = data_dir().join("hangzhou-districts.geojson");
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let districts = json["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let g = &f["geometry"];
            let area = match g["type"].as_str() {
                Some("Polygon") => shoelace(g["coordinates"].as_array().expect("rings")),
                Some("MultiPolygon") => g["coordinates"]
                    .as_array()
                    .expect("polygons")
                    .iter()
                    .map(|p| shoelace(p.as_array().expect("rings")))
                    .sum(),
                other => panic!("unexpected geometry {other:?}"),
            };
            (
                f["properties"]["code"].as_str().expect("code").to_owned(),
                f["properties"]["name"].as_str().expect("name").to_owned(),
                area,
            )
        })
        .collect();
    (path, districts)
}

#[test]
fn hangzhou_without_repair_is_rejected_at_its_first_self_intersection() {
    let (path, _) = hangzhou();
    let err = read_file(&path, &ImportOptions::default()).expect_err("self-intersecting rings");
    let msg = err.to_string();
    for part in [
        path.display().to_string().as_str(),
        "layer \"hangzhou-districts\"",
        "feature 0 ",
        "self-intersection",
        "--repair",
    ] {
        assert!(msg.contains(part), "{part:?} missing from: {msg}");
    }
    assert!(matches!(err, ImportError::Feature { .. }), "{err:?}");
}

#[test]
fn hangzhou_with_repair_gives_13_valid_districts_of_the_same_area() {
    let (path, original) = hangzhou();
    let f = read(&path, &repair());
    let t = &f.batch.territory;
    assert_eq!(t.districts.len(), 13);
    assert_eq!(t.counts().total(), 13);
    for (code, name, area) in &original {
        let d = t
            .districts
            .iter()
            .find(|d| d.code.to_string() == *code)
            .unwrap_or_else(|| panic!("district {code} {name} missing"));
        assert_eq!(&d.name, name);
        let errors = d.geometry.validation_errors();
        assert!(errors.is_empty(), "{code} {name} still invalid: {errors:?}");
        let repaired = d.geometry.unsigned_area();
        let change = (repaired - area).abs() / area;
        assert!(
            change < 0.01,
            "{code} {name}: area {repaired:.6e} deg² after repair vs {area:.6e} before ({:.2} %)",
            change * 100.0
        );
        let notes: Vec<_> = f
            .notes
            .iter()
            .filter(|n| n.at.name.as_deref() == Some(name.as_str()))
            .collect();
        assert!(
            notes
                .iter()
                .any(|n| n.what.contains("repaired") && n.what.contains("made valid")),
            "{code} {name}: the repair is reported: {notes:?}"
        );
        assert!(notes.iter().all(|n| n.at.layer == "hangzhou-districts"));
    }
}

// ---------------------------------------------------------------------------
// Broken files: rejected with file, layer, feature and problem; store unchanged
// ---------------------------------------------------------------------------

fn community(code: &str, name: &str, kind: Option<&str>, geometry: Value) -> Value {
    let mut p = json!({"code": code, "name": name});
    if let Some(k) = kind {
        p["kind"] = json!(k);
    }
    feature(p, geometry)
}

fn polygon(ring: &[(f64, f64)]) -> Value {
    let coords: Vec<Value> = ring.iter().map(|(x, y)| json!([x, y])).collect();
    json!({"type": "Polygon", "coordinates": [coords]})
}

/// A good community to put before the broken feature.
fn good_community() -> Value {
    community(
        "330106001001",
        "好社区",
        Some("urban"),
        multipolygon_json(&rect(120.100, 30.250, 120.105, 30.255)),
    )
}

/// A bow-tie: its exterior ring crosses itself at (120.1075, 30.2525).
fn bow_tie() -> Value {
    polygon(&[
        (120.105, 30.250),
        (120.110, 30.255),
        (120.110, 30.250),
        (120.105, 30.255),
        (120.105, 30.250),
    ])
}

/// One broken file and what its error must say.
struct Broken {
    what: &'static str,
    file: PathBuf,
    layer: &'static str,
    /// `feature N (name)`; `None` for a problem of the whole layer.
    feature: Option<&'static str>,
    problem: &'static [&'static str],
}

#[allow(clippy::too_many_lines)]
fn broken_files(dir: &Path) -> Vec<Broken> {
    let sq = rect(120.105, 30.250, 120.110, 30.255);
    let communities = |name: &str, bad: Value| {
        let d = dir.join(name);
        std::fs::create_dir_all(&d).expect("mkdir");
        write_geojson(&d, "communities.geojson", vec![good_community(), bad])
    };
    let mut cases = vec![
        Broken {
            what: "unclosed ring",
            file: communities(
                "unclosed",
                community(
                    "330106001002",
                    "缺口社区",
                    Some("urban"),
                    polygon(&[
                        (120.105, 30.250),
                        (120.110, 30.250),
                        (120.110, 30.255),
                        (120.105, 30.255),
                    ]),
                ),
            ),
            layer: "communities",
            feature: Some("feature 1 (缺口社区)"),
            problem: &[
                "ring 0 is not closed",
                "starts at (120.1050000, 30.2500000)",
            ],
        },
        Broken {
            what: "self-intersecting bow-tie",
            file: communities(
                "bowtie",
                community("330106001002", "蝴蝶社区", Some("urban"), bow_tie()),
            ),
            layer: "communities",
            feature: Some("feature 1 (蝴蝶社区)"),
            problem: &["self-intersection", "--repair"],
        },
        Broken {
            what: "missing required field kind",
            file: communities(
                "nokind",
                community("330106001002", "无类社区", None, multipolygon_json(&sq)),
            ),
            layer: "communities",
            feature: Some("feature 1 (无类社区)"),
            problem: &["missing required field kind"],
        },
        Broken {
            what: "code of the wrong length",
            file: communities(
                "code11",
                community(
                    "33010600100",
                    "短码社区",
                    Some("urban"),
                    multipolygon_json(&sq),
                ),
            ),
            layer: "communities",
            feature: Some("feature 1 (短码社区)"),
            problem: &["field code", "33010600100", "12 (community) digits"],
        },
        Broken {
            what: "a subdistrict code in the communities layer",
            file: communities(
                "code9",
                community(
                    "330106001",
                    "街道码社区",
                    Some("urban"),
                    multipolygon_json(&sq),
                ),
            ),
            layer: "communities",
            feature: Some("feature 1 (街道码社区)"),
            problem: &["field code", "330106001", "a community code has 12 digits"],
        },
    ];
    // Out-of-range coordinate.
    let d = dir.join("lon200");
    std::fs::create_dir_all(&d).expect("mkdir");
    cases.push(Broken {
        what: "longitude 200",
        file: write_geojson(
            &d,
            "facilities.geojson",
            vec![
                feature(
                    json!({"kind": "fire_station", "name": "好消防站"}),
                    point_json(Point::new(120.1, 30.25)),
                ),
                feature(
                    json!({"kind": "hospital", "name": "远方医院"}),
                    point_json(Point::new(200.0, 30.25)),
                ),
            ],
        ),
        layer: "facilities",
        feature: Some("feature 1 (远方医院)"),
        problem: &["coordinate (200, 30.25) is not a valid lon/lat"],
    });
    // A field that is not a number.
    let d = dir.join("many");
    std::fs::create_dir_all(&d).expect("mkdir");
    cases.push(Broken {
        what: "households = many",
        file: write_geojson(
            &d,
            "buildings.geojson",
            vec![
                feature(
                    json!({"name": "1号楼", "households": "12"}),
                    multipolygon_json(&rect(120.1010, 30.2510, 120.1014, 30.2513)),
                ),
                feature(
                    json!({"name": "2号楼", "households": "many"}),
                    multipolygon_json(&rect(120.1020, 30.2510, 120.1024, 30.2513)),
                ),
            ],
        ),
        layer: "buildings",
        feature: Some("feature 1 (2号楼)"),
        problem: &["field households = \"many\"", "not a number"],
    });
    // An unknown datum tag.
    let d = dir.join("datum");
    std::fs::create_dir_all(&d).expect("mkdir");
    cases.push(Broken {
        what: "datum = mars",
        file: write_geojson(
            &d,
            "facilities.geojson",
            vec![feature(
                json!({"kind": "police", "name": "火星派出所", "datum": "mars"}),
                point_json(Point::new(120.1, 30.25)),
            )],
        ),
        layer: "facilities",
        feature: Some("feature 0 (火星派出所)"),
        problem: &["field datum = \"mars\"", "unknown datum"],
    });
    // A Shapefile without its .prj: no CRS at all.
    let d = dir.join("noprj");
    std::fs::create_dir_all(&d).expect("mkdir");
    let gj = write_geojson(&d, "communities.geojson", vec![good_community()]);
    let shp = ogr_to_shapefile(&gj, &d).remove(0);
    std::fs::remove_file(shp.with_extension("prj")).expect("delete the .prj");
    cases.push(Broken {
        what: "unknown CRS",
        file: shp,
        layer: "communities",
        feature: None,
        problem: &["unknown CRS", "no .prj"],
    });
    cases
}

#[tokio::test]
async fn broken_files_are_rejected_naming_file_layer_feature_and_problem() {
    let dir = tempfile::tempdir().expect("tempdir");
    let store_path = dir.path().join("store.gpkg");
    let spec = store_path.to_str().expect("utf-8").to_owned();
    // A store that already holds something.
    let good = dir.path().join("good");
    std::fs::create_dir_all(&good).expect("mkdir");
    let fixture = fixture_territory();
    let good_files = write_territory(&good, &fixture);
    let s = import_files(&spec, &good_files, &ImportOptions::default(), Vec::new())
        .await
        .expect("the good fixture imports");
    assert_eq!(s.counts().await.expect("counts"), fixture.counts());
    drop(s);
    let before = std::fs::read(&store_path).expect("read the store");

    let cases = broken_files(dir.path());
    assert_eq!(cases.len(), 9);
    for case in cases {
        // A good file first: it must not be written either.
        let paths = vec![good_files[0].clone(), case.file.clone()];
        let err = match import_files(&spec, &paths, &ImportOptions::default(), Vec::new()).await {
            Ok(_) => panic!("{}: the import should fail", case.what),
            Err(e) => e,
        };
        let msg = err.to_string();
        let file = case.file.display().to_string();
        let layer = format!("layer {:?}", case.layer);
        let mut parts: Vec<&str> = vec![&file, &layer];
        if let Some(f) = case.feature {
            parts.push(f);
        }
        parts.extend(case.problem);
        for part in parts {
            assert!(
                msg.contains(part),
                "{}: {part:?} missing from: {msg}",
                case.what
            );
        }
        assert!(
            std::fs::read(&store_path).expect("read the store") == before,
            "{}: the store must be byte-for-byte unchanged",
            case.what
        );
    }
}

// ---------------------------------------------------------------------------
// Repairs and tidying
// ---------------------------------------------------------------------------

#[tokio::test]
async fn repair_makes_the_bow_tie_valid_and_reports_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = write_geojson(
        dir.path(),
        "communities.geojson",
        vec![community(
            "330106001002",
            "蝴蝶社区",
            Some("urban"),
            bow_tie(),
        )],
    );
    let f = read(&file, &repair());
    let c = &f.batch.territory.communities;
    assert_eq!(c.len(), 1);
    assert!(
        c[0].geometry.is_valid(),
        "{:?}",
        c[0].geometry.validation_errors()
    );
    // MakeValid splits the bow-tie at its crossing into two triangles of a
    // quarter of the 0.005° square each.
    assert_eq!(c[0].geometry.0.len(), 2, "{:?}", c[0].geometry);
    let half = 0.005 * 0.005 / 2.0;
    assert!((c[0].geometry.unsigned_area() - half).abs() < half * 1e-9);
    let cross = Point::new(120.1075, 30.2525);
    assert!(c[0].geometry.iter().all(|p| {
        p.exterior()
            .0
            .iter()
            .any(|q| (q.x - cross.x()).abs() < 1e-12 && (q.y - cross.y()).abs() < 1e-12)
    }));
    // The repair is reported (MakeValid's output may also need rewinding).
    let repairs: Vec<_> = f
        .notes
        .iter()
        .filter(|n| n.what.starts_with("repaired"))
        .collect();
    assert_eq!(repairs.len(), 1, "{:?}", f.notes);
    let note = repairs[0];
    assert!(
        note.what.contains("self-intersection") && note.what.contains("made valid"),
        "{}",
        note.what
    );
    assert_eq!(note.at.layer, "communities");
    assert_eq!(note.at.fid, Some(0));
    assert_eq!(note.at.name.as_deref(), Some("蝴蝶社区"));
    assert!(
        f.notes
            .iter()
            .all(|n| n.what.starts_with("repaired") || n.what.starts_with("rewound")),
        "{:?}",
        f.notes
    );

    // And through the CLI path into a store.
    let spec = dir.path().join("store.gpkg");
    let s = import_files(
        spec.to_str().expect("utf-8"),
        &[file],
        &repair(),
        Vec::new(),
    )
    .await
    .expect("import --repair");
    let t = s.load().await.expect("load");
    assert_eq!(t.communities.len(), 1);
    assert!(t.communities[0].geometry.is_valid());
    assert!((t.communities[0].geometry.unsigned_area() - half).abs() < half * 1e-9);
}

#[test]
fn wrong_winding_and_repeated_points_are_tidied_and_reported_without_repair() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The clean shape: exterior counter-clockwise, hole clockwise.
    let clean = area(
        &[
            (120.100, 30.250),
            (120.105, 30.250),
            (120.105, 30.255),
            (120.100, 30.255),
        ],
        &[&[
            (120.102, 30.252),
            (120.102, 30.253),
            (120.103, 30.253),
            (120.103, 30.252),
        ]],
    );
    // Written the wrong way round, with one point repeated.
    let reversed = |ring: &geo_types::LineString<f64>| {
        let mut c: Vec<Coord<f64>> = ring.0.iter().rev().copied().collect();
        c.insert(2, c[2]);
        c.iter().map(|c| json!([c.x, c.y])).collect::<Vec<_>>()
    };
    let p = &clean.0[0];
    let messy = json!({"type": "Polygon", "coordinates": [reversed(p.exterior()), reversed(&p.interiors()[0])]});
    let file = write_geojson(
        dir.path(),
        "communities.geojson",
        vec![community("330106001001", "整理社区", Some("urban"), messy)],
    );
    let f = read(&file, &ImportOptions::default());
    let got = &f.batch.territory.communities[0].geometry;
    assert_eq!(got, &clean, "tidied to the clean shape");
    let notes: Vec<&str> = f.notes.iter().map(|n| n.what.as_str()).collect();
    assert!(notes.contains(&"removed 2 repeated point(s)"), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.starts_with("rewound rings")),
        "{notes:?}"
    );
    assert!(f
        .notes
        .iter()
        .all(|n| n.at.fid == Some(0) && n.at.layer == "communities"));
}

// ---------------------------------------------------------------------------
// Mapping files, datums, household estimates
// ---------------------------------------------------------------------------

#[tokio::test]
async fn a_mapping_file_maps_oddly_named_layers_and_fields() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fire = write_geojson(
        dir.path(),
        "stations.geojson",
        vec![
            feature(
                json!({"NAME_CN": "西湖消防站", "TYPE": "fire_station", "CAP": 8}),
                point_json(Point::new(120.1031, 30.2512)),
            ),
            feature(
                json!({"NAME_CN": "曙光微型消防站", "TYPE": "micro_fire_station"}),
                point_json(Point::new(120.1066, 30.2531)),
            ),
        ],
    );
    let villages = write_geojson(
        dir.path(),
        "villages.geojson",
        vec![feature(
            json!({"CUN_DM": "330106002001", "CUN_MC": "北山村", "LX": "rural"}),
            multipolygon_json(&rect(120.100, 30.255, 120.105, 30.260)),
        )],
    );
    let gpkg = dir.path().join("消防 data.gpkg");
    let g = gpkg.to_str().expect("utf-8");
    gdal_tool(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-nln",
            "消防站 2024",
            g,
            fire.to_str().expect("utf-8"),
        ],
    );
    gdal_tool(
        "ogr2ogr",
        &[
            "-f",
            "GPKG",
            "-update",
            "-nln",
            "村界",
            g,
            villages.to_str().expect("utf-8"),
        ],
    );
    let mapping_file = dir.path().join("mapping.toml");
    std::fs::write(
        &mapping_file,
        r#"
[layers."消防站 2024"]
target = "facilities"
[layers."消防站 2024".fields]
name = "NAME_CN"
kind = "TYPE"
capacity = "CAP"

[layers."村界"]
target = "communities"
fields = { code = "CUN_DM", name = "CUN_MC", kind = "LX" }
"#,
    )
    .expect("write mapping");

    // Without the mapping, no layer maps to the model.
    let err = read_file(&gpkg, &ImportOptions::default()).expect_err("nothing maps");
    let msg = err.to_string();
    assert!(
        msg.contains("no layer maps") && msg.contains("消防站 2024") && msg.contains("村界"),
        "{msg}"
    );

    let opts = ImportOptions {
        mapping: Mapping::load(&mapping_file).expect("the mapping file loads"),
        ..ImportOptions::default()
    };
    let spec = dir.path().join("store.gpkg");
    let s = import_files(spec.to_str().expect("utf-8"), &[gpkg], &opts, Vec::new())
        .await
        .expect("import with the mapping");
    let t = s.load().await.expect("load");
    assert_eq!(t.facilities.len(), 2);
    let fs = &t.facilities;
    assert_eq!(
        (fs[0].kind, fs[0].name.as_str(), fs[0].capacity),
        (FacilityKind::FireStation, "西湖消防站", Some(8))
    );
    assert_eq!(
        (fs[1].kind, fs[1].name.as_str(), fs[1].capacity),
        (FacilityKind::MicroFireStation, "曙光微型消防站", None)
    );
    assert_eq!(fs[0].location, Point::new(120.1031, 30.2512));
    assert_eq!(t.communities.len(), 1);
    let c = &t.communities[0];
    assert_eq!(
        (c.code.to_string(), c.name.as_str(), c.kind),
        (
            "330106002001".to_owned(),
            "北山村",
            Some(civgrid::CommunityKind::Rural)
        )
    );
    assert_eq!(c.geometry, rect(120.100, 30.255, 120.105, 30.260));

    // A mapping file that names an unknown target is an error naming it.
    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[layers.x]\ntarget = \"castles\"\n").expect("write");
    let e = Mapping::load(&bad).expect_err("unknown target");
    assert!(
        e.to_string().contains("castles") && e.to_string().contains("bad.toml"),
        "{e}"
    );
}

#[tokio::test]
async fn a_gcj02_tagged_facility_is_stored_in_cgcs2000() {
    let dir = tempfile::tempdir().expect("tempdir");
    // What a phone map app reports for a station at 120.1031, 30.2512.
    let reported = Coord {
        x: 120.107_65,
        y: 30.248_83,
    };
    let plain = Coord {
        x: 120.1066,
        y: 30.2531,
    };
    let file = write_geojson(
        dir.path(),
        "facilities.geojson",
        vec![
            feature(
                json!({"kind": "fire_station", "name": "高德消防站", "datum": "gcj02"}),
                point_json(reported.into()),
            ),
            feature(
                json!({"kind": "hospital", "name": "普通医院"}),
                point_json(plain.into()),
            ),
        ],
    );
    let spec = dir.path().join("store.gpkg");
    let s = import_files(
        spec.to_str().expect("utf-8"),
        &[file],
        &ImportOptions::default(),
        Vec::new(),
    )
    .await
    .expect("import");
    let t = s.load().await.expect("load");
    let expected = Datum::Gcj02.to_cgcs2000(reported).expect("in China");
    let got = t.facilities[0].location.0;
    assert!(
        (got.x - expected.x).abs() < 1e-12 && (got.y - expected.y).abs() < 1e-12,
        "{got:?} vs {expected:?}"
    );
    // The shift is real (hundreds of metres), so the check means something,
    // and converting back gives what the app reported.
    assert!(
        (got.x - reported.x).abs() > 1e-3 || (got.y - reported.y).abs() > 1e-3,
        "{got:?}"
    );
    let back = Datum::Gcj02.from_cgcs2000(got).expect("in China");
    assert!(
        (back.x - reported.x).abs() < 1e-7 && (back.y - reported.y).abs() < 1e-7,
        "{back:?}"
    );
    // An untagged facility is stored as given.
    assert_eq!(t.facilities[1].location.0, plain);
}

#[test]
fn buildings_without_households_get_an_estimate_from_footprint_and_levels() {
    let dir = tempfile::tempdir().expect("tempdir");
    let footprints: Vec<(MultiPolygon<f64>, Option<u32>, Option<u32>)> = vec![
        // ≈ 38.5 m × 33.3 m, 6 levels, households not given.
        (rect(120.1010, 30.2510, 120.1014, 30.2513), Some(6), None),
        // An L-shaped block of 18 levels.
        (
            area(
                &[
                    (120.1020, 30.2510),
                    (120.1030, 30.2510),
                    (120.1030, 30.2514),
                    (120.1025, 30.2514),
                    (120.1025, 30.2520),
                    (120.1020, 30.2520),
                ],
                &[],
            ),
            Some(18),
            None,
        ),
        // No levels either: one level is assumed.
        (rect(120.1040, 30.2510, 120.1042, 30.2512), None, None),
        // Given households are kept.
        (rect(120.1050, 30.2510, 120.1054, 30.2513), Some(6), Some(7)),
    ];
    let features = footprints
        .iter()
        .enumerate()
        .map(|(i, (g, levels, hh))| {
            let mut p = json!({"name": format!("{}号楼", i + 1)});
            if let Some(l) = levels {
                p["levels"] = json!(l);
            }
            if let Some(h) = hh {
                p["households"] = json!(h);
            }
            feature(p, multipolygon_json(g))
        })
        .collect();
    let file = write_geojson(dir.path(), "buildings.geojson", features);
    let f = read(&file, &ImportOptions::default());
    let b = &f.batch.territory.buildings;
    assert_eq!(b.len(), footprints.len());
    for (i, ((g, levels, hh), got)) in footprints.iter().zip(b).enumerate() {
        assert_eq!(got.levels, *levels, "building {i}");
        match hh {
            Some(h) => {
                assert_eq!(got.households, *h, "building {i}: given");
                assert!(!got.households_estimated, "building {i}");
            }
            None => {
                // The footprint area from an independent projection, checked
                // against the geodesic area on the ellipsoid.
                let m2 = footprint_m2(g);
                let geodesic = g.geodesic_area_unsigned();
                assert!(
                    (m2 - geodesic).abs() / geodesic < 1e-3,
                    "building {i}: {m2} vs {geodesic} m²"
                );
                let expected = (m2 * f64::from(levels.unwrap_or(1)) / 90.0).round() as u32;
                assert_eq!(expected, estimated_households(g, *levels));
                assert_eq!(
                    got.households, expected,
                    "building {i}: {m2:.1} m² × {levels:?} / 90"
                );
                assert!(got.households_estimated, "building {i}");
            }
        }
    }
    // The numbers are what a reader would work out by hand: 0.0004° of
    // longitude × 0.0003° of latitude at 30.25°N ≈ 38.5 m × 33.3 m ≈ 1,280 m².
    let m2 = footprint_m2(&footprints[0].0);
    assert!((1270.0..1290.0).contains(&m2), "{m2} m²");
    assert_eq!(b[0].households, 85, "{m2:.0} m² × 6 levels / 90 m²");
}
