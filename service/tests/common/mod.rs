//! Shared helpers: fresh stores (GeoPackage files and PostGIS databases),
//! small fixture files written as GeoJSON and converted with `ogr2ogr`, and
//! territory comparisons.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use civgrid::{
    AdminArea, AdminCode, Assessment, Barrier, BarrierKind, Building, CommunityKind, Facility,
    FacilityKind, Hazard, HazardGeometry, Incident, LocalProjection, Oneway, RiskLevel, Road,
    Territory,
};
use geo::Area;
use geo_types::{Coord, LineString, MultiPolygon, Point, Polygon};
use serde_json::{json, Value};
use sqlx::{Connection, PgConnection};

pub mod process;

// ---------------------------------------------------------------------------
// Stores
// ---------------------------------------------------------------------------

/// The environment variable naming the PostGIS server the tests use.
pub const POSTGIS_ENV: &str = "CIVGRID_TEST_POSTGIS";

/// The two store backends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A GeoPackage file in a temporary directory.
    Gpkg,
    /// A fresh database on the PostGIS server of `CIVGRID_TEST_POSTGIS`.
    Postgis,
}

/// The store specs to run one suite against: every backend.
pub fn both_stores() -> [Backend; 2] {
    [Backend::Gpkg, Backend::Postgis]
}

/// A fresh, empty store location: a `.gpkg` path or a `postgres://` URL.
/// The temporary directory or database goes away when this is dropped.
pub struct TestStore {
    /// What `civgrid_service::store::open` takes.
    pub spec: String,
    /// Which backend.
    pub backend: Backend,
    _dir: Option<tempfile::TempDir>,
    _db: Option<PgDatabase>,
}

impl TestStore {
    /// A fresh store of `backend`.
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Gpkg => fresh_gpkg(),
            Backend::Postgis => fresh_postgis().await,
        }
    }
}

/// A fresh store of `backend` holding the synthetic test city (imported
/// as source `synthetic`), and the city as generated.
pub async fn test_city_store(
    backend: Backend,
) -> (
    TestStore,
    std::sync::Arc<dyn civgrid_service::store::Store>,
    Territory,
) {
    let holder = TestStore::new(backend).await;
    let city =
        civgrid::synth::synthesize(&civgrid::synth::SynthConfig::test()).expect("the test city");
    let store = civgrid_service::store::open(&holder.spec)
        .await
        .expect("open the store");
    store
        .import(&[civgrid_service::store::ImportBatch {
            source: "synthetic".into(),
            territory: city.clone(),
        }])
        .await
        .expect("import the test city");
    (holder, store, city)
}

/// A fresh GeoPackage path (the file does not exist yet) in its own tempdir.
pub fn fresh_gpkg() -> TestStore {
    let dir = tempfile::tempdir().expect("cannot create a temporary directory");
    let path = dir.path().join("store.gpkg");
    TestStore {
        spec: path.to_str().expect("temporary path is UTF-8").to_owned(),
        backend: Backend::Gpkg,
        _dir: Some(dir),
        _db: None,
    }
}

/// The PostGIS server URL from `CIVGRID_TEST_POSTGIS`; panics with what to
/// do when it is not set: PostGIS tests never skip.
pub fn postgis_url() -> String {
    match std::env::var(POSTGIS_ENV) {
        Ok(url) if !url.trim().is_empty() => url.trim().to_owned(),
        _ => panic!(
            "{POSTGIS_ENV} is not set: the PostGIS store tests need a real PostGIS server and \
             do not skip. Start one and point the tests at it:\n    \
             export {POSTGIS_ENV}=$(scripts/postgis.sh)\nthen run the tests again."
        ),
    }
}

/// `url` with its database name replaced by `db`.
fn with_database(url: &str, db: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_end = base[scheme_end..]
        .find('/')
        .map_or(base.len(), |i| scheme_end + i);
    let mut out = format!("{}/{db}", &base[..host_end]);
    if let Some(q) = query {
        out.push('?');
        out.push_str(q);
    }
    out
}

async fn admin_connection(url: &str) -> PgConnection {
    match PgConnection::connect(url).await {
        Ok(c) => c,
        Err(e) => panic!(
            "cannot reach the PostGIS server of {POSTGIS_ENV} ({}): {e}\n\
             Start it and set the variable:\n    export {POSTGIS_ENV}=$(scripts/postgis.sh)",
            redact(url)
        ),
    }
}

fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}…@{}", &url[..s + 3], &url[at + 1..]),
        _ => url.to_owned(),
    }
}

