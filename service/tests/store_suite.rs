//! The store suite: every test runs against both stores (GeoPackage and
//! PostGIS) through the same `Store` trait.

use std::sync::Arc;

use civgrid::synth::{synthesize, SynthConfig};
use civgrid::{CommunityKind, LayerCounts, Territory};
use civgrid_service::store::{self, ImportBatch, Store, StoreError};
use sqlx::Connection;

use crate::common::{
    assert_same_territory, both_stores, error_chain, fixture_territory, non_admin_count, rect,
    Backend, TestStore,
};

/// The synthetic test city (8 communities, about 100 buildings) with a
/// river, so every layer is stored.
fn test_city() -> Territory {
    let city = synthesize(&SynthConfig::test().river(true)).expect("the test city synthesizes");
    assert!(!city.barriers.is_empty(), "the test city has its river");
    city
}

async fn open(s: &TestStore) -> Arc<dyn Store> {
    match store::open(&s.spec).await {
        Ok(store) => store,
        Err(e) => panic!("{:?}: cannot open {}: {e}", s.backend, s.spec),
    }
}

fn batch(source: &str, territory: Territory) -> ImportBatch {
    ImportBatch {
        source: source.to_owned(),
        territory,
    }
}

/// Every id of a layer is positive and distinct.
fn assert_ids_distinct(what: &str, ids: impl Iterator<Item = i64>) {
    let ids: Vec<i64> = ids.collect();
    let distinct: std::collections::HashSet<_> = ids.iter().collect();
    assert!(
        ids.iter().all(|&i| i > 0),
        "{what}: ids must be positive: {ids:?}"
    );
    assert_eq!(distinct.len(), ids.len(), "{what}: ids must be distinct");
}

async fn round_trip(s: &TestStore) {
    let what = format!("{:?}", s.backend);
    let city = test_city();
    // The city exercises every layer and every kind of hazard geometry and
    // assessment, or the round trip would prove less than it claims.
    let c = city.counts();
    assert!(
        c.districts == 1 && c.subdistricts == 2 && c.communities == 8,
        "{c}"
    );
    assert!(
        c.buildings > 20 && c.facilities > 0 && c.roads > 0 && c.incidents > 0,
        "{c}"
    );
    assert!(city
        .hazards
        .iter()
        .any(|h| matches!(h.geometry, civgrid::HazardGeometry::Point(_))));
    assert!(city
        .hazards
        .iter()
        .any(|h| matches!(h.geometry, civgrid::HazardGeometry::Area(_))));
    assert!(city.communities.iter().all(|a| a.kind.is_some()));

    let store = open(s).await;
    assert_eq!(
        store.counts().await.expect("counts"),
        LayerCounts::default(),
        "{what}: a new store is empty"
    );
    assert_eq!(
        store.load().await.expect("load"),
        Territory::default(),
        "{what}: a new store is empty"
    );

    let outcome = store
        .import(&[batch("synthetic", city.clone())])
        .await
        .expect("import");
    assert_eq!(outcome.written, c, "{what}: written");
    assert_eq!(outcome.replaced, 0, "{what}: nothing to replace");

    let loaded = store.load().await.expect("load");
    assert_same_territory(&loaded, &city, 1e-9, &what);
    assert_ids_distinct(
        &format!("{what} buildings"),
        loaded.buildings.iter().map(|b| b.id),
    );
    assert_ids_distinct(
        &format!("{what} facilities"),
        loaded.facilities.iter().map(|f| f.id),
    );
    assert_ids_distinct(
        &format!("{what} hazards"),
        loaded.hazards.iter().map(|h| h.id),
    );
    assert_ids_distinct(&format!("{what} roads"), loaded.roads.iter().map(|r| r.id));
    assert_ids_distinct(
        &format!("{what} incidents"),
        loaded.incidents.iter().map(|i| i.id),
    );
    assert_eq!(store.counts().await.expect("counts"), c, "{what}: counts()");

    // Opening the store again (migrations already applied) gives the same data.
    drop(store);
    let again = open(s).await;
    let reloaded = again.load().await.expect("load after reopening");
    assert_same_territory(&reloaded, &city, 1e-9, &format!("{what} reopened"));
    assert_eq!(
        reloaded.buildings.iter().map(|b| b.id).collect::<Vec<_>>(),
        loaded.buildings.iter().map(|b| b.id).collect::<Vec<_>>(),
        "{what}: ids are stable"
    );
}

#[tokio::test]
async fn synthetic_city_round_trips() {
    for backend in both_stores() {
        let s = TestStore::new(backend).await;
        round_trip(&s).await;
    }
}

