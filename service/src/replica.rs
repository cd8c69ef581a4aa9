//! Replicas: several `civgrid serve` processes over one PostGIS. Each
//! follows the others' writes, announced by the store (NOTIFY on commit),
//! and applies them as it applies its own: a facility or hazard by id, a
//! grid by code, anything wholesale (an import, new cells, a new plan, or
//! announcements missed while the connection was down) by reloading the
//! whole state. The tiles a change touches are dropped either way.

use std::time::{Duration, Instant};

use tokio::sync::mpsc::Receiver;

use crate::error::ServiceError;
use crate::routes::{components, features, grids};
use crate::state::{AppState, LoadError};
use crate::store::{Change, Layer};

/// Pause between attempts at a reload that failed (the store is down).
const RETRY: Duration = Duration::from_secs(1);

/// Applies every change heard on `changes` to `state`, until the store
/// stops announcing. See [`follow_one`]: a change that cannot be followed
/// never stops the ones after it.
pub async fn follow(state: AppState, mut changes: Receiver<Change>) {
    while let Some(first) = changes.recv().await {
        for change in batch(first, &mut changes) {
            follow_one(&state, &change).await;
        }
    }
}

/// `first` and the changes announced with it (one transaction announces
/// its tables together): one wholesale reload when any of them needs it
/// (an import touches many tables), else each.
fn batch(first: Change, changes: &mut Receiver<Change>) -> Vec<Change> {
    let mut all = vec![first];
    while let Ok(more) = changes.try_recv() {
        all.push(more);
    }
    if all.iter().any(wholesale) {
        let origin = all[0].origin.clone();
        return vec![Change {
            origin,
            layer: "*".into(),
            all: true,
            ..Change::default()
        }];
    }
    all
}

/// Whether a change is followed by reloading everything: one that says
/// so, or one of a layer not followed feature by feature.
fn wholesale(c: &Change) -> bool {
    c.all
        || !matches!(
            c.layer.as_str(),
            "facilities" | "hazards" | "components" | "grids"
        )
}

/// Applies one change. A store that cannot be read is waited for (the
/// change is tried again every [`RETRY`]); any other failure means this
/// process cannot follow the change feature by feature, so it reloads
/// everything the store holds instead, and when even that cannot be built
/// it says so loudly and goes on with the next change: a follower never
/// stops on one change.
async fn follow_one(state: &AppState, change: &Change) {
    let start = Instant::now();
    let mut change = change.clone();
    loop {
        match apply(state, &change).await {
            Ok(()) => {
                tracing::info!(
                    layer = change.layer,
                    ids = change.ids.len(),
                    codes = change.codes.len(),
                    all = change.all,
                    took_ms = start.elapsed().as_millis(),
                    "followed a write of another process"
                );
                return;
            }
            Err(e @ ServiceError::Store(_)) => {
                tracing::warn!(layer = change.layer, error = %e, "cannot read another process's write from the store; retrying");
                tokio::time::sleep(RETRY).await;
            }
            Err(e) if !change.all => {
                tracing::error!(layer = change.layer, ids = ?change.ids, codes = ?change.codes, error = %e,
                    "cannot follow another process's write feature by feature; reloading everything from the store");
                change.all = true;
            }
            Err(e) => {
                tracing::error!(layer = change.layer, error = %e,
                    "cannot follow another process's write even by reloading; serving the state as it was and following the next writes");
                return;
            }
        }
    }
}

/// Applies one change, in order with this process's own writes.
async fn apply(state: &AppState, change: &Change) -> Result<(), ServiceError> {
    let _order = state.writes.lock().await;
    let layer = match change.layer.as_str() {
        "facilities" => Some(Layer::Facilities),
        "hazards" => Some(Layer::Hazards),
        _ => None,
    };
    match layer {
        Some(layer) if !change.all => {
            for &id in &change.ids {
                let stored = state.store.load_feature(layer, id).await?;
                features::follow(state, layer, id, stored)?;
            }
            Ok(())
        }
        None if change.layer == "components" && !change.all => {
            for &id in &change.ids {
                let stored = match state.store.load_feature(Layer::Components, id).await? {
                    Some(crate::store::Feature::Component(c)) => Some(c),
                    _ => None,
                };
                components::follow(state, id, stored)?;
            }
            Ok(())
        }
        None if change.layer == "grids" && !change.all => {
            let stored = state.store.load_grids().await?;
            let rows: Vec<_> = stored
                .into_iter()
                .filter(|g| change.codes.contains(&g.code.to_string()))
                .collect();
            grids::reindex(state, &rows)
        }
        _ => state.reload().await.map_err(|e| match e {
            LoadError::Store(e) => ServiceError::Store(e),
            other => ServiceError::Internal(format!("reload: {other}")),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(layer: &str, ids: &[i64], all: bool) -> Change {
        Change {
            origin: "other".into(),
            layer: layer.into(),
            ids: ids.to_vec(),
            all,
            ..Change::default()
        }
    }

    /// A transaction's changes heard together: one reload when any needs
    /// it (an import's or a cells run's many tables), else each in turn.
    #[test]
    fn changes_heard_together_reload_once_or_follow_each() {
        let (tx, mut rx) = tokio::sync::mpsc::channel(8);
        for c in [
            change("cells", &[], true),
            change("components", &[3, 4], false),
        ] {
            tx.try_send(c).unwrap();
        }
        let first = rx.try_recv().unwrap();
        let b = batch(first, &mut rx);
        assert_eq!(b.len(), 1);
        assert_eq!(
            (b[0].layer.as_str(), b[0].all, b[0].origin.as_str()),
            ("*", true, "other")
        );

        for c in [
            change("facilities", &[1], false),
            change("grids", &[], false),
        ] {
            tx.try_send(c).unwrap();
        }
        let first = rx.try_recv().unwrap();
        let b = batch(first, &mut rx);
        assert_eq!(
            b.iter().map(|c| c.layer.as_str()).collect::<Vec<_>>(),
            ["facilities", "grids"]
        );
        assert!(rx.try_recv().is_err(), "all were taken");
    }
}
