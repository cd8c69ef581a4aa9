//! Household grids (全科网格) in the service: `civgrid grids` makes a plan
//! from the stored territory and cells; the API validates proposals and
//! applies planner edits, each stored with the log entry that records it
//! (who, when, before and after) in one transaction, then reflected in the
//! in-memory index.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::NaiveDate;
use civgrid::cells::{Cell, CellCode};
use civgrid::grids::{
    plan_with_progress, Contact, Edit, EditContext, EditOutcome, Grid, GridConfig, GridIndex,
    GridKind, GridReport,
};
use civgrid::{AdminArea, AdminCode, Building, Locator, Territory};
use gdal::vector::LayerAccess;
use serde_json::{json, Value};

use crate::ogc::{self, People};
use crate::progress::Progress;
use crate::store::{Actor, GridEditRecord, Store};
use crate::values;

/// What `civgrid grids` did.
#[derive(Debug)]
pub struct GridsRun {
    /// The engine's report.
    pub report: GridReport,
    /// Grids stored, active and retired.
    pub stored: usize,
    /// Time spent planning.
    pub plan_time: Duration,
    /// Time spent in all.
    pub total_time: Duration,
}

/// Operations of the edit log that change grid outlines by hand.
const HAND_EDITS: [&str; 5] = ["move_cell", "move_building", "redraw", "merge", "split"];

/// Why `civgrid grids` did not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum GridsError {
    /// Planners redrew grids since the last plan: a new plan would replace
    /// their work.
    #[error(
        "{count} hand edits of grids since the last plan (latest: edit {latest} by {author}); a new plan would replace them: pass --replace-edits to do so, or revert them"
    )]
    HandEdits {
        /// Edits not reverted since the last plan.
        count: usize,
        /// The newest.
        latest: i64,
        /// Its author.
        author: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// Makes the grids of every community of `store` as of `today` and
/// replaces the stored ones (codes, workers and leaders of matching grids
/// are kept; see [`civgrid::grids`]), logging the plan as an edit (`plan`).
///
/// Planners' hand edits since the last plan (moves, redraws, merges,
/// splits not reverted) would be replaced: without `replace_edits` the run
/// stops with [`GridsError::HandEdits`] and changes nothing.
pub async fn run(
    store: &Arc<dyn Store>,
    config: GridConfig,
    today: NaiveDate,
    replace_edits: bool,
) -> Result<GridsRun, GridsError> {
    let started = Instant::now();
    let log = store.load_grid_edits().await?;
    let since = log
        .iter()
        .rposition(|e| e.op == "plan")
        .map_or(0, |i| i + 1);
    let reverted: std::collections::BTreeSet<i64> = log.iter().filter_map(|r| r.reverts).collect();
    let hand: Vec<&GridEditRecord> = log[since..]
        .iter()
        .filter(|e| HAND_EDITS.contains(&e.op.as_str()))
        .filter(|e| !reverted.contains(&e.id))
        .collect();
    if let (Some(latest), false) = (hand.last(), replace_edits) {
        return Err(GridsError::HandEdits {
            count: hand.len(),
            latest: latest.id,
            author: latest.author.clone(),
        });
    }
    let hand: Vec<i64> = hand.iter().map(|e| e.id).collect();
    let territory = store.load().await?;
    let (cells, _) = store.load_cells().await?;
    let previous = store.load_grids().await?;
    tracing::info!(
        "grids: {} communities, {} buildings, {} cells, {} previous grids",
        territory.communities.len(),
        territory.buildings.len(),
        cells.len(),
        previous.len()
    );
    let plan_started = Instant::now();
    let plan = tokio::task::spawn_blocking(move || {
        let total = territory.communities.len() as u64;
        let progress = Mutex::new(Progress::new("grids", Some(total)));
        let plan = plan_with_progress(&territory, &cells, &previous, today, &config, &|_, _| {
            if let Ok(mut p) = progress.lock() {
                p.inc(1);
            }
        });
        if let Ok(p) = progress.into_inner() {
            p.finish();
        }
        plan
    })
    .await
    .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()));
    let plan_time = plan_started.elapsed();
    let r = &plan.report;
    let summary = json!({
        "op": "plan",
        "grids": r.grids,
        "by_kind": r.by_kind,
        "households": r.households,
        "within_bounds": r.within_bounds,
        "lower_bound": r.lower_bound,
        "kept": r.kept,
        "new": r.new,
        "retired": r.retired,
        "replaced_edits": hand,
    });
    let entry = GridEditRecord {
        id: 0,
        community: String::new(),
        op: "plan".into(),
        author: "civgrid grids".into(),
        at: chrono::Utc::now().timestamp(),
        request: summary.to_string(),
        before: "{}".into(),
        after: "{}".into(),
        reverts: None,
    };
    store
        .replace_grids(&plan.grids, &entry, &Actor::cli())
        .await?;
    Ok(GridsRun {
        stored: plan.grids.len(),
        report: plan.report,
        plan_time,
        total_time: started.elapsed(),
    })
}

