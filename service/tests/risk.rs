//! Risk map over HTTP on both stores: `/api/v1/risk` against a brute force
//! of the hazards inside each cell, `/api/v1/hazards/{id}/impact` against a
//! brute force of the zone, risk PNG tiles decoded and compared pixel by
//! pixel with the cells' levels from the API, and a hazard moved through
//! the API with the tiles over it re-fetched at once (never stale, and only
//! the tiles it touches dropped).
#![allow(clippy::too_many_lines)]

use axum::body::Body;
use axum::http::{header, Method, Request, StatusCode};
use axum::Router;
use civgrid::cells::Cell;
use civgrid::grids::{Grid, GridConfig, GridKind};
use civgrid::risk::RiskConfig;
use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{Assessment, Hazard, HazardGeometry, RiskLevel, Territory};
use civgrid_service::auth::WriterToken;
use civgrid_service::state::ServeConfig;
use civgrid_service::tiles::{Palette, Styles};
use civgrid_service::{app, grids, AppState};
use civgrid_tiles::Rgba;
use civgrid_tiles::{TileCoord, TileKey};
use geo::{
    Area, BooleanOps, BoundingRect, Contains, Distance, Haversine, InteriorPoint, Intersects,
};
use geo_types::{Coord, Geometry, Point, Rect};
use serde_json::json;
use tower::ServiceExt;

use crate::cells::{active_cells, store_with};
use crate::common::get_bytes;
use crate::common::{both_stores, ogrinfo_counts, ogrinfo_scalar, rect, Backend, TestStore};
use crate::http::{get, problem};

pub(crate) const TOKEN: &str = "risk-writer-token";

pub(crate) struct Fixture {
    pub(crate) app: Router,
    pub(crate) state: AppState,
    pub(crate) city: Territory,
    pub(crate) cells: Vec<Cell>,
    pub(crate) bbox: Rect<f64>,
    pub(crate) holder: TestStore,
}

/// The test city plus a red area in its middle and a red gas station.
fn city() -> (Territory, Rect<f64>) {
    let mut t = synthesize(&SynthConfig::test()).expect("the test city");
    let bbox = t.extent().expect("an extent");
    let c = bbox.center();
    t.hazards.push(Hazard {
        id: 0,
        kind: "landslide_zone".into(),
        name: "red area".into(),
        assessment: Assessment::Given {
            level: RiskLevel::Red,
        },
        geometry: HazardGeometry::Area(rect(c.x, c.y, c.x + 0.002, c.y + 0.0015)),
    });
    t.hazards.push(Hazard {
        id: 0,
        kind: "gas_station".into(),
        name: "test station".into(),
        assessment: Assessment::Lec {
            l: 10.0,
            e: 6.0,
            c: 7.0,
        },
        geometry: HazardGeometry::Point(Point::new(c.x - 0.004, c.y - 0.003)),
    });
    (t, bbox)
}

pub(crate) async fn fixture(backend: Backend) -> Fixture {
    let (_, bbox) = city();
    let (s, store) = store_with(backend, &city().0).await;
    let cells = active_cells(&store).await;
    let state = AppState::load(store.clone())
        .await
        .expect("load")
        .with_config(ServeConfig {
            writer_token: WriterToken::new(TOKEN),
            ..ServeConfig::default()
        });
    Fixture {
        app: app(state.clone()),
        state,
        city: store.load().await.expect("the stored city (with ids)"),
        cells,
        bbox,
        holder: s,
    }
}

/// A decoded RGBA tile.
pub(crate) struct Decoded {
    size: u32,
    rgba: Vec<u8>,
}

impl Decoded {
    pub(crate) fn new(png_bytes: &[u8]) -> Self {
        let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buf).expect("a frame");
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(info.width, info.height);
        Self {
            size: info.width,
            rgba: buf,
        }
    }

    pub(crate) fn at(&self, x: u32, y: u32) -> [u8; 4] {
        let i = ((y * self.size + x) * 4) as usize;
        [
            self.rgba[i],
            self.rgba[i + 1],
            self.rgba[i + 2],
            self.rgba[i + 3],
        ]
    }
}

/// The lon/lat of a pixel's centre in tile `t` drawn `size` px wide.
fn pixel_centre(t: TileCoord, size: u32, x: u32, y: u32) -> Point<f64> {
    let n = f64::from(size) * f64::from(1u32 << t.z);
    let wx = f64::from(t.x) * f64::from(size) + f64::from(x) + 0.5;
    let wy = f64::from(t.y) * f64::from(size) + f64::from(y) + 0.5;
    let lat = (std::f64::consts::PI * (1.0 - 2.0 * wy / n))
        .sinh()
        .atan()
        .to_degrees();
    Point::new(wx / n * 360.0 - 180.0, lat)
}

/// The level of the cell at `p` from the API.
async fn api_level(app: &Router, p: Point<f64>) -> RiskLevel {
    let uri = format!("/api/v1/risk?lon={}&lat={}", p.x(), p.y());
    let r = get(app, &uri).await;
    assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
    serde_json::from_value(r.body["level"].clone()).expect("a level")
}