static DB_COUNTER: AtomicUsize = AtomicUsize::new(0);
static SWEPT: AtomicBool = AtomicBool::new(false);

/// A test database, dropped (with its connections) when this is dropped.
struct PgDatabase {
    admin_url: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs inside the test's runtime: do the async work on a
        // thread of its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(mut c) = PgConnection::connect(&url).await {
                    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .execute(&mut c)
                        .await;
                }
            });
        })
        .join();
    }
}

/// Drops test databases left by earlier runs whose process is gone.
async fn sweep_stale(c: &mut PgConnection) {
    if SWEPT.swap(true, Ordering::SeqCst) {
        return;
    }
    let names: Vec<String> =
        sqlx::query_scalar("SELECT datname FROM pg_database WHERE datname LIKE 'civgrid\\_t\\_%'")
            .fetch_all(&mut *c)
            .await
            .unwrap_or_default();
    for name in names {
        let pid = name.split('_').nth(2).and_then(|p| p.parse::<u32>().ok());
        if pid
            .is_some_and(|p| p != std::process::id() && !Path::new(&format!("/proc/{p}")).exists())
        {
            let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut *c)
                .await;
        }
    }
}

/// A fresh database `civgrid_t_<pid>_<counter>` on the PostGIS server.
pub async fn fresh_postgis() -> TestStore {
    let url = postgis_url();
    let mut c = admin_connection(&url).await;
    sweep_stale(&mut c).await;
    let name = format!(
        "civgrid_t_{}_{}",
        std::process::id(),
        DB_COUNTER.fetch_add(1, Ordering::SeqCst)
    );
    let mut attempt = 0;
    loop {
        match sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut c)
            .await
        {
            Ok(_) => break,
            // Two CREATE DATABASE at once can find template1 busy: retry.
            Err(e) if attempt < 20 && e.to_string().contains("being accessed by other users") => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => panic!(
                "cannot create test database {name} on {}: {e}",
                redact(&url)
            ),
        }
    }
    TestStore {
        spec: with_database(&url, &name),
        backend: Backend::Postgis,
        _dir: None,
        _db: Some(PgDatabase {
            admin_url: url,
            name,
        }),
    }
}

/// An error and its sources, `: `-separated (what a user sees with `{:#}`).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

// ---------------------------------------------------------------------------
// Territory comparison
// ---------------------------------------------------------------------------

/// Largest coordinate difference between two coordinate lists (∞ when their
/// lengths differ).
pub fn coords_diff(a: &[Coord<f64>], b: &[Coord<f64>]) -> f64 {
    if a.len() != b.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(p, q)| (p.x - q.x).abs().max((p.y - q.y).abs()))
        .fold(0.0, f64::max)
}

/// Largest coordinate difference between two multipolygons of the same
/// structure (∞ when the structure differs).
pub fn multipolygon_diff(a: &MultiPolygon<f64>, b: &MultiPolygon<f64>) -> f64 {
    if a.0.len() != b.0.len() {
        return f64::INFINITY;
    }
    a.iter()
        .zip(b)
        .map(|(p, q)| {
            if p.interiors().len() != q.interiors().len() {
                return f64::INFINITY;
            }
            std::iter::once((p.exterior(), q.exterior()))
                .chain(p.interiors().iter().zip(q.interiors()))
                .map(|(r, s)| coords_diff(&r.0, &s.0))
                .fold(0.0, f64::max)
        })
        .fold(0.0, f64::max)
}

fn point_diff(a: Point<f64>, b: Point<f64>) -> f64 {
    coords_diff(&[a.0], &[b.0])
}

fn hazard_geometry_diff(a: &HazardGeometry, b: &HazardGeometry) -> f64 {
    match (a, b) {
        (HazardGeometry::Point(p), HazardGeometry::Point(q)) => point_diff(*p, *q),
        (HazardGeometry::Area(p), HazardGeometry::Area(q)) => multipolygon_diff(p, q),
        _ => f64::INFINITY,
    }
}

fn first_coord(g: &MultiPolygon<f64>) -> (f64, f64) {
    g.0.first()
        .and_then(|p| p.exterior().0.first())
        .map_or((0.0, 0.0), |c| (c.x, c.y))
}