/// What the service keeps in memory for grids: the index of active grids,
/// the history (for codes), and per community what an edit needs. The
/// communities and buildings, which edits do not change, are shared by
/// the engine's snapshots.
#[derive(Debug, Clone, Default)]
pub struct GridState {
    /// Active grids by envelope and code.
    pub index: GridIndex,
    /// Every grid, active and retired, by code.
    pub history: Vec<Grid>,
    /// Communities by code.
    pub communities: Arc<BTreeMap<AdminCode, AdminArea>>,
    /// Buildings per community (by representative point).
    pub buildings: Arc<BTreeMap<AdminCode, Vec<Building>>>,
    /// Bounds and settings.
    pub config: GridConfig,
}

impl GridState {
    /// The state of `grids` over `territory`, with buildings placed by `locator`.
    pub fn new(
        territory: &Territory,
        locator: &Locator,
        grids: Vec<Grid>,
        config: GridConfig,
    ) -> Self {
        let mut buildings: BTreeMap<AdminCode, Vec<Building>> = BTreeMap::new();
        for b in &territory.buildings {
            let community = b.point().and_then(|p| locator.locate(p).community);
            if let Some(c) = community {
                buildings.entry(c.code).or_default().push(b.clone());
            }
        }
        let mut state = Self {
            index: GridIndex::default(),
            history: Vec::new(),
            communities: Arc::new(
                territory
                    .communities
                    .iter()
                    .map(|a| (a.code, a.clone()))
                    .collect(),
            ),
            buildings: Arc::new(buildings),
            config,
        };
        state.set(grids);
        state
    }

    /// Replaces the history and reindexes.
    fn set(&mut self, mut grids: Vec<Grid>) {
        grids.sort_by(|a, b| a.code.cmp(&b.code).then(a.start.cmp(&b.start)));
        self.index = GridIndex::new(grids.iter().cloned());
        self.history = grids;
    }

    /// Replaces the stored rows of these grids (by code) and reindexes.
    pub fn update(&mut self, rows: &[Grid]) {
        let mut grids: Vec<Grid> = self
            .history
            .iter()
            .filter(|g| rows.iter().all(|r| r.code != g.code))
            .cloned()
            .collect();
        grids.extend(rows.iter().cloned());
        self.set(grids);
    }

    /// The community, or a message naming the unknown code.
    pub fn community(&self, code: AdminCode) -> Result<&AdminArea, String> {
        self.communities
            .get(&code)
            .ok_or_else(|| format!("unknown community code {code}"))
    }

    /// The buildings of a community.
    pub fn buildings_of(&self, code: AdminCode) -> Vec<&Building> {
        self.buildings
            .get(&code)
            .map(|v| v.iter().collect())
            .unwrap_or_default()
    }

    /// Applies `edit` to community `code` (not stored); `cells` are the
    /// active cells, by code.
    pub fn apply(
        &self,
        code: AdminCode,
        cells: &[Cell],
        edit: &Edit,
        today: NaiveDate,
    ) -> Result<EditOutcome, String> {
        let community = self.community(code)?;
        let grids: Vec<Grid> = self
            .history
            .iter()
            .filter(|g| g.community == code)
            .cloned()
            .collect();
        let cells: Vec<&Cell> = cells.iter().filter(|c| c.community == code).collect();
        let buildings = self.buildings_of(code);
        let ctx = EditContext {
            community,
            bounds: self.config.bounds(community),
            grids: &grids,
            cells: &cells,
            buildings: &buildings,
            today,
        };
        civgrid::grids::apply_edit(&ctx, edit).map_err(|e| e.to_string())
    }
}

/// Grids as a GeoJSON FeatureCollection (every attribute, end date
/// included; workers and leaders as `people` allows).
pub fn feature_collection(grids: &[Grid], people: People) -> Value {
    json!({
        "type": "FeatureCollection",
        "features": grids.iter().map(|g| ogc::grid(g).to_json_for(people)).collect::<Vec<_>>(),
    })
}