/// Checks every cell whose interior point lies in tile `t`: the pixel
/// under it has its level's colour (as the API reports the level).
/// Returns how many cells were checked.
async fn check_tile(f: &Fixture, t: TileCoord, scale: u8) -> usize {
    let size = 256 * u32::from(scale);
    let suffix = if scale == 2 { "@2x" } else { "" };
    let uri = format!("/tiles/risk/{}/{}/{}{suffix}.png", t.z, t.x, t.y);
    let (status, headers, bytes) = get_bytes(&f.app, &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    assert_eq!(headers[header::CONTENT_TYPE], "image/png");
    let tile = Decoded::new(&bytes);
    assert_eq!(tile.size, size, "{uri}");
    let palette = Palette::default();
    let mut checked = 0;
    for cell in &f.cells {
        let p = cell.geometry.interior_point().expect("an interior point");
        let px = t.to_px(p.0, size);
        if !(0.0..f64::from(size)).contains(&px.x) || !(0.0..f64::from(size)).contains(&px.y) {
            continue;
        }
        let (x, y) = (px.x as u32, px.y as u32);
        // The pixel belongs to this cell only when its centre is inside.
        if !cell.geometry.contains(&pixel_centre(t, size, x, y)) {
            continue;
        }
        let level = api_level(&f.app, p).await;
        assert_eq!(
            tile.at(x, y),
            palette.of(level).0,
            "{uri}: cell {} ({level}) at pixel ({x}, {y})",
            cell.code
        );
        checked += 1;
    }
    checked
}

#[tokio::test]
async fn risk_answers_the_cell_with_its_hazards_and_factors() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let config = RiskConfig::default();
        let mut red = 0;
        for cell in f.cells.iter().step_by(3) {
            let p = cell.geometry.interior_point().expect("an interior point");
            let uri = format!("/api/v1/risk?lon={}&lat={}", p.x(), p.y());
            let r = get(&f.app, &uri).await;
            assert_eq!(r.status, StatusCode::OK, "{backend:?} {uri}: {}", r.body);
            assert_eq!(r.body["cell"], cell.code.to_string());
            // Brute force: the highest level of the hazards inside the cell.
            let inside = f
                .city
                .hazards
                .iter()
                .filter(|h| match &h.geometry {
                    HazardGeometry::Point(q) => cell.geometry.intersects(q),
                    HazardGeometry::Area(a) => cell.geometry.intersects(a),
                })
                .map(Hazard::level)
                .max();
            let level: RiskLevel = serde_json::from_value(r.body["level"].clone()).expect("level");
            let floor: Option<RiskLevel> =
                serde_json::from_value(r.body["floor"].clone()).expect("floor");
            assert_eq!(floor, inside, "{backend:?} {uri}");
            assert!(Some(level) >= inside, "{backend:?} {uri}: {}", r.body);
            // The level is the score's band, raised to the floor.
            let score = r.body["score"].as_f64().expect("score");
            let factors = &r.body["factors"];
            let product = factors["hazard_term"].as_f64().expect("H")
                * factors["exposure"].as_f64().expect("E")
                * factors["response"].as_f64().expect("R");
            assert!((score - product).abs() < 1e-9, "{uri}: {}", r.body);
            assert_eq!(
                level,
                config
                    .thresholds
                    .level(score)
                    .max(inside.unwrap_or(RiskLevel::Blue)),
                "{uri}"
            );
            // The road network gives a fire response.
            assert_ne!(factors["fire_response"]["kind"], "unknown", "{uri}");
            for h in r.body["hazards"].as_array().expect("hazards") {
                assert!(h["kind"].is_string() && h["distance_m"].as_f64().is_some());
            }
            red += usize::from(level == RiskLevel::Red);
        }
        assert!(red > 0, "{backend:?}: the red area makes red cells");
        // Bad input.
        for (uri, status) in [
            ("/api/v1/risk?lon=abc&lat=30", StatusCode::BAD_REQUEST),
            ("/api/v1/risk?lon=120", StatusCode::BAD_REQUEST),
            ("/api/v1/risk?lon=200&lat=30", StatusCode::BAD_REQUEST),
            ("/api/v1/risk?lon=0&lat=0", StatusCode::NOT_FOUND),
            ("/api/v1/hazards/999999/impact", StatusCode::NOT_FOUND),
            ("/api/v1/hazards/abc/impact", StatusCode::NOT_FOUND),
        ] {
            let detail = problem(&get(&f.app, uri).await, status, uri);
            assert!(!detail.is_empty());
        }
    }
}

