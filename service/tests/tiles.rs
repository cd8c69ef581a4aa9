//! Tiles at every zoom (docs/tiles.md) against brute force over the risk
//! fixture: each layer from its least zoom on (TileJSON and 404s agree),
//! facilities by kind and zoom, the `areas` overview with every area's
//! cells per level (and after a write), geometry clipped to the buffered
//! tile, and low-zoom risk tiles pixel by pixel.

use std::collections::BTreeSet;

use axum::http::StatusCode;
use civgrid::{AdminArea, RiskLevel};
use civgrid_service::tiles::{facility_minzoom, Palette};
use civgrid_tiles::{TileCoord, TileKey};
use geo::{Area, BooleanOps, BoundingRect, Euclidean, Intersects, Length, MapCoords};
use geo_types::{Coord, Geometry, MultiPolygon, Rect};

use crate::common::{get_bytes, Backend};
use crate::http::{get, problem};
use crate::risk::{decode_mvt, fixture, move_red_area, Decoded, Fixture};

/// The buffered tile in grid units (extent 4096, buffer 64).
const WINDOW: (f64, f64) = (-64.0, 4160.0);

/// The lon/lat box of tile `t` grown by the buffer.
fn grown(t: TileCoord) -> Rect<f64> {
    let b = t.bounds();
    let m = 64.0 / 4096.0;
    let (dx, dy) = ((b.east - b.west) * m, (b.north - b.south) * m);
    Rect::new((b.west - dx, b.south - dy), (b.east + dx, b.north + dy))
}

/// `g` projected onto tile `t`'s grid (extent 4096), unrounded.
fn on_grid(t: TileCoord, g: &MultiPolygon<f64>) -> MultiPolygon<f64> {
    g.map_coords(|c| t.to_px(c, 4096))
}

/// A decoded polygon in double precision.
fn wide(m: &MultiPolygon<f32>) -> MultiPolygon<f64> {
    m.map_coords(|c| Coord {
        x: f64::from(c.x),
        y: f64::from(c.y),
    })
}

/// The area on the grid of a decoded polygon, the area of `geometry`
/// projected to `t`'s grid and clipped to the buffered tile (BooleanOps,
/// not the encoder's clipping), and that clipped outline's length: the
/// two areas agree within half a unit along the outline.
pub fn grid_areas(
    t: TileCoord,
    geometry: &MultiPolygon<f64>,
    decoded: &MultiPolygon<f32>,
) -> (f64, f64, f64) {
    let projected = on_grid(t, geometry);
    let window = Rect::new((WINDOW.0, WINDOW.0), (WINDOW.1, WINDOW.1)).to_polygon();
    let clipped = projected.intersection(&MultiPolygon::new(vec![window]));
    let perimeter: f64 = clipped
        .iter()
        .flat_map(|p| std::iter::once(p.exterior()).chain(p.interiors()))
        .map(|r| Euclidean.length(r))
        .sum();
    let got = wide(decoded);
    (got.unsigned_area(), clipped.unsigned_area(), perimeter)
}