/// A copy of `t` with every id 0 and every non-administrative layer sorted
/// by its attributes and first coordinate, so that territories read in a
/// different order compare equal.
pub fn normalized(t: &Territory) -> Territory {
    let mut t = t.clone();
    for a in [&mut t.districts, &mut t.subdistricts, &mut t.communities] {
        a.sort_by_key(|a| a.code);
    }
    let key = |(x, y): (f64, f64)| (x.to_bits(), y.to_bits());
    t.buildings.iter_mut().for_each(|b| b.id = 0);
    t.buildings.sort_by(|a, b| {
        (&a.name, key(first_coord(&a.geometry))).cmp(&(&b.name, key(first_coord(&b.geometry))))
    });
    t.facilities.iter_mut().for_each(|f| f.id = 0);
    t.facilities.sort_by(|a, b| {
        (a.kind, &a.name, key((a.location.x(), a.location.y()))).cmp(&(
            b.kind,
            &b.name,
            key((b.location.x(), b.location.y())),
        ))
    });
    t.hazards.iter_mut().for_each(|h| h.id = 0);
    let hazard_xy = |h: &Hazard| match &h.geometry {
        HazardGeometry::Point(p) => (p.x(), p.y()),
        HazardGeometry::Area(a) => first_coord(a),
    };
    t.hazards.sort_by(|a, b| {
        (&a.kind, &a.name, key(hazard_xy(a))).cmp(&(&b.kind, &b.name, key(hazard_xy(b))))
    });
    t.roads.iter_mut().for_each(|r| r.id = 0);
    let road_xy = |r: &Road| road_xy_of(&r.geometry);
    t.roads.sort_by(|a, b| {
        (&a.class, &a.name, key(road_xy(a))).cmp(&(&b.class, &b.name, key(road_xy(b))))
    });
    t.barriers.iter_mut().for_each(|b| b.id = 0);
    t.barriers.sort_by(|a, b| {
        (a.kind, &a.name, key(road_xy_of(&a.geometry))).cmp(&(
            b.kind,
            &b.name,
            key(road_xy_of(&b.geometry)),
        ))
    });
    t.incidents.iter_mut().for_each(|i| i.id = 0);
    t.incidents.sort_by(|a, b| {
        (
            &a.kind,
            a.time_unix_s,
            key((a.location.x(), a.location.y())),
        )
            .cmp(&(
                &b.kind,
                b.time_unix_s,
                key((b.location.x(), b.location.y())),
            ))
    });
    t
}

fn road_xy_of(l: &LineString<f64>) -> (f64, f64) {
    l.0.first().map_or((0.0, 0.0), |c| (c.x, c.y))
}

/// Asserts that `actual` holds the same features as `expected`, in the same
/// order, ids aside: every attribute equal and every coordinate within `tol`.
#[allow(clippy::too_many_lines)]
pub fn assert_same_territory(actual: &Territory, expected: &Territory, tol: f64, what: &str) {
    assert_eq!(actual.counts(), expected.counts(), "{what}: feature counts");
    let admin = |level: &str, a: &[AdminArea], e: &[AdminArea]| {
        for (i, (a, e)) in a.iter().zip(e).enumerate() {
            let at = format!("{what}: {level}[{i}] {}", e.code);
            assert_eq!(a.code, e.code, "{at}: code");
            assert_eq!(a.name, e.name, "{at}: name");
            assert_eq!(a.kind, e.kind, "{at}: kind");
            let d = multipolygon_diff(&a.geometry, &e.geometry);
            assert!(d <= tol, "{at}: geometry differs by {d} (> {tol})");
        }
    };
    admin("district", &actual.districts, &expected.districts);
    admin("subdistrict", &actual.subdistricts, &expected.subdistricts);
    admin("community", &actual.communities, &expected.communities);
    for (i, (a, e)) in actual.buildings.iter().zip(&expected.buildings).enumerate() {
        let at = format!("{what}: building[{i}] {:?}", e.name);
        assert_eq!(a.name, e.name, "{at}: name");
        assert_eq!(a.levels, e.levels, "{at}: levels");
        assert_eq!(a.households, e.households, "{at}: households");
        assert_eq!(
            a.households_estimated, e.households_estimated,
            "{at}: households_estimated"
        );
        let d = multipolygon_diff(&a.geometry, &e.geometry);
        assert!(d <= tol, "{at}: geometry differs by {d} (> {tol})");
    }
    for (i, (a, e)) in actual
        .facilities
        .iter()
        .zip(&expected.facilities)
        .enumerate()
    {
        let at = format!("{what}: facility[{i}] {:?}", e.name);
        assert_eq!(a.kind, e.kind, "{at}: kind");
        assert_eq!(a.name, e.name, "{at}: name");
        assert_eq!(a.capacity, e.capacity, "{at}: capacity");
        assert_eq!(a.staff, e.staff, "{at}: staff");
        assert_eq!(a.contact, e.contact, "{at}: contact");
        let d = point_diff(a.location, e.location);
        assert!(d <= tol, "{at}: location differs by {d} (> {tol})");
    }
    for (i, (a, e)) in actual.hazards.iter().zip(&expected.hazards).enumerate() {
        let at = format!("{what}: hazard[{i}] {:?}", e.name);
        assert_eq!(a.kind, e.kind, "{at}: kind");
        assert_eq!(a.name, e.name, "{at}: name");
        assert_eq!(a.assessment, e.assessment, "{at}: assessment");
        assert_eq!(a.level(), e.level(), "{at}: level");
        let d = hazard_geometry_diff(&a.geometry, &e.geometry);
        assert!(d <= tol, "{at}: geometry differs by {d} (> {tol})");
    }
    for (i, (a, e)) in actual.roads.iter().zip(&expected.roads).enumerate() {
        let at = format!("{what}: road[{i}] {:?}", e.name);
        assert_eq!(a.class, e.class, "{at}: class");
        assert_eq!(a.name, e.name, "{at}: name");
        assert_eq!(a.speed_kmh, e.speed_kmh, "{at}: speed_kmh");
        assert_eq!(a.oneway, e.oneway, "{at}: oneway");
        let d = coords_diff(&a.geometry.0, &e.geometry.0);
        assert!(d <= tol, "{at}: geometry differs by {d} (> {tol})");
    }
    for (i, (a, e)) in actual.barriers.iter().zip(&expected.barriers).enumerate() {
        let at = format!("{what}: barrier[{i}] {:?}", e.name);
        assert_eq!(a.kind, e.kind, "{at}: kind");
        assert_eq!(a.name, e.name, "{at}: name");
        let d = coords_diff(&a.geometry.0, &e.geometry.0);
        assert!(d <= tol, "{at}: geometry differs by {d} (> {tol})");
    }
    for (i, (a, e)) in actual.incidents.iter().zip(&expected.incidents).enumerate() {
        let at = format!("{what}: incident[{i}] {:?}", e.kind);
        assert_eq!(a.kind, e.kind, "{at}: kind");
        assert_eq!(a.time_unix_s, e.time_unix_s, "{at}: time");
        let d = point_diff(a.location, e.location);
        assert!(d <= tol, "{at}: location differs by {d} (> {tol})");
    }
}

