//! `GET /api/v1/locate?lon=&lat=[&datum=gcj02|bd09]`: the administrative
//! areas, the unit cell and the household grid (with its worker) holding a
//! point, and every overlay zone holding it (police beat, school-safety zone…).
//! The worker and leader are given only to callers with a token.

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use civgrid::grids::Grid;
use civgrid::Location;
use geo_types::Point;
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::Reader;
use crate::error::{ServiceError, ServiceResult};
use crate::ogc::People;
use crate::state::{AppState, Engine};

pub fn routes() -> Router<AppState> {
    Router::new().route("/locate", get(locate))
}

/// Raw parameters: parsed by hand so that errors name the parameter.
#[derive(Debug, Default, Deserialize)]
struct LocateParams {
    lon: Option<String>,
    lat: Option<String>,
    datum: Option<String>,
}

async fn locate(
    reader: Reader,
    State(state): State<AppState>,
    Query(q): Query<LocateParams>,
) -> ServiceResult<Json<Value>> {
    let p = params::point(q.lon.as_deref(), q.lat.as_deref(), q.datum.as_deref())?;
    let engine = state.engine();
    let loc = locate_in_territory(&engine, p)?;
    let mut answer = chain_json(p, &loc);
    answer["grid"] = json!(engine.grids.index.locate(p).map(|g| {
        let mut grid = json!({
            "code": g.code.to_string(),
            "kind": g.kind.as_str(),
            "name": g.name,
            "households": g.households,
        });
        add_people(&mut grid, Some(g), reader.people());
        grid
    }));
    answer["zones"] = json!(engine.zones.zones.locate(p));
    Ok(Json(answer))
}

/// Adds `worker` and `leader` (name and phone; null for nobody or no
/// grid) of `grid` to the object `to` when `people` may be shown; else
/// leaves them out.
pub(super) fn add_people(to: &mut Value, grid: Option<&Grid>, people: People) {
    if people == People::Shown {
        to["worker"] = json!(grid.and_then(|g| g.worker.as_ref()));
        to["leader"] = json!(grid.and_then(|g| g.leader.as_ref()));
    }
}

/// The areas and cell holding `p`.
///
/// # Errors
/// [`ServiceError::NotFound`] when no district or community holds it.
pub(super) fn locate_in_territory(engine: &Engine, p: Point<f64>) -> ServiceResult<Location> {
    let loc = engine.locator.locate(p);
    if loc.is_empty() {
        return Err(ServiceError::NotFound(format!(
            "({}, {}) is outside the territory: no district or community contains it",
            p.x(),
            p.y()
        )));
    }
    Ok(loc)
}

/// The point and its administrative chain and cell, as JSON.
pub(super) fn chain_json(p: Point<f64>, loc: &Location) -> Value {
    json!({
        "lon": p.x(),
        "lat": p.y(),
        "district": loc.district,
        "subdistrict": loc.subdistrict,
        "community": loc.community,
        "cell": loc.cell,
    })
}
