//! The engine's live state and its one write path.
//!
//! [`Engine`] is one snapshot of the in-memory indexes over the stored
//! territory (see [`crate::state`] for how snapshots are published). A
//! stored write reaches it as a typed change, an [`Update`], applied by
//! [`apply`], which says what it touched ([`Touched`]). HTTP handlers and
//! the replica's follower build the same updates and call the same
//! function. Nothing here does I/O: no store, no HTTP, no cache.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use civgrid::cells::{Adjacency, Cell, CellCode};
use civgrid::components::{Component, ComponentIndex};
use civgrid::grids::{Grid, GridConfig};
use civgrid::{Facility, Hazard, Indexed, LayerCounts, Locator, RiskConfig, Territory};
use geo::{BoundingRect, Intersects};
use geo_types::Rect;

use crate::components::ComponentGrids;
use crate::grids::GridState;
use crate::ogc::{self, Collection};
use crate::progress::Stages;
use crate::responders::{CoverageReport, ResponderError, Responders};
use crate::risk::RiskState;
use crate::zones::ZoneState;

/// In-memory indexes over the stored territory: one snapshot (see the
/// module docs). Cloning it is cheap: it shares every part.
#[derive(Debug, Clone)]
pub struct Engine {
    /// Point → administrative areas.
    pub locator: Arc<Locator>,
    /// Feature counts.
    pub counts: LayerCounts,
    /// The active unit cells, by code.
    pub cells: Arc<Vec<Cell>>,
    /// Pairs of active cells sharing an edge.
    pub adjacency: Arc<Vec<Adjacency>>,
    /// The OGC API Features collections.
    pub collections: Collections,
    /// Facility and hazard indexes, road graphs and coverage targets.
    pub responders: Arc<Responders>,
    /// Household grids and what their edits need.
    pub grids: Arc<GridState>,
    /// Each cell's risk score and level.
    pub risk: Arc<RiskState>,
    /// Incidents with the cell and grid holding them, for hot spots.
    pub incidents: Arc<Vec<PlacedIncident>>,
    /// Components (部件), tied to the active cells.
    pub components: Arc<ComponentIndex>,
    /// The household grid of each component.
    pub component_grids: Arc<ComponentGrids>,
    /// Overlay zones and their validation reports.
    pub zones: Arc<ZoneState>,
    /// Coverage answers computed on this snapshot, kept for the snapshots
    /// after it until a facility or hazard write.
    pub coverage: Arc<Memo<Arc<CoverageReport>>>,
}

/// Answers kept for the next asker, by question: the [`MEMO_ANSWERS`]
/// most recently computed. A snapshot shares its memo with the ones after
/// it until a write changes what the answers depend on (then the next
/// snapshot starts an empty one).
#[derive(Debug)]
pub struct Memo<T> {
    answers: Mutex<VecDeque<(String, T)>>,
}

/// Answers a [`Memo`] keeps.
pub const MEMO_ANSWERS: usize = 8;

impl<T> Default for Memo<T> {
    fn default() -> Self {
        Self {
            answers: Mutex::new(VecDeque::new()),
        }
    }
}