/// Features of `t` outside the administrative layers (what a source brings
/// and a re-import of it replaces).
pub fn non_admin_count(t: &Territory) -> usize {
    let c = t.counts();
    c.total() - c.districts - c.subdistricts - c.communities
}

// ---------------------------------------------------------------------------
// Fixtures
// ---------------------------------------------------------------------------

/// A closed ring from its distinct corners (the first is repeated at the end).
pub fn ring(corners: &[(f64, f64)]) -> LineString<f64> {
    let mut c: Vec<Coord<f64>> = corners.iter().map(|&(x, y)| Coord { x, y }).collect();
    c.push(c[0]);
    LineString(c)
}

/// A one-polygon multipolygon from its exterior's distinct corners
/// (counter-clockwise) and its holes' (clockwise).
pub fn area(exterior: &[(f64, f64)], holes: &[&[(f64, f64)]]) -> MultiPolygon<f64> {
    MultiPolygon(vec![Polygon::new(
        ring(exterior),
        holes.iter().map(|h| ring(h)).collect(),
    )])
}

/// An axis-aligned rectangle, counter-clockwise.
pub fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> MultiPolygon<f64> {
    area(&[(x0, y0), (x1, y0), (x1, y1), (x0, y1)], &[])
}

fn code(s: &str) -> AdminCode {
    s.parse().expect("fixture code")
}

/// Footprint area in m² in a transverse Mercator on 120°E (the fixtures lie
/// near 120.1°E), computed here independently of the importer.
pub fn footprint_m2(g: &MultiPolygon<f64>) -> f64 {
    let proj = LocalProjection::new(120.0).expect("projection");
    proj.project(g).expect("project footprint").unsigned_area()
}

/// Households by the default estimate: round(area × levels / 90), at least 1.
pub fn estimated_households(g: &MultiPolygon<f64>, levels: Option<u32>) -> u32 {
    let n = (footprint_m2(g) * f64::from(levels.unwrap_or(1).max(1)) / 90.0).round();
    (n as u32).max(1)
}

/// Time as RFC 3339 text in UTC+8 (how the fixture files write it).
fn rfc3339_beijing(unix_s: i64) -> String {
    let tz = chrono::FixedOffset::east_opt(8 * 3600).expect("offset");
    chrono::DateTime::from_timestamp(unix_s, 0)
        .expect("time")
        .with_timezone(&tz)
        .to_rfc3339()
}