async fn reimport_replaces(s: &TestStore) {
    let what = format!("{:?}", s.backend);
    let city = test_city();
    let store = open(s).await;
    store
        .import(&[batch("synthetic", city.clone())])
        .await
        .expect("first import");

    // Another source's features are not touched by re-importing the city.
    let fixture = fixture_territory();
    let extra = Territory {
        buildings: fixture.buildings.clone(),
        facilities: fixture.facilities.clone(),
        ..Territory::default()
    };
    let o = store
        .import(&[batch("extra.geojson", extra.clone())])
        .await
        .expect("extra");
    assert_eq!(o.replaced, 0, "{what}");
    assert_eq!(o.written.buildings, extra.buildings.len(), "{what}");

    let mut expected = city.counts();
    expected.buildings += extra.buildings.len();
    expected.facilities += extra.facilities.len();
    assert_eq!(
        store.counts().await.expect("counts"),
        expected,
        "{what}: after extra"
    );

    let again = store
        .import(&[batch("synthetic", city.clone())])
        .await
        .expect("second import");
    assert_eq!(again.written, city.counts(), "{what}: written again");
    assert_eq!(
        again.replaced,
        non_admin_count(&city),
        "{what}: replaced = the earlier import's non-administrative features"
    );
    assert_eq!(
        store.counts().await.expect("counts"),
        expected,
        "{what}: counts unchanged by re-import"
    );

    // The extra source survives, with its values.
    let loaded = store.load().await.expect("load");
    let kept: Vec<_> = loaded
        .buildings
        .iter()
        .filter(|b| {
            extra
                .buildings
                .iter()
                .any(|e| e.name == b.name && e.geometry == b.geometry)
        })
        .collect();
    assert_eq!(
        kept.len(),
        extra.buildings.len(),
        "{what}: the other source's buildings stay"
    );

    // Re-importing a source that brought nothing replaces nothing.
    let empty = store
        .import(&[batch("nothing", Territory::default())])
        .await
        .expect("empty");
    assert_eq!((empty.replaced, empty.written.total()), (0, 0), "{what}");

    // Administrative areas upsert by code: a changed name and kind win, no duplicate.
    let mut renamed_community = city.communities[3].clone();
    renamed_community.name = "改名社区".into();
    renamed_community.kind = Some(match renamed_community.kind {
        Some(CommunityKind::Urban) => CommunityKind::Rural,
        _ => CommunityKind::Urban,
    });
    let mut renamed_district = city.districts[0].clone();
    renamed_district.name = "新区".into();
    renamed_district.geometry = rect(120.0, 30.0, 120.5, 30.5);
    let upsert = store
        .import(&[batch(
            "renames.geojson",
            Territory {
                communities: vec![renamed_community.clone()],
                districts: vec![renamed_district.clone()],
                ..Territory::default()
            },
        )])
        .await
        .expect("upsert");
    assert_eq!(
        upsert.replaced, 0,
        "{what}: admin areas are not keyed by source"
    );
    assert_eq!(upsert.written.communities, 1, "{what}");
    assert_eq!(
        store.counts().await.expect("counts"),
        expected,
        "{what}: no duplicate admin areas"
    );
    let loaded = store.load().await.expect("load");
    let same_code: Vec<_> = loaded
        .communities
        .iter()
        .filter(|c| c.code == renamed_community.code)
        .collect();
    assert_eq!(same_code.len(), 1, "{what}: one community per code");
    assert_eq!(same_code[0].name, "改名社区", "{what}: the new name wins");
    assert_eq!(
        same_code[0].kind, renamed_community.kind,
        "{what}: the new kind wins"
    );
    assert_eq!(loaded.districts.len(), 1, "{what}");
    assert_eq!(loaded.districts[0].name, "新区", "{what}");
    assert_eq!(
        loaded.districts[0].geometry, renamed_district.geometry,
        "{what}: the new boundary wins"
    );
    // The other communities are untouched.
    for c in city
        .communities
        .iter()
        .filter(|c| c.code != renamed_community.code)
    {
        let l = loaded
            .communities
            .iter()
            .find(|l| l.code == c.code)
            .expect("still there");
        assert_eq!(
            (&l.name, l.kind, &l.geometry),
            (&c.name, c.kind, &c.geometry),
            "{what}"
        );
    }
}

#[tokio::test]
async fn reimport_replaces_the_source_and_admin_areas_upsert_by_code() {
    for backend in both_stores() {
        let s = TestStore::new(backend).await;
        reimport_replaces(&s).await;
    }
}