async fn tile_bytes(f: &Fixture, uri: &str) -> Vec<u8> {
    let (status, _, bytes) = get_bytes(&f.app, uri, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    bytes
}

#[tokio::test]
async fn each_layer_is_served_from_its_least_zoom() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let at = |z: u8| TileCoord::containing(c.x, c.y, z).expect("a tile");
    for (layer, minzoom) in [
        ("cells", 13),
        ("grids", 12),
        ("components", 13),
        ("facilities", 0),
        ("hazards", 0),
        ("zones", 0),
        ("areas", 0),
        ("base", 0),
        ("risk", 0),
    ] {
        let tj = get(&f.app, &format!("/tiles/{layer}.json")).await;
        assert_eq!(tj.status, StatusCode::OK, "{layer}");
        assert_eq!(tj.body["minzoom"], minzoom, "{layer}: {}", tj.body);
        let ext = if layer == "risk" { "png" } else { "mvt" };
        let t = at(minzoom);
        let uri = format!("/tiles/{layer}/{minzoom}/{}/{}.{ext}", t.x, t.y);
        tile_bytes(&f, &uri).await;
        if minzoom > 0 {
            let t = at(minzoom - 1);
            let uri = format!("/tiles/{layer}/{}/{}/{}.mvt", minzoom - 1, t.x, t.y);
            let detail = problem(&get(&f.app, &uri).await, StatusCode::NOT_FOUND, &uri);
            assert!(
                detail.contains(&format!("from zoom {minzoom}")),
                "{uri}: {detail}"
            );
        }
    }
    let layers = |body: &serde_json::Value| -> Vec<(String, u64)> {
        body["vector_layers"]
            .as_array()
            .expect("vector_layers")
            .iter()
            .map(|l| {
                (
                    l["id"].as_str().expect("id").to_owned(),
                    l["minzoom"].as_u64().expect("minzoom"),
                )
            })
            .collect()
    };
    let areas = get(&f.app, "/tiles/areas.json").await;
    assert_eq!(
        layers(&areas.body),
        [
            ("districts", 0),
            ("subdistricts", 8),
            ("communities", 10),
            ("area_labels", 0)
        ]
        .map(|(l, z)| (l.to_owned(), z))
    );
    let base = get(&f.app, "/tiles/base.json").await;
    assert!(layers(&base.body).contains(&("buildings".to_owned(), 14)));
    // Facilities by kind: at each zoom, exactly those of the kinds shown
    // there within the buffered tile (brute force over the stored ones).
    for z in [9u8, 11, 12, 15] {
        let t = at(z);
        let uri = format!("/tiles/facilities/{z}/{}/{}.mvt", t.x, t.y);
        let got: BTreeSet<u64> = decode_mvt(tile_bytes(&f, &uri).await, "facilities")
            .iter()
            .filter_map(|x| x.id)
            .collect();
        let g = grown(t);
        let expected: BTreeSet<u64> = f
            .city
            .facilities
            .iter()
            .filter(|x| x.location.intersects(&g) && z >= facility_minzoom(x.kind))
            .map(|x| x.id as u64)
            .collect();
        assert_eq!(got, expected, "{uri}");
        if z == 9 {
            assert!(
                f.city
                    .facilities
                    .iter()
                    .any(|x| facility_minzoom(x.kind) > 9),
                "the fixture has facilities left out at zoom 9"
            );
        }
    }
}

/// Cells of each level (blue, yellow, orange, red) in the area `code`, and
/// the highest level, from the engine's risk map cell by cell.
fn counts_of(f: &Fixture, code: &str) -> ([i64; 4], Option<RiskLevel>) {
    let engine = f.state.engine();
    let mut n = [0i64; 4];
    let mut highest = None;
    for r in engine.risk.map.cells.iter() {
        if r.community.to_string().starts_with(code) {
            n[r.level as usize] += 1;
            highest = highest.max(Some(r.level));
        }
    }
    (n, highest)
}

fn int(x: &mvt_reader::feature::Feature, key: &str) -> i64 {
    crate::risk::int(x, key).unwrap_or_else(|| panic!("{key}: an integer"))
}