#[tokio::test]
async fn impact_lists_the_cells_within_the_zone() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let config = RiskConfig::default();
        let station = f
            .city
            .hazards
            .iter()
            .find(|h| h.name == "test station")
            .expect("the station");
        let HazardGeometry::Point(at) = station.geometry else {
            panic!("a point hazard")
        };
        let radius = config.zone("gas_station").radius_m;
        let uri = format!("/api/v1/hazards/{}/impact", station.id);
        let r = get(&f.app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        assert_eq!(r.body["zone"]["radius_m"], radius);
        let listed: Vec<String> = r.body["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|c| c["code"].as_str().expect("code").to_owned())
            .collect();
        // Brute force: a cell whose interior point is well within the
        // radius is listed; one whose bounding box is beyond it is not.
        for cell in &f.cells {
            let code = cell.code.to_string();
            let p = cell.geometry.interior_point().expect("a point");
            let b = cell.geometry.bounding_rect().expect("a box");
            let nearest = Point::new(
                at.x().clamp(b.min().x, b.max().x),
                at.y().clamp(b.min().y, b.max().y),
            );
            if Haversine.distance(at, p) < radius - 1.0 {
                assert!(listed.contains(&code), "{uri}: {code} is in the zone");
            }
            if Haversine.distance(at, nearest) > radius + 1.0 {
                assert!(!listed.contains(&code), "{uri}: {code} is beyond the zone");
            }
        }
        let households: u64 = r.body["cells"]
            .as_array()
            .expect("cells")
            .iter()
            .map(|c| c["households"].as_u64().expect("households"))
            .sum();
        assert_eq!(r.body["households"], households);
        let per_community: u64 = r.body["communities"]
            .as_array()
            .expect("communities")
            .iter()
            .map(|c| c["households"].as_u64().expect("households"))
            .sum();
        assert_eq!(per_community, households);
        assert!(households > 0, "{uri}: people live near the station");
    }
}

#[tokio::test]
async fn risk_tiles_show_each_cell_in_its_level_colour() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let mut checked = 0;
    for (z, scale) in [(15, 1), (16, 1), (16, 2), (17, 2)] {
        let t = TileCoord::containing(c.x, c.y, z).expect("a tile");
        checked += check_tile(&f, t, scale).await;
    }
    assert!(checked > 100, "only {checked} cells checked");
    // Low zoom: the whole city in a few pixels, red showing.
    let t = TileCoord::containing(c.x, c.y, 10).expect("a tile");
    let (_, _, bytes) =
        get_bytes(&f.app, &format!("/tiles/risk/10/{}/{}.png", t.x, t.y), None).await;
    let low = Decoded::new(&bytes);
    let red = Palette::default().red.0;
    assert!((0..256).any(|y| (0..256).any(|x| low.at(x, y) == red)));
    // Outside the territory: transparent.
    let far = TileCoord::containing(c.x + 1.0, c.y + 1.0, 14).expect("a tile");
    let (_, _, bytes) = get_bytes(
        &f.app,
        &format!("/tiles/risk/14/{}/{}.png", far.x, far.y),
        None,
    )
    .await;
    assert!(Decoded::new(&bytes).rgba.chunks(4).all(|p| p[3] == 0));
    // TileJSON.
    let tj = get(&f.app, "/tiles/risk.json").await;
    assert_eq!(tj.status, StatusCode::OK);
    assert_eq!(tj.body["tilejson"], "3.0.0");
    assert!(tj.body["tiles"][0]
        .as_str()
        .expect("a URL")
        .ends_with("/tiles/risk/{z}/{x}/{y}.png"));
    // Bad addresses.
    for (uri, status) in [
        ("/tiles/risk/23/0/0.png", StatusCode::BAD_REQUEST),
        ("/tiles/risk/2/4/0.png", StatusCode::BAD_REQUEST),
        ("/tiles/risk/2/0/-1.png", StatusCode::BAD_REQUEST),
        ("/tiles/risk/x/0/0.png", StatusCode::BAD_REQUEST),
        ("/tiles/risk/2/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/nope/2/0/0.png", StatusCode::NOT_FOUND),
        ("/tiles/nope.json", StatusCode::NOT_FOUND),
    ] {
        problem(&get(&f.app, uri).await, status, uri);
    }
}

/// Moves the fixture's red area (0.002° by 0.0015°) to have its south-west
/// corner at `to`, through the API; the answer's status.
pub(crate) async fn move_red_area(f: &Fixture, to: Coord<f64>) -> StatusCode {
    let area = f
        .city
        .hazards
        .iter()
        .find(|h| h.name == "red area")
        .expect("the area");
    let moved = json!({"type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [[[to.x, to.y], [to.x + 0.002, to.y], [to.x + 0.002, to.y + 0.0015], [to.x, to.y + 0.0015], [to.x, to.y]]]},
        "properties": {"kind": "landslide_zone", "name": "red area", "level": "red"}});
    let req = Request::builder()
        .method(Method::PUT)
        .uri(format!("/api/v1/hazards/{}", area.id))
        .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
        .body(Body::from(moved.to_string()))
        .expect("a request");
    f.app
        .clone()
        .oneshot(req)
        .await
        .expect("an answer")
        .status()
}