/// The small fixture territory near 120.1°E 30.25°N (西湖区): one district,
/// two subdistricts, four communities (one with a hole, two rural), three
/// buildings (one without households), three facilities, three hazards (a
/// given level, LEC, and a 5×5 matrix area), three roads and three
/// incidents. Every geometry is clean (closed, valid, exterior
/// counter-clockwise), so an import must reproduce it exactly.
#[allow(clippy::too_many_lines)]
pub fn fixture_territory() -> Territory {
    let (x0, x1, x2) = (120.100, 120.105, 120.110);
    let (y0, y1, y2) = (30.250, 30.255, 30.260);
    let admin = |c: &str, name: &str, kind: Option<CommunityKind>, g| AdminArea {
        code: code(c),
        name: name.into(),
        kind,
        geometry: g,
    };
    let urban = Some(CommunityKind::Urban);
    let rural = Some(CommunityKind::Rural);
    let b2 = rect(120.1010, 30.2510, 120.1014, 30.2513);
    let t = Territory {
        districts: vec![admin("330106", "西湖区", None, rect(x0, y0, x2, y2))],
        subdistricts: vec![
            admin("330106001", "北山街道", None, rect(x0, y0, x2, y1)),
            admin("330106002", "西溪街道", None, rect(x0, y1, x2, y2)),
        ],
        communities: vec![
            admin(
                "330106001001",
                "保俶塔社区",
                urban,
                area(
                    &[(x0, y0), (x1, y0), (x1, 30.2525), (x1, y1), (x0, y1)],
                    &[&[
                        (120.1020, 30.2520),
                        (120.1020, 30.2530),
                        (120.1030, 30.2530),
                        (120.1030, 30.2520),
                    ]],
                ),
            ),
            admin(
                "330106001002",
                "曙光路社区",
                urban,
                area(
                    &[(x1, y0), (x2, y0), (x2, y1), (x1, y1), (x1, 30.2525)],
                    &[],
                ),
            ),
            admin("330106002001", "北山村", rural, rect(x0, y1, x1, y2)),
            admin("330106002002", "灵隐村", rural, rect(x1, y1, x2, y2)),
        ],
        buildings: vec![
            Building {
                id: 0,
                name: "1号楼".into(),
                levels: Some(18),
                households: 120,
                households_estimated: false,
                geometry: rect(120.1060, 30.2510, 120.1064, 30.2514),
            },
            Building {
                id: 0,
                name: "2号楼".into(),
                levels: Some(6),
                households: estimated_households(&b2, Some(6)),
                households_estimated: true,
                geometry: b2,
            },
            Building {
                id: 0,
                name: String::new(),
                levels: None,
                households: 40,
                households_estimated: false,
                geometry: area(
                    &[
                        (120.1070, 30.2570),
                        (120.1075, 30.2570),
                        (120.1075, 30.2573),
                        (120.1072, 30.2575),
                        (120.1070, 30.2573),
                    ],
                    &[],
                ),
            },
        ],
        facilities: vec![
            Facility {
                id: 0,
                kind: FacilityKind::FireStation,
                name: "西湖消防站".into(),
                capacity: Some(8),
                staff: Some(30),
                contact: Some("0571-119".into()),
                location: Point::new(120.1031, 30.2512),
            },
            Facility {
                id: 0,
                kind: FacilityKind::Hospital,
                name: "浙大一院".into(),
                capacity: Some(1200),
                staff: None,
                contact: None,
                location: Point::new(120.1082, 30.2577),
            },
            Facility {
                id: 0,
                kind: FacilityKind::MicroFireStation,
                name: "曙光微型消防站".into(),
                capacity: None,
                staff: None,
                contact: None,
                location: Point::new(120.1066, 30.2531),
            },
        ],
        hazards: vec![
            Hazard {
                id: 0,
                kind: "gas_station".into(),
                name: "中石化加油站".into(),
                assessment: Assessment::Given {
                    level: RiskLevel::Orange,
                },
                geometry: HazardGeometry::Point(Point::new(120.1044, 30.2541)),
            },
            Hazard {
                id: 0,
                kind: "chemical_store".into(),
                name: "化学品仓库".into(),
                assessment: Assessment::lec(3.0, 6.0, 15.0).expect("lec"),
                geometry: HazardGeometry::Point(Point::new(120.1091, 30.2509)),
            },
            Hazard {
                id: 0,
                kind: "landslide".into(),
                name: "北高峰滑坡".into(),
                assessment: Assessment::matrix(4.0, 5.0).expect("matrix"),
                geometry: HazardGeometry::Area(area(
                    &[
                        (120.1010, 30.2580),
                        (120.1030, 30.2580),
                        (120.1030, 30.2595),
                        (120.1010, 30.2595),
                    ],
                    &[],
                )),
            },
        ],
        roads: vec![
            Road {
                id: 0,
                class: "primary".into(),
                name: "曙光路".into(),
                speed_kmh: Some(60.0),
                oneway: Oneway::No,
                geometry: LineString::from(vec![(x0, y1), (x1, y1), (x2, y1)]),
            },
            Road {
                id: 0,
                class: "residential".into(),
                name: "保俶路".into(),
                speed_kmh: None,
                oneway: Oneway::Forward,
                geometry: LineString::from(vec![(x1, y0), (x1, 30.2525), (x1, y1)]),
            },
            Road {
                id: 0,
                class: "service".into(),
                name: String::new(),
                speed_kmh: Some(20.0),
                oneway: Oneway::Backward,
                geometry: LineString::from(vec![(120.1061, 30.2505), (120.1070, 30.2508)]),
            },
        ],
        barriers: vec![
            Barrier {
                id: 0,
                kind: BarrierKind::River,
                name: "西溪".into(),
                geometry: LineString::from(vec![(x0, 30.2575), (x1, 30.2578), (x2, 30.2574)]),
            },
            Barrier {
                id: 0,
                kind: BarrierKind::Wall,
                name: String::new(),
                geometry: LineString::from(vec![(120.1075, y1), (120.1075, y2)]),
            },
        ],
        incidents: vec![
            Incident {
                id: 0,
                kind: "fire".into(),
                time_unix_s: 1_709_253_000, // 2024-03-01T08:30:00+08:00
                location: Point::new(120.1062, 30.2512),
            },
            Incident {
                id: 0,
                kind: "flood".into(),
                time_unix_s: 1_721_052_000, // 2024-07-15T14:00:00Z
                location: Point::new(120.1015, 30.2588),
            },
            Incident {
                id: 0,
                kind: "traffic".into(),
                time_unix_s: 1_735_660_799, // 2024-12-31T23:59:59+08:00
                location: Point::new(120.1050, 30.2550),
            },
        ],
        // Components and zones have their own tests (components.rs).
        ..Territory::default()
    };
    t
}