/// Checks the `areas` tile `t`: each layer present from its zoom, every
/// area meeting the buffered tile there with the counts of its cells, its
/// outline clipped to the tile. Returns the areas checked.
async fn check_areas_tile(f: &Fixture, t: TileCoord) -> usize {
    let uri = format!("/tiles/areas/{}/{}/{}.mvt", t.z, t.x, t.y);
    let bytes = tile_bytes(f, &uri).await;
    let g = grown(t);
    let mut checked = 0;
    for (layer, minzoom, areas) in [
        ("districts", 0, &f.city.districts),
        ("subdistricts", 8, &f.city.subdistricts),
        ("communities", 10, &f.city.communities),
    ] {
        let features = decode_mvt(bytes.clone(), layer);
        let expected: BTreeSet<u64> = if t.z >= minzoom {
            areas
                .iter()
                .filter(|a| a.geometry.intersects(&g))
                .map(|a| a.code.value())
                .collect()
        } else {
            BTreeSet::new()
        };
        let got: BTreeSet<u64> = features.iter().filter_map(|x| x.id).collect();
        assert_eq!(got, expected, "{uri}: {layer}");
        for x in &features {
            let code = crate::risk::string(x, "code");
            let area: &AdminArea = areas
                .iter()
                .find(|a| a.code.to_string() == code)
                .expect("a stored area");
            let (n, highest) = counts_of(f, &code);
            let got = [
                int(x, "blue"),
                int(x, "yellow"),
                int(x, "orange"),
                int(x, "red"),
            ];
            assert_eq!(got, n, "{uri}: {layer} {code}");
            assert_eq!(int(x, "cells"), n.iter().sum::<i64>(), "{uri}: {code}");
            let level = x
                .properties
                .as_ref()
                .and_then(|p| p.get("level"))
                .map(|v| match v {
                    mvt_reader::feature::Value::String(s) => s.clone(),
                    other => panic!("level: {other:?}"),
                });
            assert_eq!(
                level.as_deref(),
                highest.map(RiskLevel::as_str),
                "{uri}: {code}"
            );
            let Geometry::MultiPolygon(decoded) = &x.geometry else {
                panic!("{uri}: {code} is a polygon")
            };
            let (got, expected, perimeter) = grid_areas(t, &area.geometry, decoded);
            assert!(
                (got - expected).abs() <= 0.5 * perimeter + 1.0,
                "{uri}: {code}: {got} units² on the grid, {expected} clipped"
            );
            checked += 1;
        }
    }
    checked
}

#[tokio::test]
async fn area_tiles_count_the_cells_of_each_level_and_follow_writes() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let mut checked = 0;
    for z in [9u8, 11, 13, 16] {
        let t = TileCoord::containing(c.x, c.y, z).expect("a tile");
        checked += check_areas_tile(&f, t).await;
    }
    assert!(checked >= 10, "only {checked} areas checked");
    // Move the red area to a corner: the counts of the areas it left and
    // of those it reached change in every areas tile, however far.
    let t = TileCoord::containing(c.x, c.y, 11).expect("a tile");
    let before = tile_bytes(&f, &format!("/tiles/areas/11/{}/{}.mvt", t.x, t.y)).await;
    let to = Coord {
        x: f.bbox.min().x + 0.2 * f.bbox.width(),
        y: f.bbox.min().y + 0.2 * f.bbox.height(),
    };
    assert_eq!(move_red_area(&f, to).await, StatusCode::OK);
    let key = TileKey {
        layer: "areas",
        coord: t,
        scale: 1,
    };
    assert!(
        f.state.tiles.cache.get(&key).is_none(),
        "the write dropped it"
    );
    let after = tile_bytes(&f, &format!("/tiles/areas/11/{}/{}.mvt", t.x, t.y)).await;
    assert_ne!(before, after, "the counts moved with the area");
    assert!(check_areas_tile(&f, t).await > 0);
}