/// The features of an MVT tile, decoded by mvt-reader (an independent
/// decoder): (id, properties, geometry in grid units).
pub fn decode_mvt(bytes: Vec<u8>, layer: &str) -> Vec<mvt_reader::feature::Feature> {
    let reader = mvt_reader::Reader::new(bytes).expect("a vector tile");
    let names = reader.get_layer_names().expect("layer names");
    match names.iter().position(|n| n == layer) {
        Some(i) => reader.get_features(i).expect("features"),
        None => Vec::new(),
    }
}

/// An integer property of a decoded feature, whichever integer type it
/// was written as.
pub fn int(f: &mvt_reader::feature::Feature, key: &str) -> Option<i64> {
    match f.properties.as_ref()?.get(key)? {
        mvt_reader::feature::Value::UInt(n) => i64::try_from(*n).ok(),
        mvt_reader::feature::Value::Int(n) | mvt_reader::feature::Value::SInt(n) => Some(*n),
        _ => None,
    }
}

pub fn string(f: &mvt_reader::feature::Feature, key: &str) -> String {
    match f.properties.as_ref().and_then(|p| p.get(key)) {
        Some(mvt_reader::feature::Value::String(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

#[tokio::test]
async fn cell_vector_tiles_hold_every_cell_with_its_risk() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    for z in [15, 16, 17] {
        let t = TileCoord::containing(c.x, c.y, z).expect("a tile");
        let uri = format!("/tiles/cells/{z}/{}/{}.mvt", t.x, t.y);
        let (status, headers, bytes) = get_bytes(&f.app, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{uri}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/vnd.mapbox-vector-tile"
        );
        let features = decode_mvt(bytes, "cells");
        // Brute force: the cells meeting the tile grown by the buffer.
        let b = t.bounds();
        let m = 64.0 / 4096.0;
        let (dx, dy) = ((b.east - b.west) * m, (b.north - b.south) * m);
        let grown = Rect::new((b.west - dx, b.south - dy), (b.east + dx, b.north + dy));
        let mut expected: Vec<String> = f
            .cells
            .iter()
            .filter(|cell| cell.geometry.intersects(&grown))
            .map(|cell| cell.code.to_string())
            .collect();
        let mut got: Vec<String> = features.iter().map(|x| string(x, "code")).collect();
        expected.sort();
        got.sort();
        assert_eq!(got, expected, "{uri}");
        for feature in features.iter().step_by(7) {
            let code = string(feature, "code");
            let cell = f
                .cells
                .iter()
                .find(|x| x.code.to_string() == code)
                .expect("a cell");
            let p = cell.geometry.interior_point().expect("a point");
            assert_eq!(
                string(feature, "level"),
                api_level(&f.app, p).await.as_str(),
                "{uri}: {code}"
            );
            // Its other properties are its OGC feature's.
            let item = get(&f.app, &format!("/ogc/collections/cells/items/{code}")).await;
            assert_eq!(item.status, StatusCode::OK, "{code}");
            let props = feature.properties.as_ref().expect("properties");
            for (k, v) in item.body["properties"].as_object().expect("properties") {
                let got = match &props[k.as_str()] {
                    mvt_reader::feature::Value::String(s) => json!(s),
                    mvt_reader::feature::Value::Double(d) => json!(d),
                    other => panic!("{code} {k}: {other:?}"),
                };
                assert_eq!(&got, v, "{uri}: {code} {k}");
            }
            // Its area on the grid is the cell's clipped to the buffered
            // tile (by BooleanOps), within the rounding of its outline.
            let Geometry::MultiPolygon(decoded) = &feature.geometry else {
                panic!("{uri}: {code} is a polygon")
            };
            let (got, expected, perimeter) = crate::tiles::grid_areas(t, &cell.geometry, decoded);
            assert!(
                (got - expected).abs() <= 0.5 * perimeter + 1.0,
                "{uri}: {code}: {got} units² on the grid, {expected} clipped"
            );
        }
    }
    for (uri, status) in [
        ("/tiles/cells/2/0/0.png", StatusCode::NOT_FOUND),
        ("/tiles/cells/23/0/0.mvt", StatusCode::BAD_REQUEST),
    ] {
        problem(&get(&f.app, uri).await, status, uri);
    }
    let tj = get(&f.app, "/tiles/cells.json").await;
    assert_eq!(tj.body["vector_layers"][0]["id"], "cells");
}

#[tokio::test]
async fn base_tiles_hold_roads_and_buildings_by_zoom() {
    let f = fixture(Backend::Gpkg).await;
    let c = f.bbox.center();
    let ids = |features: &[mvt_reader::feature::Feature]| {
        let mut v: Vec<u64> = features.iter().filter_map(|x| x.id).collect();
        v.sort_unstable();
        v
    };
    let t = TileCoord::containing(c.x, c.y, 16).expect("a tile");
    let (status, _, bytes) =
        get_bytes(&f.app, &format!("/tiles/base/16/{}/{}.mvt", t.x, t.y), None).await;
    assert_eq!(status, StatusCode::OK);
    let b = t.bounds();
    let m = 64.0 / 4096.0;
    let (dx, dy) = ((b.east - b.west) * m, (b.north - b.south) * m);
    let grown = Rect::new((b.west - dx, b.south - dy), (b.east + dx, b.north + dy));
    let mut roads: Vec<u64> = f
        .city
        .roads
        .iter()
        .filter(|r| r.geometry.intersects(&grown))
        .map(|r| r.id as u64)
        .collect();
    roads.sort_unstable();
    assert!(!roads.is_empty());
    assert_eq!(ids(&decode_mvt(bytes.clone(), "roads")), roads);
    let mut buildings: Vec<u64> = f
        .city
        .buildings
        .iter()
        .filter(|x| x.geometry.intersects(&grown))
        .map(|x| x.id as u64)
        .collect();
    buildings.sort_unstable();
    assert!(!buildings.is_empty());
    assert_eq!(ids(&decode_mvt(bytes, "buildings")), buildings);
    // Zoomed out: no buildings, major roads only.
    let t = TileCoord::containing(c.x, c.y, 12).expect("a tile");
    let (_, _, bytes) =
        get_bytes(&f.app, &format!("/tiles/base/12/{}/{}.mvt", t.x, t.y), None).await;
    assert!(decode_mvt(bytes.clone(), "buildings").is_empty());
    for road in decode_mvt(bytes, "roads") {
        let class = string(&road, "class");
        assert!(
            ["motorway", "trunk", "primary", "secondary"]
                .contains(&class.trim_end_matches("_link")),
            "{class}"
        );
    }
    let tj = get(&f.app, "/tiles/base.json").await;
    assert_eq!(tj.body["vector_layers"].as_array().map(Vec::len), Some(3));
}

#[tokio::test]
async fn heat_tiles_show_incidents_and_honour_filters() {
    let f = fixture(Backend::Gpkg).await;
    // The densest place: the tile holding the most incidents at z14.
    let incidents = &f.city.incidents;
    assert!(!incidents.is_empty(), "the test city has incidents");
    let t = incidents
        .iter()
        .filter_map(|i| TileCoord::containing(i.location.x(), i.location.y(), 14))
        .max_by_key(|t| {
            incidents
                .iter()
                .filter(|i| TileCoord::containing(i.location.x(), i.location.y(), 14) == Some(*t))
                .count()
        })
        .expect("a tile");
    let uri = format!("/tiles/heat/14/{}/{}.png", t.x, t.y);
    let painted = |bytes: &[u8]| {
        Decoded::new(bytes)
            .rgba
            .chunks(4)
            .filter(|p| p[3] != 0)
            .count()
    };
    let (status, headers, bytes) = get_bytes(&f.app, &uri, None).await;
    assert_eq!(status, StatusCode::OK, "{uri}");
    assert!(headers.contains_key(header::ETAG));
    assert!(painted(&bytes) > 0, "{uri}: incidents show");
    let kind = &incidents[0].kind;
    let (_, _, one_kind) = get_bytes(&f.app, &format!("{uri}?kind={kind}"), None).await;
    assert!(painted(&one_kind) <= painted(&bytes));
    for q in [
        "kind=no_such_kind",
        "from=2999-01-01T00:00:00%2B08:00",
        "to=0",
    ] {
        let (status, _, none) = get_bytes(&f.app, &format!("{uri}?{q}"), None).await;
        assert_eq!(status, StatusCode::OK, "{uri}?{q}");
        assert_eq!(painted(&none), 0, "{uri}?{q}");
    }
    // Hazard intensity: painted around the red area, nothing far from
    // every hazard.
    let c = f.bbox.center();
    let at = TileCoord::containing(c.x + 0.001, c.y + 0.0007, 16).expect("a tile");
    let hazards = format!("/tiles/heat/16/{}/{}.png?of=hazards", at.x, at.y);
    let (status, _, bytes) = get_bytes(&f.app, &hazards, None).await;
    assert_eq!(status, StatusCode::OK, "{hazards}");
    assert!(painted(&bytes) > 0, "{hazards}");
    let (_, _, none) = get_bytes(&f.app, &format!("{hazards}&kind=no_such_kind"), None).await;
    assert_eq!(painted(&none), 0);
    for bad in [
        format!("{uri}?of=people"),
        format!("{uri}?of=hazards&from=0"),
        format!("{uri}?from=yesterday"),
        format!("/tiles/risk/14/{}/{}.png?kind=fire", t.x, t.y),
    ] {
        problem(&get(&f.app, &bad).await, StatusCode::BAD_REQUEST, &bad);
    }
}

#[tokio::test]
async fn a_moved_hazard_is_seen_at_once_and_drops_only_its_tiles() {
    for backend in both_stores() {
        let f = fixture(backend).await;
        let c = f.bbox.center();
        // Tiles at z17 over the area, over the new place, and far from both.
        let tile = |p: Coord<f64>| TileCoord::containing(p.x, p.y, 17).expect("a tile");
        let over = tile(Coord {
            x: c.x + 0.001,
            y: c.y + 0.0007,
        });
        let to = Coord {
            x: f.bbox.min().x + 0.3 * f.bbox.width(),
            y: f.bbox.max().y - 0.3 * f.bbox.height(),
        };
        let there = tile(Coord {
            x: to.x + 0.001,
            y: to.y + 0.0007,
        });
        let away = tile(Coord {
            x: f.bbox.max().x - 0.002,
            y: f.bbox.min().y + 0.002,
        });
        let uri = |t: TileCoord| format!("/tiles/risk/17/{}/{}.png", t.x, t.y);
        let mut before = Vec::new();
        for t in [over, there, away] {
            let (status, headers, bytes) = get_bytes(&f.app, &uri(t), None).await;
            assert_eq!(status, StatusCode::OK);
            let etag = headers[header::ETAG].to_str().expect("an ETag").to_owned();
            assert_eq!(headers[header::CACHE_CONTROL], "no-cache");
            // Revalidation.
            let (status, _, body) = get_bytes(&f.app, &uri(t), Some(&etag)).await;
            assert_eq!(status, StatusCode::NOT_MODIFIED);
            assert!(body.is_empty());
            before.push((etag, bytes));
        }
        // Move the area through the API.
        assert_eq!(move_red_area(&f, to).await, StatusCode::OK, "{backend:?}");
        // The far tile stayed cached; the two others were dropped.
        let cached = |t: TileCoord| {
            f.state
                .tiles
                .cache
                .get(&TileKey {
                    layer: "risk",
                    coord: t,
                    scale: 1,
                })
                .is_some()
        };
        assert!(
            cached(away),
            "{backend:?}: a tile far from the change stays"
        );
        assert!(!cached(over) && !cached(there), "{backend:?}");
        // Re-fetched at once: new tags, and every pixel agrees with the API.
        for (t, (etag, _)) in [over, there].into_iter().zip(&before) {
            let (status, headers, _) = get_bytes(&f.app, &uri(t), Some(etag)).await;
            assert_eq!(
                status,
                StatusCode::OK,
                "{backend:?}: the old tag no longer matches"
            );
            assert_ne!(&headers[header::ETAG], etag.as_str());
            assert!(check_tile(&f, t, 1).await > 0);
        }
        let (status, _, _) = get_bytes(&f.app, &uri(away), Some(&before[2].0)).await;
        assert_eq!(status, StatusCode::NOT_MODIFIED);
        // ... and it is right to: its pixels still agree with the API.
        assert!(check_tile(&f, away, 1).await > 0);
        // The hazards vector tile shows it at its new place only.
        let hazard_tile = |p: Coord<f64>| {
            let t = TileCoord::containing(p.x, p.y, 16).expect("a tile");
            format!("/tiles/hazards/16/{}/{}.mvt", t.x, t.y)
        };
        let (_, _, bytes) = get_bytes(&f.app, &hazard_tile(to), None).await;
        let names: Vec<String> = decode_mvt(bytes, "hazards")
            .iter()
            .map(|x| string(x, "name"))
            .collect();
        assert!(
            names.contains(&"red area".to_owned()),
            "{backend:?}: {names:?}"
        );
        // The new place is red now.
        assert_eq!(
            api_level(&f.app, Point::new(to.x + 0.001, to.y + 0.0007)).await,
            RiskLevel::Red
        );
    }
}

#[tokio::test]
async fn configured_weights_and_palette_apply() {
    let f = fixture(Backend::Gpkg).await;
    // Every score is red from 0 up; red is drawn black.
    let risk: RiskConfig = toml::from_str(
        "[thresholds]\nyellow = 0.0\norange = 0.0\nred = 0.0\n[zones.landslide_zone]\nradius_m = 50.0\ndecay = 0.0\n",
    )
    .expect("a risk configuration");
    assert!((risk.zone("landslide_zone").radius_m - 50.0).abs() < 1e-9);
    assert!(toml::from_str::<RiskConfig>("[levels]\npurple = 1.0\n").is_err());
    let black = Rgba([0, 0, 0, 255]);
    let state = f.state.clone().with_config(ServeConfig {
        risk,
        styles: Styles {
            palette: Palette {
                red: black,
                ..Palette::default()
            },
            ..Styles::default()
        },
        tile_cache_bytes: 0,
        ..ServeConfig::default()
    });
    state
        .apply_risk_config()
        .expect("the map with the new weights");
    let app = app(state.clone());
    let c = f.bbox.center();
    assert_eq!(api_level(&app, Point::new(c.x, c.y)).await, RiskLevel::Red);
    let t = TileCoord::containing(c.x, c.y, 15).expect("a tile");
    let (_, _, bytes) = get_bytes(&app, &format!("/tiles/risk/15/{}/{}.png", t.x, t.y), None).await;
    let tile = Decoded::new(&bytes);
    assert!(tile.rgba.chunks(4).any(|p| p == black.0));
    assert!(tile.rgba.chunks(4).all(|p| p[3] == 0 || p == black.0));
    // Without a cache every tile is rendered anew.
    assert!(state.tiles.cache.is_empty());
}

#[tokio::test]
async fn counts_per_area_and_the_exported_risk_map() {
    let f = fixture(Backend::Gpkg).await;
    let levels: Vec<(String, RiskLevel)> = f
        .state
        .engine()
        .risk
        .map
        .cells
        .iter()
        .map(|c| (c.community.to_string(), c.level))
        .collect();
    for (level, digits) in [("community", 12), ("subdistrict", 9), ("district", 6)] {
        let uri = format!("/api/v1/risk/counts?level={level}");
        let r = get(&f.app, &uri).await;
        assert_eq!(r.status, StatusCode::OK, "{uri}: {}", r.body);
        let areas = r.body["areas"].as_array().expect("areas");
        let mut total = 0;
        for a in areas {
            let code = a["code"].as_str().expect("code");
            assert_eq!(code.len(), digits);
            let mine: Vec<RiskLevel> = levels
                .iter()
                .filter(|(c, _)| c.starts_with(code))
                .map(|&(_, l)| l)
                .collect();
            let n = |l| mine.iter().filter(|&&x| x == l).count();
            assert_eq!(a["red"], n(RiskLevel::Red), "{uri}: {a}");
            assert_eq!(a["orange"], n(RiskLevel::Orange), "{uri}: {a}");
            assert_eq!(a["yellow"], n(RiskLevel::Yellow), "{uri}: {a}");
            assert_eq!(a["blue"], n(RiskLevel::Blue), "{uri}: {a}");
            let highest: RiskLevel = serde_json::from_value(a["level"].clone()).expect("level");
            assert_eq!(Some(highest), mine.iter().copied().max(), "{uri}");
            total += mine.len();
        }
        assert_eq!(total, levels.len(), "{uri}: every cell counted once");
    }
    let uri = "/api/v1/risk/counts?level=block";
    problem(&get(&f.app, uri).await, StatusCode::BAD_REQUEST, uri);
    // civgrid export risk, read back by GDAL.
    let dir = tempfile::tempdir().expect("a temporary directory");
    let out = dir.path().join("risk.gpkg");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_civgrid"))
        .args(["--store", &f.holder.spec, "export", "risk", "--out"])
        .arg(&out)
        .output()
        .expect("the civgrid binary runs");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert_eq!(
        ogrinfo_counts(&out).get("risk").copied(),
        Some(levels.len() as i64)
    );
    let red = levels.iter().filter(|(_, l)| *l == RiskLevel::Red).count() as i64;
    assert!(red > 0);
    assert_eq!(
        ogrinfo_scalar(
            &out,
            "SQLITE",
            "SELECT COUNT(*) AS n FROM risk WHERE level = 'red'"
        ),
        red
    );
}

/// A grid edit drops the cached grid tiles it touches: after a cell moves
/// to a neighbouring grid, the tile over it counts the grid's households
/// with the cell's; a worker assigned by an edit is never in a tile (people
/// go to tokens only).
#[tokio::test]
async fn grid_tiles_follow_grid_edits() {
    for backend in both_stores() {
        let (city, _) = city();
        let (_holder, store) = store_with(backend, &city).await;
        let cells = active_cells(&store).await;
        let day = "2026-01-01".parse().expect("a date");
        grids::run(&store, GridConfig::default(), day, false)
            .await
            .expect("grids");
        let basic: Vec<Grid> = store
            .load_grids()
            .await
            .expect("grids")
            .into_iter()
            .filter(|g| g.kind == GridKind::Basic)
            .collect();
        let households_in = |c: &Cell| -> u32 {
            city.buildings
                .iter()
                .filter(|x| {
                    c.geometry
                        .contains(&x.geometry.interior_point().expect("a point"))
                })
                .map(|x| x.households)
                .sum()
        };
        // A cell wholly in grid `from`, on its border with `to`, that `to`
        // can take within the bound of 300 households.
        let (from, to, cell, moved) = basic
            .iter()
            .flat_map(|a| basic.iter().map(move |b| (a, b)))
            .filter(|(a, b)| {
                a.code != b.code && a.community == b.community && a.geometry.intersects(&b.geometry)
            })
            .find_map(|(a, b)| {
                let cell = cells.iter().find(|c| {
                    a.geometry.intersection(&c.geometry).unsigned_area()
                        > c.geometry.unsigned_area() * 0.999
                        && c.geometry.intersects(&b.geometry)
                        && b.households + households_in(c) <= 300
                })?;
                Some((a, b, cell, households_in(cell)))
            })
            .expect("a cell one grid can give its neighbour");
        let state = AppState::load_with(
            store.clone(),
            ServeConfig {
                writer_token: WriterToken::new(TOKEN),
                ..ServeConfig::default()
            },
        )
        .await
        .expect("state");
        let app = app(state);
        let p = cell.geometry.interior_point().expect("a point");
        let t = TileCoord::containing(p.x(), p.y(), 16).expect("a tile");
        let uri = format!("/tiles/grids/16/{}/{}.mvt", t.x, t.y);
        let households_of = |bytes: &[u8]| {
            decode_mvt(bytes.to_vec(), "grids")
                .into_iter()
                .find(|x| string(x, "code") == to.code.to_string())
                .and_then(|x| int(&x, "households"))
        };
        let (status, headers, bytes) = get_bytes(&app, &uri, None).await;
        assert_eq!(status, StatusCode::OK, "{backend:?} {uri}");
        let etag = headers[header::ETAG].to_str().expect("an ETag").to_owned();
        assert_eq!(
            households_of(&bytes),
            Some(i64::from(to.households)),
            "{backend:?}"
        );
        for edit in [
            json!({"op": "assign", "grid": to.code.to_string(), "author": "李四",
                "worker": {"name": "王芳", "phone": "13800000000"}}),
            json!({"op": "move_cell", "cell": cell.code.to_string(),
                "to": to.code.to_string(), "author": "李四"}),
        ] {
            let req = Request::builder()
                .method(Method::POST)
                .uri("/api/v1/grids/edits")
                .header(header::AUTHORIZATION, format!("Bearer {TOKEN}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(edit.to_string()))
                .expect("a request");
            let resp = app.clone().oneshot(req).await.expect("an answer");
            assert_eq!(
                resp.status(),
                StatusCode::CREATED,
                "{backend:?} {edit} from {}",
                from.code
            );
        }
        let (status, _, bytes) = get_bytes(&app, &uri, Some(&etag)).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "{backend:?}: the edit changed the tile"
        );
        assert_eq!(
            households_of(&bytes),
            Some(i64::from(to.households + moved)),
            "{backend:?}"
        );
        assert!(
            !String::from_utf8_lossy(&bytes).contains("王芳"),
            "{backend:?}: a worker's name in a tile"
        );
    }
}

/// Risk per household grid and grids in a hazard's impact: each cell
/// placed here in the stored grid whose outline holds its point (brute
/// force), its level read from `/api/v1/risk` at that point.
#[tokio::test]
async fn grid_counts_and_impact_grids_against_brute_force() {
    let (city, _) = city();
    let (_holder, store) = store_with(Backend::Gpkg, &city).await;
    let cells = active_cells(&store).await;
    let day = "2026-01-01".parse().expect("a date");
    let r = get(
        &app(AppState::load(store.clone()).await.expect("state")),
        "/api/v1/risk/counts?level=grid",
    )
    .await;
    assert_eq!(r.status, StatusCode::CONFLICT, "before grids: {}", r.body);
    grids::run(&store, GridConfig::default(), day, false)
        .await
        .expect("grids");
    let stored: Vec<_> = store
        .load_grids()
        .await
        .expect("grids")
        .into_iter()
        .filter(|g| g.end.is_none())
        .collect();
    let app = app(AppState::load(store.clone()).await.expect("state"));
    let r = get(&app, "/api/v1/risk/counts?level=grid").await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let areas = r.body["areas"].as_array().expect("areas");
    let total: u64 = areas
        .iter()
        .map(|a| {
            ["red", "orange", "yellow", "blue"]
                .iter()
                .map(|k| a[*k].as_u64().expect("n"))
                .sum::<u64>()
        })
        .sum();
    assert_eq!(total, cells.len() as u64, "every cell counts in one grid");
    // Three grids checked cell by cell.
    for a in areas.iter().step_by(areas.len() / 3 + 1) {
        let code = a["code"].as_str().expect("code");
        let grid = stored
            .iter()
            .find(|g| g.code.to_string() == code)
            .expect("a stored grid");
        let mut seen = std::collections::BTreeMap::new();
        for c in &cells {
            let p = c.point().expect("a point");
            let holder = stored
                .iter()
                .filter(|g| g.geometry.intersects(&p))
                .map(|g| g.code)
                .min();
            if holder == Some(grid.code) {
                *seen.entry(api_level(&app, p).await).or_insert(0_u64) += 1;
            }
        }
        for (key, level) in [
            ("red", RiskLevel::Red),
            ("orange", RiskLevel::Orange),
            ("yellow", RiskLevel::Yellow),
            ("blue", RiskLevel::Blue),
        ] {
            assert_eq!(
                a[key].as_u64(),
                Some(seen.get(&level).copied().unwrap_or(0)),
                "{code} {key}"
            );
        }
    }
    // Impact: the grids' cells and households add up to the answer's.
    let hazard = city_hazard_id(&store).await;
    let r = get(&app, &format!("/api/v1/hazards/{hazard}/impact")).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let sum = |key: &str, field: &str| -> u64 {
        r.body[key]
            .as_array()
            .expect(key)
            .iter()
            .map(|x| x[field].as_u64().expect(field))
            .sum()
    };
    assert_eq!(
        sum("grids", "cells"),
        r.body["cells"].as_array().expect("cells").len() as u64
    );
    assert_eq!(
        sum("grids", "households"),
        r.body["households"].as_u64().expect("households")
    );
}

/// The id of a stored hazard of the city.
async fn city_hazard_id(store: &std::sync::Arc<dyn civgrid_service::store::Store>) -> i64 {
    store
        .load()
        .await
        .expect("load")
        .hazards
        .first()
        .expect("a hazard")
        .id
}