/// Grids read back from [`feature_collection`]'s form (the edit log).
pub fn from_feature_collection(v: &Value) -> Result<Vec<Grid>, String> {
    let features = v
        .get("features")
        .and_then(Value::as_array)
        .ok_or("not a FeatureCollection")?;
    features.iter().map(grid_of_feature).collect()
}

fn grid_of_feature(f: &Value) -> Result<Grid, String> {
    let props = f.get("properties").ok_or("feature without properties")?;
    let text = |k: &str| props.get(k).and_then(Value::as_str);
    let need = |k: &str| text(k).ok_or_else(|| format!("grid feature without {k}"));
    let parse_date = |k: &str| -> Result<Option<NaiveDate>, String> {
        text(k)
            .map(|s| s.parse().map_err(|e| format!("{k}: {e}")))
            .transpose()
    };
    let contact = |prefix: &str| {
        let (name, phone) = (
            text(&format!("{prefix}_name")),
            text(&format!("{prefix}_phone")),
        );
        (name.is_some() || phone.is_some()).then(|| Contact {
            name: name.unwrap_or_default().to_owned(),
            phone: phone.unwrap_or_default().to_owned(),
        })
    };
    let count = |k: &str| {
        props
            .get(k)
            .and_then(Value::as_u64)
            .and_then(|n| u32::try_from(n).ok())
    };
    let geometry = f.get("geometry").ok_or("grid feature without geometry")?;
    let geometry: geojson::Geometry =
        serde_json::from_value(geometry.clone()).map_err(|e| e.to_string())?;
    let geometry =
        match geo_types::Geometry::<f64>::try_from(geometry).map_err(|e| e.to_string())? {
            geo_types::Geometry::MultiPolygon(m) => m,
            geo_types::Geometry::Polygon(p) => geo_types::MultiPolygon::new(vec![p]),
            _ => return Err("grid geometry is not a polygon".into()),
        };
    Ok(Grid {
        code: need("code")?
            .parse::<CellCode>()
            .map_err(|e| e.to_string())?,
        community: need("community")?
            .parse::<AdminCode>()
            .map_err(|e| e.to_string())?,
        kind: need("kind")?
            .parse::<GridKind>()
            .map_err(|e| e.to_string())?,
        name: text("name").unwrap_or_default().to_owned(),
        households: count("households").unwrap_or(0),
        population: count("population"),
        worker: contact("worker"),
        leader: contact("leader"),
        area_m2: props.get("area_m2").and_then(Value::as_f64).unwrap_or(0.0),
        geometry,
        start: parse_date("start_date")?.ok_or("grid feature without start_date")?,
        end: parse_date("end_date")?,
    })
}

/// A new log entry (id 0) for grids going from `before` to `after`.
pub fn record(
    community: AdminCode,
    op: &str,
    author: &str,
    request: &Value,
    before: &[Grid],
    after: &[Grid],
    reverts: Option<i64>,
) -> GridEditRecord {
    GridEditRecord {
        id: 0,
        community: community.to_string(),
        op: op.to_owned(),
        author: author.to_owned(),
        at: chrono::Utc::now().timestamp(),
        request: request.to_string(),
        before: feature_collection(before, People::Shown).to_string(),
        after: feature_collection(after, People::Shown).to_string(),
        reverts,
    }
}

/// The rows that undo `edit` given the current `history`: its `before`
/// grids, and its new grids retired on `today`. `Err` names the first grid
/// changed since the edit (a later edit must be reverted first).
pub fn undo(
    edit: &GridEditRecord,
    history: &[Grid],
    today: NaiveDate,
) -> Result<(Vec<Grid>, Vec<Grid>), String> {
    let parse = |s: &str| {
        serde_json::from_str::<Value>(s)
            .map_err(|e| e.to_string())
            .and_then(|v| from_feature_collection(&v))
    };
    let before = parse(&edit.before)?;
    let after = parse(&edit.after)?;
    let mut current = Vec::new();
    for a in &after {
        let now = history.iter().find(|g| g.code == a.code);
        let same = now.is_some_and(|g| ogc::grid(g).to_json() == ogc::grid(a).to_json());
        if !same {
            return Err(format!(
                "grid {} changed after edit {}; revert the later edits first",
                a.code, edit.id
            ));
        }
        current.extend(now.cloned());
    }
    let mut rows = before.clone();
    for a in &after {
        if before.iter().all(|b| b.code != a.code) {
            rows.push(Grid {
                end: Some(today),
                ..a.clone()
            });
        }
    }
    Ok((current, rows))
}