/// Checks the low-zoom risk tile of zoom `z` drawn `scale` × 256 px over
/// the fixture's centre pixel by pixel: every pixel a cell's box meets has
/// the highest level among them (the engine's risk map now, cell by cell),
/// every other one is clear. Returns the coloured pixels.
async fn check_low_zoom_risk(f: &Fixture, z: u8, scale: u8) -> usize {
    let engine = f.state.engine();
    let cells: Vec<(Rect<f64>, RiskLevel)> = engine
        .cells
        .iter()
        .zip(engine.risk.map.cells.iter())
        .map(|(c, r)| (c.geometry.bounding_rect().expect("a box"), r.level))
        .collect();
    let palette = Palette::default();
    let c = f.bbox.center();
    let t = TileCoord::containing(c.x, c.y, z).expect("a tile");
    let size = 256 * u32::from(scale);
    let suffix = if scale == 2 { "@2x" } else { "" };
    let uri = format!("/tiles/risk/{z}/{}/{}{suffix}.png", t.x, t.y);
    let png = Decoded::new(&tile_bytes(f, &uri).await);
    let mut expected: Vec<Option<RiskLevel>> = vec![None; (size * size) as usize];
    for (r, level) in &cells {
        let nw = t.to_px(
            Coord {
                x: r.min().x,
                y: r.max().y,
            },
            size,
        );
        let se = t.to_px(
            Coord {
                x: r.max().x,
                y: r.min().y,
            },
            size,
        );
        let range = |a: f64, b: f64| {
            (a.floor().max(0.0) as u32)..=(b.floor().min(f64::from(size) - 1.0) as u32)
        };
        for y in range(nw.y, se.y) {
            for x in range(nw.x, se.x) {
                let e = &mut expected[(y * size + x) as usize];
                *e = (*e).max(Some(*level));
            }
        }
    }
    let mut coloured = 0;
    for y in 0..size {
        for x in 0..size {
            let want = expected[(y * size + x) as usize];
            let got = png.at(x, y);
            match want {
                Some(l) => {
                    assert_eq!(got, palette.of(l).0, "{uri}: pixel ({x}, {y}) is {l}");
                    coloured += 1;
                }
                None => assert_eq!(got[3], 0, "{uri}: pixel ({x}, {y}) holds no cell"),
            }
        }
    }
    assert!(coloured > 0, "{uri}");
    coloured
}

#[tokio::test]
async fn low_zoom_risk_tiles_show_the_highest_level_meeting_each_pixel() {
    let f = fixture(Backend::Gpkg).await;
    for (z, scale) in [(10u8, 1u8), (9, 2), (8, 1), (4, 1)] {
        check_low_zoom_risk(&f, z, scale).await;
    }
    // After a write the overview is made again: the tiles follow.
    let c = f.bbox.center();
    let t = TileCoord::containing(c.x, c.y, 10).expect("a tile");
    let uri = format!("/tiles/risk/10/{}/{}.png", t.x, t.y);
    let before = tile_bytes(&f, &uri).await;
    let to = Coord {
        x: f.bbox.min().x + 0.2 * f.bbox.width(),
        y: f.bbox.min().y + 0.2 * f.bbox.height(),
    };
    assert_eq!(move_red_area(&f, to).await, StatusCode::OK);
    assert_ne!(
        tile_bytes(&f, &uri).await,
        before,
        "{uri} moved with the red area"
    );
    for (z, scale) in [(10u8, 1u8), (9, 2)] {
        check_low_zoom_risk(&f, z, scale).await;
    }
}

#[tokio::test]
async fn places_group_neighbouring_communities_largest_first() {
    // The test town, and one small community 2,000 km away.
    let mut t = civgrid::synth::synthesize(&civgrid::synth::SynthConfig::test()).expect("the town");
    let far = crate::common::rect(24.94, 60.17, 24.946, 60.173);
    t.communities.push(AdminArea {
        code: "990101001001".parse().expect("a code"),
        name: "far community".into(),
        kind: Some(civgrid::CommunityKind::Urban),
        geometry: far.clone(),
    });
    let (_holder, store) = crate::cells::store_with(Backend::Gpkg, &t).await;
    let cells = crate::cells::active_cells(&store).await;
    let state = civgrid_service::AppState::load(store).await.expect("load");
    let app = civgrid_service::app(state);
    let r = get(&app, "/api/v1/places").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let places = r.body["places"].as_array().expect("places");
    assert_eq!(places.len(), 2, "{}", r.body);
    // Brute force: the cells inside each community's box, by place.
    let town: Vec<&civgrid::cells::Cell> = cells
        .iter()
        .filter(|c| !c.code.to_string().starts_with("990101"))
        .collect();
    let bounds = |p: &serde_json::Value| -> Rect<f64> {
        let b: Vec<f64> = p["bounds"]
            .as_array()
            .expect("bounds")
            .iter()
            .map(|v| v.as_f64().expect("a number"))
            .collect();
        Rect::new((b[0], b[1]), (b[2], b[3]))
    };
    assert_eq!(places[0]["cells"], town.len(), "{}", places[0]);
    assert_eq!(
        places[1]["cells"],
        cells.len() - town.len(),
        "{}",
        places[1]
    );
    assert_eq!(places[1]["name"], "far community");
    assert_eq!(places[1]["communities"], 1);
    assert_eq!(places[0]["communities"], t.communities.len() - 1);
    let (b0, b1) = (bounds(&places[0]), bounds(&places[1]));
    for c in &cells {
        let r = c.geometry.bounding_rect().expect("a box");
        let holder = if town.iter().any(|x| x.code == c.code) {
            b0
        } else {
            b1
        };
        assert!(
            holder.min().x <= r.min().x + 1e-9
                && holder.min().y <= r.min().y + 1e-9
                && holder.max().x >= r.max().x - 1e-9
                && holder.max().y >= r.max().y - 1e-9,
            "cell {} inside its place's bounds",
            c.code
        );
    }
    // The town's box is the communities' box, not a continent.
    assert!(b0.width() < 0.2 && b0.height() < 0.2, "{b0:?}");
    let district = t.districts[0].code.to_string();
    assert_eq!(places[0]["district"], district);
    if !t.districts[0].name.is_empty() {
        assert_eq!(places[0]["name"], t.districts[0].name.as_str());
    }
}

