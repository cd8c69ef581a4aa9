//! `POST /api/v1/imports?name=FILE[&repair=true][&replace_empty=true]`: an
//! import over HTTP, for admins. The body is the file (any format GDAL
//! reads from one file: GeoJSON, GeoPackage, a zipped Shapefile as
//! `.shp.zip`, OSM PBF…); it is read and checked whole like `civgrid import
//! FILE`, within the bounds of `ServeConfig::import_limits` (413 beyond),
//! written with its audit entry in one transaction, and the service then
//! reloads its state (other replicas follow). A file with no features that
//! would remove what an earlier import of the same name brought is refused
//! unless `replace_empty=true`.

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::StatusCode;
use axum::routing::post;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::params;
use crate::auth::{Administration, Writer};
use crate::error::{ServiceError, ServiceResult};
use crate::import::{self, ImportOptions};
use crate::state::AppState;

/// Largest file by default: 256 MiB.
pub const DEFAULT_IMPORT_LIMIT: usize = 256 << 20;

pub fn routes(limit: usize) -> Router<AppState> {
    // The import's own limit, and its own 413 naming it (the service-wide
    // one names the body limit of every other route).
    Router::new().route(
        "/imports",
        post(import_file).layer(DefaultBodyLimit::max(limit)).layer(
            axum::middleware::from_fn_with_state(limit, super::problem_bodies),
        ),
    )
}

#[derive(Debug, Deserialize)]
struct ImportQuery {
    name: Option<String>,
    repair: Option<String>,
    replace_empty: Option<String>,
}

async fn import_file(
    writer: Writer<Administration>,
    State(state): State<AppState>,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> ServiceResult<(StatusCode, Json<Value>)> {
    let name = q.name.unwrap_or_default();
    let plain = !name.is_empty()
        && name.contains('.')
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "._- ".contains(c));
    if !plain {
        return Err(ServiceError::BadRequest(format!(
            "name: the file's name with its extension (e.g. roads.geojson), letters, digits, '.', '_', '-' only; found {name:?}"
        )));
    }
    if body.is_empty() {
        return Err(ServiceError::BadRequest(
            "the body is empty: send the file".into(),
        ));
    }
    let opts = ImportOptions {
        repair: params::flag("repair", q.repair.as_deref())?,
        replace_empty: params::flag("replace_empty", q.replace_empty.as_deref())?,
        limits: state.config.import_limits,
        ..ImportOptions::default()
    };
    let replace_empty = opts.replace_empty;
    let file = tokio::task::spawn_blocking(move || {
        let dir = tempfile::tempdir()
            .map_err(|e| ServiceError::Internal(format!("a temporary folder: {e}")))?;
        // A zip is unpacked by the reader, within the bounds.
        let path = dir.path().join(&name);
        std::fs::write(&path, &body)
            .map_err(|e| ServiceError::Internal(format!("staging the file: {e}")))?;
        let staged = format!("{}/", dir.path().display());
        // Messages name the file as sent, not where it was staged.
        let clean = move |e: &dyn std::fmt::Display| e.to_string().replace(&staged, "");
        let mut read = import::read_file(&path, &opts).map_err(|e| match e {
            import::ImportError::OverBound { .. } => ServiceError::TooLarge(clean(&e)),
            other => ServiceError::BadRequest(clean(&other)),
        })?;
        read.batch.source.clone_from(&name);
        let clean = move |e: &dyn std::fmt::Display| ServiceError::BadRequest(clean(e));
        Ok::<_, ServiceError>((read, clean))
    })
    .await
    .map_err(|e| ServiceError::Internal(format!("the import worker failed: {e}")))??;
    let (mut file, clean) = file;
    let (notes, skipped) = (std::mem::take(&mut file.notes), file.skipped);
    let _order = state.writes.lock().await;
    let batches = import::place(
        state.store.as_ref(),
        vec![file],
        Vec::new(),
        state.config.max_outside_m,
    )
    .await
    .map_err(|e| match e {
        import::PlacementError::Store(e) => ServiceError::from(e),
        other => clean(&other),
    })?;
    let outcome = state
        .store
        .import_with(&batches, &writer.actor(), replace_empty)
        .await?;
    state.reload().await.map_err(|e| {
        ServiceError::Internal(format!(
            "imported, but the state could not be reloaded ({e}); restart the server"
        ))
    })?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "source": batches.first().map(|b| b.source.as_str()),
            "written": outcome.written,
            "removed": outcome.replaced,
            "replaced": outcome.replaced,
            "repairs": notes.iter().map(|n| format!("{}: {}", n.at, n.what)).collect::<Vec<_>>(),
            "skipped": skipped,
        })),
    ))
}