fn coords_json(c: &[Coord<f64>]) -> Value {
    Value::Array(c.iter().map(|c| json!([c.x, c.y])).collect())
}

fn polygon_json(p: &Polygon<f64>) -> Value {
    Value::Array(
        std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(|r| coords_json(&r.0))
            .collect(),
    )
}

/// GeoJSON geometry of a multipolygon: a Polygon when it has one part.
pub fn multipolygon_json(g: &MultiPolygon<f64>) -> Value {
    if g.0.len() == 1 {
        json!({"type": "Polygon", "coordinates": polygon_json(&g.0[0])})
    } else {
        json!({"type": "MultiPolygon", "coordinates": g.0.iter().map(polygon_json).collect::<Vec<_>>()})
    }
}

/// GeoJSON geometry of a point.
pub fn point_json(p: Point<f64>) -> Value {
    json!({"type": "Point", "coordinates": [p.x(), p.y()]})
}

/// A GeoJSON Feature.
pub fn feature(properties: Value, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": properties, "geometry": geometry})
}

/// Writes a FeatureCollection to `dir/name` and returns its path.
pub fn write_geojson(dir: &Path, name: &str, features: Vec<Value>) -> PathBuf {
    let path = dir.join(name);
    let fc = json!({"type": "FeatureCollection", "features": features});
    std::fs::write(&path, serde_json::to_string_pretty(&fc).expect("json"))
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    path
}

/// Properties with the `None` values left out.
fn props(pairs: &[(&str, Option<Value>)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .filter_map(|(k, v)| v.clone().map(|v| ((*k).to_owned(), v)))
            .collect(),
    )
}

/// Writes the administrative layers of `t` (`districts`, `subdistricts`,
/// `communities` files, when not empty).
pub fn write_admin(dir: &Path, t: &Territory) -> Vec<PathBuf> {
    let layer = |areas: &[AdminArea]| -> Vec<Value> {
        areas
            .iter()
            .map(|a| {
                feature(
                    props(&[
                        ("code", Some(json!(a.code.to_string()))),
                        ("name", Some(json!(a.name))),
                        ("kind", a.kind.map(|k| json!(k.as_str()))),
                    ]),
                    multipolygon_json(&a.geometry),
                )
            })
            .collect()
    };
    [
        ("districts.geojson", &t.districts),
        ("subdistricts.geojson", &t.subdistricts),
        ("communities.geojson", &t.communities),
    ]
    .into_iter()
    .filter(|(_, a)| !a.is_empty())
    .map(|(name, a)| write_geojson(dir, name, layer(a)))
    .collect()
}