/// Runs `civgrid --store STORE export tiles ARGS…`; its status, stdout and stderr.
fn export_tiles(store: &str, args: &[&str]) -> (bool, String, String) {
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(["--store", store, "export", "tiles"])
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the civgrid binary runs");
    (
        run.status.success(),
        String::from_utf8_lossy(&run.stdout).into_owned(),
        String::from_utf8_lossy(&run.stderr).into_owned(),
    )
}

#[tokio::test]
async fn exported_mbtiles_read_back_by_gdal_and_bad_input_leaves_nothing() {
    let f = fixture(Backend::Gpkg).await;
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("city.mbtiles");
    let path = out.to_str().expect("a path");
    let (ok, stdout, stderr) = export_tiles(&f.holder.spec, &["--out", path, "--maxzoom", "16"]);
    assert!(ok, "{stderr}");
    assert!(
        stdout.starts_with("exported ") && stdout.contains(" tiles of base, areas, cells"),
        "{stdout}"
    );
    // GDAL's MBTiles driver (its own MVT decoder) reads every cell at the
    // greatest zoom, every community from zoom 10, the roads, with fields.
    let distinct = |zoom: u8, layer: &str| {
        let out = std::process::Command::new("ogrinfo")
            .args([
                "-ro",
                "-q",
                "-oo",
                &format!("ZOOM_LEVEL={zoom}"),
                path,
                "-sql",
            ])
            .arg(format!("SELECT COUNT(DISTINCT code) AS n FROM {layer}"))
            .output()
            .expect("ogrinfo runs");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.lines()
            .find_map(|l| {
                l.trim()
                    .strip_prefix("n (Integer) = ")?
                    .trim()
                    .parse::<usize>()
                    .ok()
            })
            .unwrap_or_else(|| {
                panic!(
                    "no count of {layer} at zoom {zoom}: {text} {}",
                    String::from_utf8_lossy(&out.stderr)
                )
            })
    };
    assert_eq!(distinct(16, "cells"), f.cells.len());
    assert_eq!(distinct(14, "cells"), f.cells.len());
    assert_eq!(distinct(12, "communities"), f.city.communities.len());
    assert_eq!(distinct(9, "districts"), f.city.districts.len());
    let info = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", "-oo", "ZOOM_LEVEL=16", path, "cells"])
        .output()
        .expect("ogrinfo runs");
    let info = String::from_utf8_lossy(&info.stdout);
    for field in ["code: String", "level: String", "households: Real"] {
        assert!(info.contains(field), "{field} in {info}");
    }
    // A raster archive of the risk map: PNG tiles.
    let risk = dir.path().join("risk.mbtiles");
    let (ok, stdout, stderr) = export_tiles(
        &f.holder.spec,
        &[
            "--out",
            risk.to_str().expect("a path"),
            "--layers",
            "risk",
            "--maxzoom",
            "15",
        ],
    );
    assert!(ok && stdout.contains("tiles of risk"), "{stdout} {stderr}");
    let info = std::process::Command::new("gdalinfo")
        .arg(&risk)
        .output()
        .expect("gdalinfo runs");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.contains("Driver: MBTiles")
            && info.contains("ZOOM_LEVEL=15")
            && info.contains("format=png"),
        "{info}"
    );
    // Inside the red area, GDAL reads the red of the palette.
    let c = f.bbox.center();
    let at = std::process::Command::new("gdallocationinfo")
        .args(["-valonly", "-wgs84"])
        .arg(&risk)
        .args([(c.x + 0.001).to_string(), (c.y + 0.00075).to_string()])
        .output()
        .expect("gdallocationinfo runs");
    let bands: Vec<u8> = String::from_utf8_lossy(&at.stdout)
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect();
    assert_eq!(
        bands,
        Palette::default().red.0.to_vec(),
        "RGBA inside the red area"
    );
    // Bad input: each named, and a file already at the destination kept.
    let kept = dir.path().join("kept.pmtiles");
    std::fs::write(&kept, b"an earlier archive").expect("a file");
    let k = kept.to_str().expect("a path");
    for (args, says) in [
        (
            vec!["--out", k, "--bbox", "10,10,11,11"],
            "outside the territory",
        ),
        (
            vec!["--out", k, "--bbox", "10,10,11"],
            "--bbox \"10,10,11\"",
        ),
        (
            vec!["--out", k, "--minzoom", "9", "--maxzoom", "3"],
            "--minzoom 9 --maxzoom 3",
        ),
        (vec!["--out", k, "--maxzoom", "23"], "maxzoom ≤ 22"),
        (
            vec!["--out", k, "--layers", "cells,roads"],
            "no tile layer \"roads\"",
        ),
        (
            vec!["--out", k, "--layers", "risk,cells"],
            "risk is a raster",
        ),
        (
            vec!["--out", "/nonexistent/dir/city.pmtiles"],
            "/nonexistent/dir/city.pmtiles",
        ),
        (
            vec![
                "--out",
                dir.path().join("city.zip").to_str().expect("a path"),
            ],
            "city.zip: unknown format",
        ),
    ] {
        let (ok, _, stderr) = export_tiles(&f.holder.spec, &args);
        assert!(!ok, "{args:?} is refused");
        assert!(stderr.contains(says), "{args:?}: {says:?} in {stderr}");
        assert_eq!(
            std::fs::read(&kept).expect("kept"),
            b"an earlier archive",
            "{args:?}"
        );
    }
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args([
            "--store",
            &f.holder.spec,
            "export",
            "cells",
            "--out",
            k,
            "--maxzoom",
            "3",
        ])
        .output()
        .expect("the civgrid binary runs");
    assert!(!run.status.success());
    assert!(String::from_utf8_lossy(&run.stderr).contains("options of `export tiles`"));
    // Nothing half-written is left beside the destinations.
    let left: Vec<String> = std::fs::read_dir(dir.path())
        .expect("the folder")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(left.is_empty(), "{left:?}");
}