impl<T: Clone> Memo<T> {
    /// The answer to `question`: kept, or computed by `compute` and kept.
    ///
    /// # Errors
    /// What `compute` returns.
    pub fn get_or<E>(
        &self,
        question: &str,
        compute: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        let kept = self
            .lock()
            .iter()
            .find(|(q, _)| q == question)
            .map(|(_, a)| a.clone());
        if let Some(answer) = kept {
            return Ok(answer);
        }
        let answer = compute()?;
        let mut answers = self.lock();
        answers.retain(|(q, _)| q != question);
        answers.push_front((question.to_owned(), answer.clone()));
        answers.truncate(MEMO_ANSWERS);
        Ok(answer)
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<(String, T)>> {
        self.answers.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// What a write touched: the places whose cached tiles must go once its
/// snapshot is published.
#[derive(Debug, Default)]
pub struct Touched {
    /// Lon/lat rectangles: every cached tile meeting one is dropped.
    pub areas: Vec<Rect<f64>>,
}

impl Touched {
    /// Adds the places of `rects`.
    pub fn extend(&mut self, rects: impl IntoIterator<Item = Rect<f64>>) {
        self.areas.extend(rects);
    }
}

/// An incident with the active cell and grid holding it (found when the
/// engine is built; the grid again when an edit changes the grids there).
#[derive(Debug, Clone, PartialEq)]
pub struct PlacedIncident {
    /// Its kind or class code.
    pub kind: String,
    /// When, seconds since the Unix epoch.
    pub time_unix_s: i64,
    /// The active unit cell holding it.
    pub cell: Option<CellCode>,
    /// The active household grid holding it.
    pub grid: Option<CellCode>,
    /// Where it happened: its grid is found again when grids change there.
    pub location: geo_types::Point<f64>,
}

/// The layers served as OGC API Features collections.
#[derive(Debug, Clone)]
pub struct Collections {
    /// Unit cells (active ones).
    pub cells: Arc<Collection>,
    /// Facilities.
    pub facilities: Arc<Collection>,
    /// Hazards.
    pub hazards: Arc<Collection>,
    /// Household grids (active ones).
    pub grids: Arc<Collection>,
    /// Components (部件).
    pub components: Arc<Collection>,
    /// Overlay zones.
    pub zones: Arc<Collection>,
}

impl Collections {
    /// Every collection, in the order listed by `/ogc/collections`.
    pub fn all(&self) -> [&Collection; 6] {
        [
            &self.cells,
            &self.grids,
            &self.facilities,
            &self.hazards,
            &self.components,
            &self.zones,
        ]
    }

    /// The collection with this id.
    pub fn get(&self, id: &str) -> Option<&Collection> {
        self.all().into_iter().find(|c| c.id == id)
    }
}

impl Engine {
    /// Builds the indexes of a territory, its cells and its grids (active
    /// and retired: only the active cells are kept). Builds road graphs:
    /// seconds for a city, so call it from a blocking task.
    ///
    /// # Errors
    /// [`ResponderError`] for a facility, hazard or road that cannot be indexed.
    pub fn new(
        territory: &Territory,
        mut cells: Vec<Cell>,
        adjacency: Vec<Adjacency>,
        grids: Vec<Grid>,
        grid_config: GridConfig,
        risk_config: RiskConfig,
        stages: &Stages,
    ) -> Result<Self, ResponderError> {
        cells.retain(|c| c.end.is_none());
        cells.sort_by_key(|c| c.code);
        let locator = stages.run("locator", || Locator::new(territory).with_cells(&cells));
        // The road graphs take longest; what does not need them is built
        // alongside.
        let (responders, (grids, (components, moved), zones)) = rayon::join(
            || {
                stages.run("responders and road graphs", || {
                    Responders::new(territory, &cells, &locator)
                })
            },
            || {
                (
                    stages.run("household grids", || {
                        GridState::new(territory, &locator, grids, grid_config)
                    }),
                    stages.run("components", || {
                        ComponentIndex::new(territory.components.clone(), &locator)
                    }),
                    stages.run("zones", || ZoneState::new(territory)),
                )
            },
        );
        let responders = responders?;
        let risk = stages.run("risk map", || {
            RiskState::new(risk_config, &responders, &cells)
        })?;
        let incidents = stages.run("incidents", || {
            territory
                .incidents
                .iter()
                .map(|i| PlacedIncident {
                    kind: i.kind.clone(),
                    time_unix_s: i.time_unix_s,
                    cell: locator.locate(i.location).cell.map(|c| c.code),
                    grid: grids.index.locate(i.location).map(|g| g.code),
                    location: i.location,
                })
                .collect()
        });
        if moved > 0 {
            tracing::warn!(
                moved,
                "components whose stored cell is not the active cell holding them (run `civgrid cells` again to store the new ones)"
            );
        }
        let component_grids = ComponentGrids::new(&components, &grids.index);
        let cells = Arc::new(cells);
        let collections = stages.run("OGC collections", || Collections {
            cells: Arc::new(ogc::cells(cells.clone())),
            facilities: Arc::new(ogc::facilities(&territory.facilities)),
            hazards: Arc::new(ogc::hazards(&territory.hazards)),
            grids: Arc::new(ogc::grids(grids.index.grids())),
            components: Arc::new(ogc::components(components.iter())),
            zones: Arc::new(ogc::zones(&zones.features)),
        });
        Ok(Self {
            collections,
            component_grids: Arc::new(component_grids),
            incidents: Arc::new(incidents),
            locator: Arc::new(locator),
            counts: territory.counts(),
            components: Arc::new(components),
            zones: Arc::new(zones),
            grids: Arc::new(grids),
            cells,
            adjacency: Arc::new(adjacency),
            responders: Arc::new(responders),
            risk: Arc::new(risk),
            coverage: Arc::default(),
        })
    }
}

/// A stored write, as the engine takes it.
#[derive(Debug, Clone)]
pub enum Update {
    /// Facility `id` is now the given one, indexed in the given region,
    /// or gone (`None`).
    Facility {
        /// Its store id.
        id: i64,
        /// Its region and the facility as stored.
        now: Option<(usize, Facility)>,
    },
    /// Hazard `id` is now the given one, indexed in the given region, or
    /// gone (`None`).
    Hazard {
        /// Its store id.
        id: i64,
        /// Its region and the hazard as stored.
        now: Option<(usize, Hazard)>,
    },
    /// Component `id` is now the given one (tied to this engine's cells),
    /// or gone (`None`).
    Component {
        /// Its store id.
        id: i64,
        /// The component as stored.
        now: Option<Component>,
    },
    /// These stored grid rows replace the rows with their codes.
    Grids(Vec<Grid>),
}

/// Applies `update` to `engine` (a snapshot being built): indexes, counts,
/// risk, collections; fills `touched` with the places whose tiles change.
///
/// # Errors
/// [`ResponderError`] when a feature cannot be indexed or the risk map
/// recomputed; `engine` is then to be dropped, not published.
pub fn apply(
    engine: &mut Engine,
    update: Update,
    touched: &mut Touched,
) -> Result<(), ResponderError> {
    match update {
        Update::Facility { id, now } => {
            let old = swap_in(touched, now, |now| {
                let responders = Arc::make_mut(&mut engine.responders);
                Ok(match now {
                    Some((region, f)) => responders.put_facility(region, f)?,
                    None => responders.remove_facility(id),
                })
            })?;
            let new = engine.responders.facility(id);
            recount(&mut engine.counts.facilities, old.is_some(), new.is_some());
            let (risk, changed) =
                engine
                    .risk
                    .after_facility(&engine.responders, &engine.cells, old.as_ref(), new)?;
            engine.risk = Arc::new(risk);
            engine.coverage = Arc::default();
            touched.extend(changed);
            let facilities = Arc::make_mut(&mut engine.collections.facilities);
            match new {
                Some(f) => facilities.put(ogc::facility(f)),
                None => facilities.remove(&id.to_string()),
            }
        }
        Update::Hazard { id, now } => {
            let old = swap_in(touched, now, |now| {
                let responders = Arc::make_mut(&mut engine.responders);
                Ok(match now {
                    Some((region, h)) => responders.put_hazard(region, h)?,
                    None => responders.remove_hazard(id),
                })
            })?;
            let new = engine.responders.hazard(id);
            recount(&mut engine.counts.hazards, old.is_some(), new.is_some());
            let (risk, reached, changed) =
                engine.risk.after_hazard(&engine.cells, old.as_ref(), new);
            engine.risk = Arc::new(risk);
            Arc::make_mut(&mut engine.responders).relevel(&engine.cells, reached)?;
            engine.coverage = Arc::default();
            touched.extend(changed);
            let hazards = Arc::make_mut(&mut engine.collections.hazards);
            match engine.responders.hazard(id) {
                Some(h) => hazards.put(ogc::hazard(h)),
                None => hazards.remove(&id.to_string()),
            }
        }
        Update::Component { id, now } => {
            let has = now.is_some();
            let area = |c: &Component| c.geometry.bounding_rect();
            touched.extend(now.as_ref().and_then(area));
            let grids = Arc::make_mut(&mut engine.component_grids);
            let index = Arc::make_mut(&mut engine.components);
            let old = match now {
                Some(c) => {
                    grids.place(&c, &engine.grids.index);
                    index.put(c)
                }
                None => {
                    grids.forget(id);
                    index.remove(id)
                }
            };
            touched.extend(old.as_ref().and_then(area));
            recount(&mut engine.counts.components, old.is_some(), has);
            // Its feature's id is its code, which a write may change.
            let components = Arc::make_mut(&mut engine.collections.components);
            if let Some(o) = &old {
                components.remove(&o.code.to_string());
            }
            if let Some(c) = engine.components.by_id(id) {
                components.put(ogc::component(c));
            }
        }
        Update::Grids(rows) => regrid(engine, &rows, touched),
    }
    Ok(())
}

/// Puts a feature in (`Some`) or takes it out (`None`) with `change`,
/// which returns the one it replaced; touches both places. The replaced
/// one.
fn swap_in<T: Indexed>(
    touched: &mut Touched,
    now: Option<(usize, T)>,
    change: impl FnOnce(Option<(usize, T)>) -> Result<Option<T>, ResponderError>,
) -> Result<Option<T>, ResponderError> {
    let area = |x: &T| x.geometry().bounding_rect();
    touched.extend(now.as_ref().and_then(|(_, x)| area(x)));
    let old = change(now)?;
    touched.extend(old.as_ref().and_then(area));
    Ok(old)
}

/// A layer's count after a write: one more when a feature came, one less
/// when one went.
fn recount(count: &mut usize, had: bool, has: bool) {
    match (had, has) {
        (false, true) => *count += 1,
        (true, false) => *count = count.saturating_sub(1),
        _ => {}
    }
}

/// Puts stored grid rows in: the index and collection; components and
/// incidents under the grids' old and new places take their grid again.
fn regrid(engine: &mut Engine, rows: &[Grid], touched: &mut Touched) {
    let areas: Vec<Rect<f64>> = rows
        .iter()
        .chain(rows.iter().filter_map(|g| engine.grids.index.get(g.code)))
        .filter_map(|g| g.geometry.bounding_rect())
        .collect();
    let grids = Arc::make_mut(&mut engine.grids);
    grids.update(rows);
    let collection = Arc::make_mut(&mut engine.collections.grids);
    for row in rows {
        match grids.index.get(row.code) {
            Some(g) => collection.put(ogc::grid(g)),
            None => collection.remove(&row.code.to_string()),
        }
    }
    Arc::make_mut(&mut engine.component_grids).refresh(&grids.index, &areas);
    let under = |i: &PlacedIncident| areas.iter().any(|r| r.intersects(&i.location));
    if engine.incidents.iter().any(under) {
        for i in Arc::make_mut(&mut engine.incidents)
            .iter_mut()
            .filter(|i| under(i))
        {
            i.grid = grids.index.locate(i.location).map(|g| g.code);
        }
    }
    touched.extend(areas);
}