/// Writes `buildings.geojson`; estimated households are left out.
pub fn write_buildings(dir: &Path, buildings: &[Building]) -> PathBuf {
    let f = buildings
        .iter()
        .map(|b| {
            feature(
                props(&[
                    ("name", Some(json!(b.name))),
                    ("levels", b.levels.map(|l| json!(l))),
                    (
                        "households",
                        (!b.households_estimated).then(|| json!(b.households)),
                    ),
                ]),
                multipolygon_json(&b.geometry),
            )
        })
        .collect();
    write_geojson(dir, "buildings.geojson", f)
}

/// Writes `facilities.geojson`.
pub fn write_facilities(dir: &Path, facilities: &[Facility]) -> PathBuf {
    let f = facilities
        .iter()
        .map(|x| {
            feature(
                props(&[
                    ("kind", Some(json!(x.kind.as_str()))),
                    ("name", Some(json!(x.name))),
                    ("capacity", x.capacity.map(|c| json!(c))),
                    ("staff", x.staff.map(|c| json!(c))),
                    ("contact", x.contact.as_ref().map(|c| json!(c))),
                ]),
                point_json(x.location),
            )
        })
        .collect();
    write_geojson(dir, "facilities.geojson", f)
}

/// Writes `hazards.geojson` (points and areas in one layer).
pub fn write_hazards(dir: &Path, hazards: &[Hazard]) -> PathBuf {
    let f = hazards
        .iter()
        .map(|h| {
            let mut p = props(&[("kind", Some(json!(h.kind))), ("name", Some(json!(h.name)))]);
            let extra = match h.assessment {
                Assessment::Given { level } => json!({"level": level.as_str()}),
                Assessment::Lec { l, e, c } => json!({"lec_l": l, "lec_e": e, "lec_c": c}),
                Assessment::Matrix {
                    likelihood,
                    severity,
                } => json!({"likelihood": likelihood, "severity": severity}),
            };
            if let (Some(p), Value::Object(extra)) = (p.as_object_mut(), extra) {
                p.extend(extra);
            }
            let g = match &h.geometry {
                HazardGeometry::Point(pt) => point_json(*pt),
                HazardGeometry::Area(a) => multipolygon_json(a),
            };
            feature(p, g)
        })
        .collect();
    write_geojson(dir, "hazards.geojson", f)
}

/// Writes `roads.geojson`.
pub fn write_roads(dir: &Path, roads: &[Road]) -> PathBuf {
    let f = roads
        .iter()
        .map(|r| {
            feature(
                props(&[
                    ("class", Some(json!(r.class))),
                    ("name", Some(json!(r.name))),
                    ("speed_kmh", r.speed_kmh.map(|s| json!(s))),
                    ("oneway", Some(json!(r.oneway.as_str()))),
                ]),
                json!({"type": "LineString", "coordinates": coords_json(&r.geometry.0)}),
            )
        })
        .collect();
    write_geojson(dir, "roads.geojson", f)
}

/// Writes `barriers.geojson`.
pub fn write_barriers(dir: &Path, barriers: &[Barrier]) -> PathBuf {
    let f = barriers
        .iter()
        .map(|b| {
            feature(
                props(&[
                    ("kind", Some(json!(b.kind.as_str()))),
                    ("name", Some(json!(b.name))),
                ]),
                json!({"type": "LineString", "coordinates": coords_json(&b.geometry.0)}),
            )
        })
        .collect();
    write_geojson(dir, "barriers.geojson", f)
}

/// Writes `incidents.geojson`, times in RFC 3339 at UTC+8.
pub fn write_incidents(dir: &Path, incidents: &[Incident]) -> PathBuf {
    let f = incidents
        .iter()
        .map(|i| {
            feature(
                json!({"kind": i.kind, "time": rfc3339_beijing(i.time_unix_s)}),
                point_json(i.location),
            )
        })
        .collect();
    write_geojson(dir, "incidents.geojson", f)
}

/// Writes every layer of `t` as its own GeoJSON file in `dir`.
pub fn write_territory(dir: &Path, t: &Territory) -> Vec<PathBuf> {
    let mut files = write_admin(dir, t);
    files.push(write_buildings(dir, &t.buildings));
    files.push(write_facilities(dir, &t.facilities));
    files.push(write_hazards(dir, &t.hazards));
    files.push(write_roads(dir, &t.roads));
    files.push(write_barriers(dir, &t.barriers));
    files.push(write_incidents(dir, &t.incidents));
    files
}