/// The 13 real districts of Hangzhou through GDAL (repaired), and villages
/// of about 1 km² cut from 西湖区's real boundary over an 8 × 8 km window
/// (BooleanOps), for cells.
fn real_city() -> (civgrid::Territory, Rect<f64>) {
    let path = crate::common::data_dir().join("hangzhou-districts.geojson");
    let opts = civgrid_service::import::ImportOptions {
        repair: true,
        ..civgrid_service::import::ImportOptions::default()
    };
    let mut t = civgrid_service::import::read_file(&path, &opts)
        .expect("the real districts import with --repair")
        .batch
        .territory;
    let xihu = t
        .districts
        .iter()
        .find(|d| d.code.to_string() == "330106")
        .expect("西湖区")
        .geometry
        .clone();
    let window = Rect::new((120.08, 30.20), (120.16, 30.28));
    let step = 0.01;
    let mut n = 0u16;
    for i in 0..8 {
        for j in 0..8 {
            let (x, y) = (
                window.min().x + f64::from(i) * step,
                window.min().y + f64::from(j) * step,
            );
            let square = crate::common::rect(x, y, x + step, y + step);
            let village = square.intersection(&xihu);
            if village.unsigned_area() < 1e-7 {
                continue;
            }
            n += 1;
            let sub = 1 + (n - 1) / 50;
            let seq = 1 + (n - 1) % 50;
            t.communities.push(AdminArea {
                code: format!("330106{sub:03}{seq:03}").parse().expect("a code"),
                name: format!("西湖村{n}"),
                kind: Some(civgrid::CommunityKind::Rural),
                geometry: village,
            });
        }
    }
    assert!(n > 20, "{n} villages");
    (t, window)
}