/// What went wrong reading a workers file.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WorkersError {
    /// GDAL could not open or read the file.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// GDAL's message.
        reason: String,
    },
    /// A row is wrong: its line (the header is line 1) and what is wrong.
    #[error("{path}: line {line}: {reason}")]
    Row {
        /// The file.
        path: String,
        /// Line of the row (header = 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The workers and leaders a file names, per grid code.
pub type Assignments = Vec<(CellCode, Option<Contact>, Option<Contact>)>;

/// Reads a table of grid workers through GDAL (CSV, XLSX, ODS, GeoPackage…):
/// columns `code`, `worker_name`, `worker_phone`, `leader_name`,
/// `leader_phone` (empty cells: no such person). A row without a valid
/// grid code, or with a name or phone no store keeps ([`values::text`]), is
/// an error naming its line and column.
pub fn read_workers(path: &std::path::Path) -> Result<Assignments, WorkersError> {
    let shown = path.display().to_string();
    let read = |reason: String| WorkersError::Read {
        path: shown.clone(),
        reason,
    };
    let ds = gdal::Dataset::open(path).map_err(|e| read(e.to_string()))?;
    let mut layer = ds.layer(0).map_err(|e| read(e.to_string()))?;
    let mut out = Vec::new();
    for (i, f) in layer.features().enumerate() {
        let line = i + 2;
        let field = |name: &str| -> Option<String> {
            let idx = f.field_index(name).ok()?;
            f.field_as_string(idx)
                .ok()
                .flatten()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        };
        let row = |reason: String| WorkersError::Row {
            path: shown.clone(),
            line,
            reason,
        };
        let code = field("code").ok_or_else(|| row("no grid code in column `code`".into()))?;
        let code: CellCode = code.parse().map_err(|e| row(format!("code: {e}")))?;
        let contact = |prefix: &str| -> Result<Option<Contact>, WorkersError> {
            let read = |column: String| {
                let v = field(&column);
                if let Some(v) = &v {
                    values::text(&column, v).map_err(|e| row(e.to_string()))?;
                }
                Ok::<_, WorkersError>(v)
            };
            let (name, phone) = (
                read(format!("{prefix}_name"))?,
                read(format!("{prefix}_phone"))?,
            );
            Ok((name.is_some() || phone.is_some()).then(|| Contact {
                name: name.unwrap_or_default(),
                phone: phone.unwrap_or_default(),
            }))
        };
        out.push((code, contact("worker")?, contact("leader")?));
    }
    Ok(out)
}

/// Names the workers and leaders of `assignments` in one transaction, with
/// one log entry per community (`assign`, author `author`). Every code must
/// be an active grid, or nothing is written; `source` names the file in
/// errors and in the log. Returns the grids changed.
pub async fn assign_workers(
    store: &Arc<dyn Store>,
    assignments: &Assignments,
    author: &str,
    source: &str,
) -> Result<usize, WorkersError> {
    let grids = store.load_grids().await?;
    let mut by_community: BTreeMap<AdminCode, (Vec<Grid>, Vec<Grid>)> = BTreeMap::new();
    for (i, (code, worker, leader)) in assignments.iter().enumerate() {
        let grid = grids
            .iter()
            .find(|g| g.code == *code && g.end.is_none())
            .ok_or_else(|| WorkersError::Row {
                path: source.to_owned(),
                line: i + 2,
                reason: format!("no active grid {code}"),
            })?;
        let entry = by_community.entry(grid.community).or_default();
        entry.0.push(grid.clone());
        entry.1.push(Grid {
            worker: worker.clone(),
            leader: leader.clone(),
            ..grid.clone()
        });
    }
    let request = json!({ "op": "assign", "file": source });
    let edits: Vec<(Vec<Grid>, GridEditRecord)> = by_community
        .into_iter()
        .map(|(community, (before, after))| {
            let entry = record(community, "assign", author, &request, &before, &after, None);
            (after, entry)
        })
        .collect();
    store.write_grid_edits(&edits, &Actor::cli()).await?;
    Ok(edits.iter().map(|(g, _)| g.len()).sum())
}