// ---------------------------------------------------------------------------
// GDAL command-line tools
// ---------------------------------------------------------------------------

/// Runs a GDAL utility; panics with its output when it fails.
pub fn gdal_tool(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {program} (is GDAL installed and on PATH?): {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("fixture paths are UTF-8")
}

/// Copies every source file into one GeoPackage `out`, one layer each
/// (named after the source's layer), optionally reprojected to `t_srs`.
pub fn ogr_to_gpkg(sources: &[PathBuf], out: &Path, t_srs: Option<&str>) -> PathBuf {
    for (i, src) in sources.iter().enumerate() {
        let mut args = vec!["-f", "GPKG"];
        if i > 0 {
            args.push("-update");
        }
        if let Some(srs) = t_srs {
            args.extend(["-t_srs", srs]);
        }
        args.extend([path_str(out), path_str(src)]);
        gdal_tool("ogr2ogr", &args);
    }
    out.to_owned()
}

/// Converts `src` to Shapefile(s) in `out_dir`, UTF-8 attributes, times as
/// text (a .dbf has no date-time type). A layer mixing points and areas is
/// split into `point_<stem>.shp` and `area_<stem>.shp` (a Shapefile holds one
/// geometry type). Returns the .shp files.
pub fn ogr_to_shapefile(src: &Path, out_dir: &Path) -> Vec<PathBuf> {
    let stem = src.file_stem().and_then(|s| s.to_str()).expect("stem");
    let run = |out: &Path, filter: Option<&str>| {
        let mut args = vec![
            "-f",
            "ESRI Shapefile",
            "-lco",
            "ENCODING=UTF-8",
            "-fieldTypeToString",
            "DateTime",
        ];
        if let Some(w) = filter {
            args.extend(["-where", w]);
        }
        args.extend([path_str(out), path_str(src)]);
        gdal_tool("ogr2ogr", &args);
        out.to_owned()
    };
    if stem == "hazards" {
        vec![
            run(
                &out_dir.join(format!("point_{stem}.shp")),
                Some("OGR_GEOMETRY='POINT'"),
            ),
            run(
                &out_dir.join(format!("area_{stem}.shp")),
                Some("OGR_GEOMETRY='POLYGON' OR OGR_GEOMETRY='MULTIPOLYGON'"),
            ),
        ]
    } else {
        vec![run(&out_dir.join(format!("{stem}.shp")), None)]
    }
}

/// Feature count of every layer of `path`, as `ogrinfo -so -al` reports it.
pub fn ogrinfo_counts(path: &Path) -> BTreeMap<String, i64> {
    let out = gdal_tool("ogrinfo", &["-ro", "-so", "-al", path_str(path)]);
    let mut counts = BTreeMap::new();
    let mut layer = None;
    for line in out.lines() {
        if let Some(name) = line.strip_prefix("Layer name: ") {
            layer = Some(name.trim().to_owned());
        } else if let Some(n) = line.strip_prefix("Feature Count: ") {
            let n: i64 = n.trim().parse().expect("Feature Count is a number");
            counts.insert(
                layer.take().expect("a Feature Count follows a Layer name"),
                n,
            );
        }
    }
    counts
}

/// The integer result of an `ogrinfo -sql` query returning one `n` column.
pub fn ogrinfo_scalar(path: &Path, dialect: &str, sql: &str) -> i64 {
    let out = gdal_tool(
        "ogrinfo",
        &[
            "-ro",
            "-q",
            "-dialect",
            dialect,
            "-sql",
            sql,
            path_str(path),
        ],
    );
    out.lines()
        .find_map(|l| {
            let l = l.trim();
            l.starts_with("n (").then(|| l.rsplit('=').next())?
        })
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no `n` in ogrinfo output for {sql}:\n{out}"))
}

/// The repository's sample data folder.
pub fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../data")
}

/// `GET` of a binary body: status, headers, bytes.
pub async fn get_bytes(
    app: &axum::Router,
    uri: &str,
    etag: Option<&str>,
) -> (axum::http::StatusCode, axum::http::HeaderMap, Vec<u8>) {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder().uri(uri);
    if let Some(t) = etag {
        req = req.header(axum::http::header::IF_NONE_MATCH, t);
    }
    let resp = app
        .clone()
        .oneshot(req.body(axum::body::Body::empty()).expect("a request"))
        .await
        .expect("the app answers");
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = resp.into_body().collect().await.expect("a body").to_bytes();
    (status, headers, bytes.to_vec())
}