/// Every point of a lattice over the tile grid inside the true shapes (and
/// over a grid unit from their edges) lies in exactly one decoded polygon:
/// no gap and no overlap between generalised neighbours at the tile's
/// resolution. Returns the points checked.
fn check_no_gaps(
    what: &str,
    t: TileCoord,
    truth: &[MultiPolygon<f64>],
    decoded: &[MultiPolygon<f32>],
) -> usize {
    use geo::{BoundingRect, Contains, Distance};
    // The true shapes meeting the tile, projected, with their boxes.
    let tile_box = Rect::new((-64.0, -64.0), (4160.0, 4160.0));
    let truth: Vec<(MultiPolygon<f64>, Rect<f64>)> = truth
        .iter()
        .map(|g| on_grid(t, g))
        .filter_map(|g| {
            let b = g.bounding_rect()?;
            b.intersects(&tile_box).then_some((g, b))
        })
        .collect();
    let in_box = |b: &Rect<f64>, p: geo_types::Point<f64>, margin: f64| {
        b.min().x - margin <= p.x()
            && p.x() <= b.max().x + margin
            && b.min().y - margin <= p.y()
            && p.y() <= b.max().y + margin
    };
    let decoded: Vec<(MultiPolygon<f64>, Rect<f64>)> = decoded
        .iter()
        .filter_map(|m| {
            let m = wide(m);
            let b = m.bounding_rect()?;
            Some((m, b))
        })
        .collect();
    let mut checked = 0;
    let step = 8.0;
    let mut y = 4.0;
    while y < 4096.0 {
        let mut x = 4.0;
        while x < 4096.0 {
            let p = geo_types::Point::new(x, y);
            x += step;
            if !truth
                .iter()
                .any(|(g, b)| in_box(b, p, 0.0) && g.contains(&p))
            {
                continue;
            }
            let near_edge = truth.iter().any(|(g, b)| {
                in_box(b, p, 2.0)
                    && g.iter().any(|poly| {
                        std::iter::once(poly.exterior())
                            .chain(poly.interiors())
                            .any(|r| Euclidean.distance(&p, r) <= 1.0)
                    })
            });
            if near_edge {
                continue;
            }
            let holders = decoded
                .iter()
                .filter(|(m, b)| in_box(b, p, 0.0) && m.contains(&p))
                .count();
            assert_eq!(
                holders,
                1,
                "{what} {}/{}/{}: grid point ({}, {}) is in {holders} decoded polygons",
                t.z,
                t.x,
                t.y,
                p.x(),
                p.y()
            );
            checked += 1;
        }
        y += step;
    }
    checked
}