/// Installs a database trigger that rejects any road named `REJECT ME`: a
/// real failure of the database in the middle of an import's transaction.
async fn install_rejecting_trigger(s: &TestStore) {
    match s.backend {
        Backend::Gpkg => {
            let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", s.spec))
                .await
                .expect("connect to the GeoPackage");
            sqlx::query(
                "CREATE TRIGGER reject_test BEFORE INSERT ON roads WHEN NEW.name = 'REJECT ME' \
                 BEGIN SELECT RAISE(ABORT, 'rejected by the test trigger'); END",
            )
            .execute(&mut c)
            .await
            .expect("create trigger");
            c.close().await.expect("close");
        }
        Backend::Postgis => {
            let mut c = sqlx::PgConnection::connect(&s.spec)
                .await
                .expect("connect to PostGIS");
            sqlx::query(
                "CREATE FUNCTION reject_test() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.name = 'REJECT ME' THEN RAISE EXCEPTION 'rejected by the test trigger'; END IF; \
                 RETURN NEW; END $$",
            )
            .execute(&mut c)
            .await
            .expect("create function");
            sqlx::query(
                "CREATE TRIGGER reject_test BEFORE INSERT ON roads FOR EACH ROW EXECUTE FUNCTION reject_test()",
            )
            .execute(&mut c)
            .await
            .expect("create trigger");
            c.close().await.expect("close");
        }
    }
}

async fn failed_import_is_atomic(s: &TestStore) {
    let what = format!("{:?}", s.backend);
    let city = test_city();
    let store = open(s).await;
    store
        .import(&[batch("synthetic", city.clone())])
        .await
        .expect("first import");
    install_rejecting_trigger(s).await;
    let before = store.load().await.expect("load");
    let counts = store.counts().await.expect("counts");
    let bytes = (s.backend == Backend::Gpkg).then(|| std::fs::read(&s.spec).expect("read gpkg"));

    // First batch: a new source and a renamed community (an upsert).
    // Second batch: the city again (its earlier features are deleted inside
    // the transaction) with one road the database rejects, last.
    let fixture = fixture_territory();
    let mut renamed = city.communities[0].clone();
    renamed.name = "不该出现".into();
    let first = Territory {
        communities: vec![renamed],
        facilities: fixture.facilities.clone(),
        roads: fixture.roads.clone(),
        ..Territory::default()
    };
    let mut second = city.clone();
    let mut bad = fixture.roads[0].clone();
    bad.name = "REJECT ME".into();
    second.roads.push(bad);
    let err = match store
        .import(&[batch("new.geojson", first), batch("synthetic", second)])
        .await
    {
        Ok(o) => panic!("{what}: the import should fail, but wrote {}", o.written),
        Err(e) => e,
    };
    assert!(
        matches!(err, StoreError::Database { .. } | StoreError::Write { .. }),
        "{what}: expected a database error, got {err:?}"
    );
    assert!(
        error_chain(&err).contains("rejected by the test trigger"),
        "{what}: the error carries the database's message: {}",
        error_chain(&err)
    );

    assert_eq!(
        store.counts().await.expect("counts"),
        counts,
        "{what}: counts unchanged"
    );
    let after = store.load().await.expect("load");
    assert_same_territory(
        &after,
        &before,
        0.0,
        &format!("{what} after a failed import"),
    );
    assert!(
        after == before,
        "{what}: the store (ids included) is unchanged"
    );
    if let Some(bytes) = bytes {
        drop(store);
        assert!(
            std::fs::read(&s.spec).expect("read gpkg") == bytes,
            "{what}: the GeoPackage file is byte-for-byte unchanged"
        );
    }
}

#[tokio::test]
async fn an_import_failing_inside_the_transaction_changes_nothing() {
    for backend in both_stores() {
        let s = TestStore::new(backend).await;
        failed_import_is_atomic(&s).await;
    }
}

#[tokio::test]
async fn an_unknown_store_kind_is_an_error() {
    for spec in ["foo.txt", "civgrid", "mysql://localhost/db"] {
        match store::open(spec).await {
            Err(StoreError::UnknownKind(s)) => {
                assert_eq!(s, spec);
                let msg = StoreError::UnknownKind(s).to_string();
                assert!(
                    msg.contains(".gpkg") && msg.contains("postgres://"),
                    "{msg}"
                );
            }
            Err(e) => panic!("{spec}: expected UnknownKind, got {e}"),
            Ok(_) => panic!("{spec}: expected UnknownKind, opened a store"),
        }
    }
    assert!(
        !std::path::Path::new("foo.txt").exists(),
        "nothing is created"
    );
}