#[tokio::test]
async fn a_real_boundary_city_has_small_valid_gap_free_tiles_at_every_zoom() {
    let (t, window) = real_city();
    let (_holder, store) = crate::cells::store_with(Backend::Gpkg, &t).await;
    let cells = crate::cells::active_cells(&store).await;
    assert!(cells.len() > 2_000, "{} cells", cells.len());
    let state = civgrid_service::AppState::load(store).await.expect("load");
    let app = civgrid_service::app(state);
    let extent = civgrid::extent::extent(
        t.districts
            .iter()
            .filter_map(|d| d.geometry.bounding_rect()),
    )
    .expect("an extent");
    // Every tile of z0–z10 over the whole city, and of z11–z14 over the
    // villages, of every layer with something there: under 500 KB, and
    // every decoded polygon valid and clipped to the buffered tile.
    let mut largest = (0, String::new());
    let mut polygons = 0;
    for z in 0..=14u8 {
        let over = if z <= 10 { extent } else { window };
        let (Some(nw), Some(se)) = (
            TileCoord::containing(over.min().x, over.max().y, z),
            TileCoord::containing(over.max().x, over.min().y, z),
        ) else {
            panic!("tiles at {z}")
        };
        for x in nw.x..=se.x {
            for y in nw.y..=se.y {
                for (layer, sub, minzoom) in [
                    (
                        "areas",
                        &["districts", "subdistricts", "communities"][..],
                        0,
                    ),
                    ("cells", &["cells"][..], 13),
                ] {
                    if z < minzoom {
                        continue;
                    }
                    let uri = format!("/tiles/{layer}/{z}/{x}/{y}.mvt");
                    let (status, _, bytes) = get_bytes(&app, &uri, None).await;
                    assert_eq!(status, StatusCode::OK, "{uri}");
                    assert!(bytes.len() <= 500_000, "{uri}: {} bytes", bytes.len());
                    if bytes.len() > largest.0 {
                        largest = (bytes.len(), uri.clone());
                    }
                    for name in sub {
                        for f in decode_mvt(bytes.clone(), name) {
                            let Geometry::MultiPolygon(m) = &f.geometry else {
                                panic!("{uri}: {name} holds polygons: {:?}", f.geometry)
                            };
                            let m64 = wide(m);
                            assert!(
                                m64.unsigned_area() > 0.0,
                                "{uri}: {name} {:?} has an area",
                                f.id
                            );
                            for c in m64.iter().flat_map(|p| p.exterior().coords()) {
                                assert!(
                                    (WINDOW.0..=WINDOW.1).contains(&c.x)
                                        && (WINDOW.0..=WINDOW.1).contains(&c.y),
                                    "{uri}: {name} {:?} vertex {c:?} outside the buffered tile",
                                    f.id
                                );
                            }
                            // Rings of three distinct points or more (closed).
                            for p in m64.iter() {
                                assert!(
                                    p.exterior().0.len() >= 4,
                                    "{uri}: {name} {:?}: {:?}",
                                    f.id,
                                    p.exterior()
                                );
                            }
                            polygons += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(polygons > 1_000, "{polygons} polygons decoded");
    println!("largest tile {} bytes at {}", largest.0, largest.1);
    // No gaps between neighbouring villages (zoom 11, 12) or cells (13,
    // 14) as generalised, at the window's centre.
    let c = window.center();
    let villages: Vec<MultiPolygon<f64>> =
        t.communities.iter().map(|v| v.geometry.clone()).collect();
    let cell_shapes: Vec<MultiPolygon<f64>> = cells.iter().map(|c| c.geometry.clone()).collect();
    for (z, layer, sub, truth) in [
        (11u8, "areas", "communities", &villages),
        (12, "areas", "communities", &villages),
        (13, "cells", "cells", &cell_shapes),
        (14, "cells", "cells", &cell_shapes),
    ] {
        let tile = TileCoord::containing(c.x, c.y, z).expect("a tile");
        let uri = format!("/tiles/{layer}/{z}/{}/{}.mvt", tile.x, tile.y);
        let (_, _, bytes) = get_bytes(&app, &uri, None).await;
        let decoded: Vec<MultiPolygon<f32>> = decode_mvt(bytes, sub)
            .into_iter()
            .filter_map(|f| match f.geometry {
                Geometry::MultiPolygon(m) => Some(m),
                _ => None,
            })
            .collect();
        let checked = check_no_gaps(sub, tile, truth, &decoded);
        assert!(checked > 1_000, "{uri}: {checked} points checked");
    }
}
