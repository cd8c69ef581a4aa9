//! Responders over the loaded territory: facility and hazard indexes and
//! road graphs per region, the unit cells as coverage targets, and the
//! updates that API writes make to them.
//!
//! # Regions and projections
//!
//! Distances are measured in a transverse Mercator ([`LocalProjection`]):
//! exact on its central meridian, stretched by 1 + (Δλ·cos φ)²/2 away from
//! it (0.14 % at 3° of longitude on the equator; at 95°, Helsinki seen from
//! Hangzhou's meridian, the projection is meaningless). One store may hold
//! distant territories (the demo holds Hangzhou, lon 120°, and Helsinki,
//! lon 25°), so the loaded features are grouped into **regions**: the
//! connected groups of 1° × 1° lon/lat tiles touched by their bounding
//! boxes (tiles sharing an edge or a corner are connected). Features of two
//! regions are therefore at least 1° of longitude or latitude apart.
//!
//! Each region has its own projection, on the middle meridian of its
//! extent, its own facility and hazard indexes and its own road graph. A
//! query is answered in the region nearest to its point, exactly within it:
//! facilities of other regions are not responders to it. A region wider
//! than [`WIDE_REGION_DEG`] of longitude (a whole province in one piece) is
//! still one region; its edges are measured up to 0.14 % long and a
//! warning is logged at load.
//!
//! # Inside the territory
//!
//! A point is inside the territory when it lies at most `max_outside_m`
//! (`--max-outside-km`, default [`DEFAULT_MAX_OUTSIDE_M`]) from its
//! [`Reach`]: the extents of the regions of its administrative areas,
//! roads, facilities and hazards as loaded (writes do not grow it; a
//! territory of buildings only reaches as far as its regions). The distance is the
//! great-circle distance to the point of the box nearest in longitude and
//! latitude (the point itself when inside it). The same rule holds on every
//! path that writes: HTTP writes, `civgrid import` and imports over HTTP;
//! a replica serves what another process stored, wherever it lies.

use std::cmp::Reverse;
use std::collections::HashMap;
use std::sync::Arc;

use civgrid::cells::{Cell, CellCode};
use civgrid::cow::CowVec;
use civgrid::network::{
    CoverageSource, NetworkError, RoadGraph, Share, SnappedTargets, SpeedTable, TurnoutTable,
};
use civgrid::{
    AdminCode, CrsError, Facility, FacilityIndex, FacilityKind, Hazard, HazardGeometry,
    HazardIndex, IndexError, Indexed, LayerIndex, LocalProjection, Locator, RiskLevel, Road,
    Territory,
};
use geo::{BoundingRect, Centroid, Distance, Haversine, InteriorPoint, Intersects};
use geo_types::{Coord, Geometry, MultiPolygon, Point, Rect};
use rayon::prelude::*;

/// Default largest distance from the territory of a query or a written
/// feature, metres.
pub const DEFAULT_MAX_OUTSIDE_M: f64 = 20_000.0;

/// Side of the lon/lat tiles that regions are made of, degrees.
const TILE_DEG: f64 = 1.0;

/// Fewer metres than a degree of latitude spans anywhere (110.57 km at the
/// equator), so that boxes grown with it are never too small.
const MIN_METRES_PER_DEGREE: f64 = 110_000.0;

/// A region wider than this, in degrees of longitude, is warned about.
pub const WIDE_REGION_DEG: f64 = 6.0;

/// Why the responders could not be built or updated.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ResponderError {
    /// A facility or hazard could not be indexed.
    #[error("indexing failed: {0}")]
    Index(#[from] IndexError),
    /// The road graph could not be built, or a search failed.
    #[error("road network: {0}")]
    Network(#[from] NetworkError),
    /// A region's projection could not be set up.
    #[error("projection: {0}")]
    Projection(#[from] CrsError),
}

/// A point farther from the territory than allowed.
#[derive(Debug, Clone, Copy, PartialEq, thiserror::Error)]
pub enum Outside {
    /// Nothing is loaded: there is no territory to be near.
    #[error("the territory is empty: import areas, roads or facilities first")]
    Empty,
    /// The point is too far from every region.
    #[error(
        "({lon}, {lat}) is {:.1} km from the territory, farther than the {:.1} km allowed",
        distance_m / 1000.0,
        limit_m / 1000.0
    )]
    TooFar {
        /// Longitude of the point.
        lon: f64,
        /// Latitude of the point.
        lat: f64,
        /// Distance to the nearest region's extent, metres.
        distance_m: f64,
        /// The limit, metres.
        limit_m: f64,
    },
}

/// One region of the territory (see the module docs). Its parts are
/// shared between engine snapshots; a write copies only the index it
/// changes.
#[derive(Debug, Clone)]
pub struct Region {
    /// The lon/lat bounding box of the region's features as loaded.
    pub extent: Rect<f64>,
    /// Its facilities, in its projection.
    pub facilities: Arc<FacilityIndex>,
    /// Its hazards, in its projection.
    pub hazards: Arc<HazardIndex>,
    /// Its road graph; `None` when it has no driven road.
    pub graph: Option<Arc<RoadGraph>>,
    /// Its unit cells as targets of the road graph.
    pub cells: Arc<RegionCells>,
}

/// The unit cells of a region, snapped to its road graph once: cells do
/// not move while the engine lives, so every search reuses the snaps.
#[derive(Debug, Default)]
pub struct RegionCells {
    /// Engine cell indexes, ascending.
    pub members: Vec<usize>,
    /// Their interior points on the region's graph, in the order of
    /// `members` (empty without a graph).
    pub snapped: SnappedTargets,
}

/// The first responder to reach a cell: when, and which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct First {
    /// Turn-out plus drive, milliseconds.
    pub ms: u64,
    /// The facility's store id (the lowest of those arriving at the same
    /// millisecond).
    pub facility: i64,
}

/// Cells (engine indexes) and their first arrivals.
pub type CellArrivals = Vec<(usize, First)>;

/// The answer of [`Responders::arrivals`].
#[derive(Debug, Clone, Default)]
pub struct Arrivals {
    /// Per cell (in the order of [`Responders::cells`]), the first
    /// arrival within the limit.
    pub first: Vec<Option<First>>,
    /// Facilities that respond (of the kinds, in every region).
    pub facilities: usize,
    /// Ids of the facilities too far from every road to respond by road.
    pub unsnapped: Vec<i64>,
    /// Cells in regions without a road network (never reached).
    pub cells_without_roads: usize,
}

impl Region {
    /// Builds the indexes and road graph of one region's features.
    fn build(extent: Rect<f64>, part: &Part) -> Result<Self, ResponderError> {
        let meridian = f64::midpoint(extent.min().x, extent.max().x);
        if extent.width() > WIDE_REGION_DEG {
            tracing::warn!(
                "a region spans {:.1}° of longitude ({:.2}..{:.2}): distances at its edges are up to 0.14 % long",
                extent.width(),
                extent.min().x,
                extent.max().x
            );
        }
        let projection = LocalProjection::new(meridian)?;
        let graph = match RoadGraph::build(&part.roads, &projection, &SpeedTable::default()) {
            Ok(g) => Some(Arc::new(g)),
            Err(NetworkError::Empty) => None,
            Err(e) => return Err(e.into()),
        };
        Ok(Self {
            extent,
            facilities: Arc::new(FacilityIndex::new(
                LocalProjection::new(meridian)?,
                &part.facilities,
            )?),
            hazards: Arc::new(HazardIndex::new(projection, &part.hazards)?),
            graph,
            cells: Arc::default(),
        })
    }

    /// Great-circle distance from `p` to the extent, metres (0 inside).
    pub fn distance_m(&self, p: Point<f64>) -> f64 {
        box_distance_m(self.extent, p)
    }
}

/// Great-circle distance from `p` to the point of `extent` nearest in
/// longitude and latitude, metres (0 inside).
fn box_distance_m(extent: Rect<f64>, p: Point<f64>) -> f64 {
    let (min, max) = (extent.min(), extent.max());
    let nearest = Point::new(p.x().clamp(min.x, max.x), p.y().clamp(min.y, max.y));
    if nearest == p {
        0.0
    } else {
        Haversine.distance(p, nearest)
    }
}

/// How far a territory reaches, for the rule every write path holds to
/// (HTTP writes, `civgrid import`, imports over HTTP): a facility or hazard
/// lies at most `max_outside_m` (`--max-outside-km`) from it. The reach is
/// the extents of the regions (see the module docs) of the stored
/// administrative areas, roads, facilities and hazards, and of the areas and
/// roads an import brings with it; what is being written does not count, so
/// a far feature cannot vouch for itself. Buildings are left out: they lie
/// among the areas and roads, and an import need not read them all.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Reach {
    extents: Vec<Rect<f64>>,
}

impl Reach {
    /// The reach of `stored` with the areas and roads of `added`.
    pub fn of<'a>(stored: &Territory, added: impl IntoIterator<Item = &'a Territory>) -> Self {
        let boxes: Vec<_> = reach_boxes(stored, true)
            .chain(added.into_iter().flat_map(|t| reach_boxes(t, false)))
            .collect();
        Self {
            extents: group(&boxes).0,
        }
    }

    /// Whether the territory has nothing to reach from.
    pub fn is_empty(&self) -> bool {
        self.extents.is_empty()
    }

    /// Great-circle distance from `p` to the nearest extent, metres (0
    /// inside one); `None` when the reach is empty.
    pub fn distance_m(&self, p: Point<f64>) -> Option<f64> {
        self.extents
            .iter()
            .map(|e| box_distance_m(*e, p))
            .min_by(f64::total_cmp)
    }

    /// Checks that `p` lies at most `max_outside_m` from the territory.
    ///
    /// # Errors
    /// [`Outside`] when it is farther, or the reach is empty.
    pub fn check(&self, p: Point<f64>, max_outside_m: f64) -> Result<(), Outside> {
        match self.distance_m(p) {
            None => Err(Outside::Empty),
            Some(d) if d <= max_outside_m => Ok(()),
            Some(distance_m) => Err(Outside::TooFar {
                lon: p.x(),
                lat: p.y(),
                distance_m,
                limit_m: max_outside_m,
            }),
        }
    }
}

/// A unit cell as a coverage target.
#[derive(Debug, Clone, PartialEq)]
pub struct CellTarget {
    /// The cell's code.
    pub code: CellCode,
    /// Its community.
    pub community: AdminCode,
    /// Its interior point, where travel must arrive.
    pub point: Point<f64>,
    /// Households of the buildings whose centroid lies in it.
    pub households: u64,
    /// The highest level of the hazards meeting it (`None`: no hazard).
    pub level: Option<RiskLevel>,
    /// The region it lies in (`None` when nothing else is loaded).
    pub region: Option<usize>,
}

impl CellTarget {
    /// `true` for a red or orange cell.
    pub fn high_risk(&self) -> bool {
        self.level >= Some(RiskLevel::Orange)
    }
}

/// Facilities, hazards and roads of one region, before indexing.
#[derive(Default)]
struct Part {
    facilities: Vec<Facility>,
    hazards: Vec<Hazard>,
    roads: Vec<Road>,
}

/// The regions, their indexes and graphs, and the cells as targets.
/// Cloning it copies no index, graph or cell: they are shared.
#[derive(Debug, Clone, Default)]
pub struct Responders {
    regions: Vec<Region>,
    /// How far the territory reaches, for writes.
    reach: Reach,
    cells: CowVec<CellTarget>,
    turnout: TurnoutTable,
}

/// A question for [`Responders::coverage`].
#[derive(Debug, Clone, Copy)]
pub struct CoverageQuery<'a> {
    /// Facility kinds that respond.
    pub kinds: &'a [FacilityKind],
    /// Time limit after dispatch, seconds.
    pub limit_s: f64,
    /// Turn-out time for every kind, seconds; `None`: each kind's default.
    pub turnout_s: Option<f64>,
    /// Also compute each facility's service area.
    pub isochrones: bool,
    /// Buffer around the reached roads for service areas, metres.
    pub buffer_m: f64,
}

/// The answer of [`Responders::coverage`].
#[derive(Debug, Clone, Default)]
pub struct CoverageReport {
    /// Per cell (in the order of [`Responders::cells`]), the earliest
    /// arrival in seconds when within the limit.
    pub eta_s: Vec<Option<f64>>,
    /// Cells covered.
    pub cells: Share,
    /// Households covered.
    pub households: Share,
    /// Red or orange cells covered.
    pub high_risk: Share,
    /// Facilities that respond (of the kinds, in every region).
    pub facilities: usize,
    /// Ids of the facilities too far from every road to respond by road.
    pub unsnapped: Vec<i64>,
    /// Cells in regions without a road network (never covered).
    pub cells_without_roads: usize,
    /// The cells not covered (indexes in [`Responders::cells`]), most
    /// urgent first: the highest hazard level meeting them, then the most
    /// households, then by code.
    pub uncovered: Vec<usize>,
    /// Each facility's service area, by id, when asked for.
    pub isochrones: Vec<(Facility, MultiPolygon<f64>)>,
}

impl Responders {
    /// Splits `territory` into regions, indexes each region's facilities
    /// and hazards, builds its road graph (seconds for a city: call from a
    /// blocking task), and makes the active `cells` (in the engine's order)
    /// targets, with their households (via `locator`, which must know the
    /// cells) and risk levels.
    ///
    /// # Errors
    /// [`ResponderError`] for a feature that cannot be indexed or a road
    /// that cannot be projected.
    pub fn new(
        territory: &Territory,
        cells: &[Cell],
        locator: &Locator,
    ) -> Result<Self, ResponderError> {
        let (extents, parts) = split(territory);
        let regions = extents
            .into_par_iter()
            .zip(&parts)
            .map(|(extent, part)| Region::build(extent, part))
            .collect::<Result<Vec<_>, _>>()?;
        let households = territory
            .buildings
            .par_iter()
            .fold(HashMap::<CellCode, u64>::new, |mut households, b| {
                let cell = b.geometry.centroid().and_then(|c| locator.locate(c).cell);
                if let Some(cell) = cell {
                    *households.entry(cell.code).or_default() += u64::from(b.households);
                }
                households
            })
            .reduce(HashMap::new, |mut a, b| {
                for (code, n) in b {
                    *a.entry(code).or_default() += n;
                }
                a
            });
        let mut out = Self {
            regions,
            reach: Reach::of(territory, []),
            cells: CowVec::default(),
            turnout: TurnoutTable::default(),
        };
        let targets: Vec<CellTarget> = cells
            .par_iter()
            .map(|c| {
                let point = c
                    .geometry
                    .interior_point()
                    .or_else(|| c.geometry.centroid())
                    .unwrap_or_else(|| Point::new(0.0, 0.0));
                let region = out.nearest_region(point).map(|(i, _)| i);
                Ok(CellTarget {
                    code: c.code,
                    community: c.community,
                    point,
                    households: households.get(&c.code).copied().unwrap_or(0),
                    level: level_at(&out.regions, c, region)?,
                    region,
                })
            })
            .collect::<Result<_, ResponderError>>()?;
        out.cells = targets.into();
        let mut members: Vec<Vec<usize>> = vec![Vec::new(); out.regions.len()];
        for (c, target) in out.cells.iter().enumerate() {
            if let Some(r) = target.region {
                members[r].push(c);
            }
        }
        let targets = &out.cells;
        out.regions
            .par_iter_mut()
            .zip(members)
            .try_for_each(|(region, members)| {
                let snapped = match &region.graph {
                    Some(graph) => {
                        let points: Vec<Point<f64>> =
                            members.iter().map(|&c| targets[c].point).collect();
                        graph.snap_targets(&points)?
                    }
                    None => SnappedTargets::default(),
                };
                region.cells = Arc::new(RegionCells { members, snapped });
                Ok::<_, ResponderError>(())
            })?;
        Ok(out)
    }

    /// The regions.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The unit cells as coverage targets, in the engine's cell order.
    pub fn cells(&self) -> &CowVec<CellTarget> {
        &self.cells
    }

    /// Turn-out times per kind.
    pub fn turnout(&self) -> &TurnoutTable {
        &self.turnout
    }

    /// The region nearest to `p` and its distance in metres.
    fn nearest_region(&self, p: Point<f64>) -> Option<(usize, f64)> {
        let mut best: Option<(usize, f64)> = None;
        for (i, r) in self.regions.iter().enumerate() {
            let d = r.distance_m(p);
            if d == 0.0 {
                return Some((i, d));
            }
            if best.is_none_or(|(_, b)| d < b) {
                best = Some((i, d));
            }
        }
        best
    }

    /// The index of the region answering for `p`: the nearest one, when at
    /// most `max_outside_m` away.
    ///
    /// # Errors
    /// [`Outside`] when nothing is loaded or every region is farther.
    pub fn region_at(&self, p: Point<f64>, max_outside_m: f64) -> Result<usize, Outside> {
        let (i, d) = self.nearest_region(p).ok_or(Outside::Empty)?;
        // A territory of buildings only reaches as far as its regions.
        let d = self.reach.distance_m(p).unwrap_or(d);
        if d <= max_outside_m {
            Ok(i)
        } else {
            Err(Outside::TooFar {
                lon: p.x(),
                lat: p.y(),
                distance_m: d,
                limit_m: max_outside_m,
            })
        }
    }

    /// The facility with this id.
    pub fn facility(&self, id: i64) -> Option<&Facility> {
        self.regions.iter().find_map(|r| r.facilities.get(id))
    }

    /// The hazard with this id.
    pub fn hazard(&self, id: i64) -> Option<&Hazard> {
        self.regions.iter().find_map(|r| r.hazards.get(id))
    }

    /// Every facility (unordered).
    pub fn facilities(&self) -> Vec<Facility> {
        all(&self.regions, |r| &r.facilities)
    }

    /// Every hazard (unordered).
    pub fn hazards(&self) -> Vec<Hazard> {
        all(&self.regions, |r| &r.hazards)
    }

    /// Indexes a stored facility in `region`, replacing the one with its id
    /// wherever it was; returns the replaced one.
    ///
    /// # Errors
    /// [`IndexError`] when its location cannot be indexed; nothing changes.
    pub fn put_facility(
        &mut self,
        region: usize,
        facility: Facility,
    ) -> Result<Option<Facility>, IndexError> {
        put(&mut self.regions, |r| &mut r.facilities, region, facility)
    }

    /// Removes a facility from the indexes and returns it.
    pub fn remove_facility(&mut self, id: i64) -> Option<Facility> {
        take(&mut self.regions, |r| &mut r.facilities, id)
    }

    /// Indexes a stored hazard in `region` (replacing the one with its id);
    /// returns the replaced one. The cells' levels follow with
    /// [`Responders::relevel`].
    ///
    /// # Errors
    /// [`IndexError`] when its geometry cannot be indexed; nothing changes.
    pub fn put_hazard(
        &mut self,
        region: usize,
        hazard: Hazard,
    ) -> Result<Option<Hazard>, IndexError> {
        put(&mut self.regions, |r| &mut r.hazards, region, hazard)
    }

    /// Removes a hazard and returns it. The cells' levels follow with
    /// [`Responders::relevel`].
    pub fn remove_hazard(&mut self, id: i64) -> Option<Hazard> {
        take(&mut self.regions, |r| &mut r.hazards, id)
    }

    /// Sets the level of the cells `which` (engine indexes into `cells`):
    /// the highest level of the hazards of its region whose point or area
    /// meets the cell (DESIGN standard 4).
    ///
    /// # Errors
    /// [`ResponderError::Index`] when a cell's envelope cannot be projected.
    pub fn relevel(
        &mut self,
        cells: &[Cell],
        which: impl IntoIterator<Item = usize>,
    ) -> Result<(), ResponderError> {
        // One by one on the writer's thread: a write never waits for the
        // parallel pool (a coverage search may hold it).
        for i in which {
            let level = level_at(&self.regions, &cells[i], self.cells[i].region)?;
            if level != self.cells[i].level {
                self.cells.make_mut(i).level = level;
            }
        }
        Ok(())
    }

    /// The first arrival at every cell of the facilities of `kinds` within
    /// `limit_s` (turn-out, `turnout_s` for every kind or each kind's
    /// default, plus drive to the cell's interior point), region by region.
    ///
    /// # Errors
    /// [`NetworkError`] when a search fails.
    pub fn arrivals(
        &self,
        kinds: &[FacilityKind],
        limit_s: f64,
        turnout_s: Option<f64>,
    ) -> Result<Arrivals, NetworkError> {
        let mut out = Arrivals {
            first: vec![None; self.cells.len()],
            ..Arrivals::default()
        };
        // Regions are searched in parallel: they share no road.
        let regions: Vec<(usize, CellArrivals, Vec<i64>)> = self
            .regions
            .par_iter()
            .enumerate()
            .map(|(i, region)| {
                let sources: Vec<&Facility> =
                    region.facilities.members(kinds).map(|(f, _)| f).collect();
                let n = sources.len();
                let (reached, unsnapped) = self.reach(i, sources, limit_s, turnout_s)?;
                Ok((n, reached, unsnapped))
            })
            .collect::<Result<_, NetworkError>>()?;
        for (region, (n, reached, unsnapped)) in self.regions.iter().zip(regions) {
            out.facilities += n;
            if region.graph.is_none() {
                out.cells_without_roads += region.cells.members.len();
            }
            for (c, first) in reached {
                out.first[c] = Some(first);
            }
            out.unsnapped.extend(unsnapped);
        }
        out.unsnapped.sort_unstable();
        Ok(out)
    }

    /// The cells facility `id` (indexed, of a kind that responds) reaches
    /// within `limit_s` at its kind's turn-out time, with its arrivals: a
    /// search from it alone, bounded by the limit.
    ///
    /// # Errors
    /// [`NetworkError`] when the search fails.
    pub fn arrivals_from(&self, id: i64, limit_s: f64) -> Result<CellArrivals, NetworkError> {
        let Some((i, f)) = self
            .regions
            .iter()
            .enumerate()
            .find_map(|(i, r)| Some((i, r.facilities.get(id)?)))
        else {
            return Ok(Vec::new());
        };
        Ok(self.reach(i, vec![f], limit_s, None)?.0)
    }

    /// The first arrival within `limit_s` of the facilities of `kinds` at
    /// the cells `which` (engine indexes), at each kind's turn-out time:
    /// searched from the facilities near enough to reach them in time only.
    /// Cells reached by none are not in the answer.
    ///
    /// # Errors
    /// [`NetworkError`] when a search fails.
    pub fn arrivals_at(
        &self,
        which: &[usize],
        kinds: &[FacilityKind],
        limit_s: f64,
    ) -> Result<CellArrivals, NetworkError> {
        let mut out = Vec::new();
        for (i, region) in self.regions.iter().enumerate() {
            let Some(graph) = &region.graph else { continue };
            let mut wanted: Vec<usize> = which
                .iter()
                .copied()
                .filter(|&c| self.cells[c].region == Some(i))
                .collect();
            wanted.sort_unstable();
            let Some(area) = civgrid::extent::extent(
                wanted
                    .iter()
                    .map(|&c| Rect::new(self.cells[c].point, self.cells[c].point)),
            ) else {
                continue;
            };
            let area = grown(area, graph.reach_m(limit_s));
            let sources: Vec<&Facility> = region
                .facilities
                .members(kinds)
                .map(|(f, _)| f)
                .filter(|f| area.intersects(&f.location))
                .collect();
            let (reached, _) = self.reach(i, sources, limit_s, None)?;
            out.extend(
                reached
                    .into_iter()
                    .filter(|(c, _)| wanted.binary_search(c).is_ok()),
            );
        }
        Ok(out)
    }

    /// The cells of region `i` that `sources` reach within `limit_s`, with
    /// their first arrivals, and the ids of the sources far from every road.
    fn reach(
        &self,
        i: usize,
        mut sources: Vec<&Facility>,
        limit_s: f64,
        turnout_s: Option<f64>,
    ) -> Result<(CellArrivals, Vec<i64>), NetworkError> {
        let region = &self.regions[i];
        let Some(graph) = &region.graph else {
            return Ok((Vec::new(), Vec::new()));
        };
        // Sources by id: ties go to the lowest id whichever are searched.
        sources.sort_by_key(|f| f.id);
        let placed: Vec<CoverageSource> = sources
            .iter()
            .map(|f| CoverageSource {
                point: f.location,
                turnout_s: turnout_s.unwrap_or_else(|| self.turnout.seconds(f.kind)),
            })
            .collect();
        let reached = graph.reach(&placed, limit_s, &region.cells.snapped)?;
        let members = &region.cells.members;
        let arrivals = reached
            .arrivals
            .into_iter()
            .map(|(t, a)| {
                let first = First {
                    ms: a.ms,
                    facility: sources[a.source].id,
                };
                (members[t], first)
            })
            .collect();
        let unsnapped = reached
            .unsnapped_sources
            .iter()
            .map(|&s| sources[s].id)
            .collect();
        Ok((arrivals, unsnapped))
    }

    /// Which cells the facilities of `q.kinds` reach within `q.limit_s`
    /// (turn-out plus drive to the cell's interior point), region by region.
    ///
    /// # Errors
    /// [`NetworkError`] when a search fails.
    pub fn coverage(&self, q: &CoverageQuery<'_>) -> Result<CoverageReport, NetworkError> {
        let arrivals = self.arrivals(q.kinds, q.limit_s, q.turnout_s)?;
        let mut out = CoverageReport {
            eta_s: arrivals
                .first
                .iter()
                .map(|a| a.map(|a| a.ms as f64 / 1000.0))
                .collect(),
            facilities: arrivals.facilities,
            unsnapped: arrivals.unsnapped,
            cells_without_roads: arrivals.cells_without_roads,
            ..CoverageReport::default()
        };
        if q.isochrones {
            for region in &self.regions {
                let Some(graph) = &region.graph else { continue };
                let mut sources: Vec<&Facility> =
                    region.facilities.members(q.kinds).map(|(f, _)| f).collect();
                sources.sort_by_key(|f| f.id);
                for f in sources {
                    let source = CoverageSource {
                        point: f.location,
                        turnout_s: q.turnout_s.unwrap_or_else(|| self.turnout.seconds(f.kind)),
                    };
                    match graph.isochrone(&source, q.limit_s, q.buffer_m) {
                        Ok(area) => out.isochrones.push((f.clone(), area)),
                        Err(NetworkError::TooFarFromRoad { .. }) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        for (i, (c, eta)) in self.cells.iter().zip(&out.eta_s).enumerate() {
            let covered = eta.is_some();
            add(&mut out.cells, 1, covered);
            add(&mut out.households, c.households, covered);
            add(&mut out.high_risk, u64::from(c.high_risk()), covered);
            if !covered {
                out.uncovered.push(i);
            }
        }
        // Most urgent first: the highest hazard level, then the most
        // households, then by code.
        out.uncovered.par_sort_unstable_by_key(|&i| {
            let c = &self.cells[i];
            (Reverse(c.level), Reverse(c.households), c.code)
        });
        Ok(out)
    }
}

/// `r` grown by at least `m` metres on every side.
fn grown(r: Rect<f64>, m: f64) -> Rect<f64> {
    let dy = m / MIN_METRES_PER_DEGREE;
    let cos = r
        .max()
        .y
        .abs()
        .max(r.min().y.abs())
        .min(89.0)
        .to_radians()
        .cos();
    let dx = dy / cos;
    Rect::new(
        (r.min().x - dx, r.min().y - dy),
        (r.max().x + dx, r.max().y + dy),
    )
}

/// Adds `amount` to a share's total, and to its covered part if `covered`.
fn add(share: &mut Share, amount: u64, covered: bool) {
    share.total += amount;
    if covered {
        share.covered += amount;
    }
}

/// `true` when a hazard's point or area meets a cell.
/// The highest level of the hazards of `region` (of `regions`) whose point
/// or area meets `cell` (DESIGN standard 4); `None` without one.
fn level_at(
    regions: &[Region],
    cell: &Cell,
    region: Option<usize>,
) -> Result<Option<RiskLevel>, ResponderError> {
    Ok(match (region, cell.geometry.bounding_rect()) {
        (Some(r), Some(envelope)) => regions[r]
            .hazards
            .in_envelope(envelope, &[])?
            .into_iter()
            .filter(|h| meets(h, &cell.geometry))
            .map(Hazard::level)
            .max(),
        _ => None,
    })
}

fn meets(h: &Hazard, cell: &MultiPolygon<f64>) -> bool {
    match &h.geometry {
        HazardGeometry::Point(p) => cell.intersects(p),
        HazardGeometry::Area(a) => cell.intersects(a),
    }
}

/// Every item of one layer of every region, cloned.
fn all<T: Indexed>(regions: &[Region], pick: fn(&Region) -> &LayerIndex<T>) -> Vec<T> {
    regions
        .iter()
        .flat_map(|r| pick(r).members(&[]).map(|(item, _)| item.clone()))
        .collect()
}

/// Indexes `item` in region `region` of one layer, after removing the item
/// with its id from every region; all or nothing.
fn put<T: Indexed + Clone>(
    regions: &mut [Region],
    pick: fn(&mut Region) -> &mut Arc<LayerIndex<T>>,
    region: usize,
    item: T,
) -> Result<Option<T>, IndexError> {
    // Check first that the target index takes the geometry.
    if let Some(bad) = pick(&mut regions[region])
        .projection()
        .project(&item.geometry())
        .err()
    {
        return Err(IndexError::Geometry {
            id: item.id(),
            source: bad,
        });
    }
    let old = take(regions, pick, item.id());
    Arc::make_mut(pick(&mut regions[region])).insert(item)?;
    Ok(old)
}

/// Removes the item with this id from whichever region holds it (the one
/// index copied, when snapshots share it).
fn take<T: Indexed + Clone>(
    regions: &mut [Region],
    pick: fn(&mut Region) -> &mut Arc<LayerIndex<T>>,
    id: i64,
) -> Option<T> {
    let index = regions
        .iter_mut()
        .map(pick)
        .find(|index| index.get(id).is_some())?;
    Arc::make_mut(index).remove(id)
}

/// The 1° tile holding a coordinate.
fn tile(c: Coord<f64>) -> (i32, i32) {
    (
        (c.x / TILE_DEG).floor() as i32,
        (c.y / TILE_DEG).floor() as i32,
    )
}

/// Occupied tiles with a union-find over them.
#[derive(Default)]
struct Tiles {
    ids: HashMap<(i32, i32), usize>,
    parent: Vec<usize>,
}

impl Tiles {
    fn id(&mut self, t: (i32, i32)) -> usize {
        *self.ids.entry(t).or_insert_with(|| {
            self.parent.push(self.parent.len());
            self.parent.len() - 1
        })
    }

    fn find(&mut self, mut i: usize) -> usize {
        while self.parent[i] != i {
            self.parent[i] = self.parent[self.parent[i]];
            i = self.parent[i];
        }
        i
    }

    fn union(&mut self, a: usize, b: usize) {
        let (a, b) = (self.find(a), self.find(b));
        if a != b {
            self.parent[a.max(b)] = a.min(b);
        }
    }

    /// Occupies every tile of a box, all in one group.
    fn add_box(&mut self, r: Rect<f64>) {
        let ((x0, y0), (x1, y1)) = (tile(r.min()), tile(r.max()));
        let first = self.id((x0, y0));
        for x in x0..=x1 {
            for y in y0..=y1 {
                let t = self.id((x, y));
                self.union(first, t);
            }
        }
    }

    /// Joins every occupied tile with its occupied neighbours.
    fn connect_neighbours(&mut self) {
        let tiles: Vec<((i32, i32), usize)> = self.ids.iter().map(|(&t, &i)| (t, i)).collect();
        for ((x, y), i) in tiles {
            for (dx, dy) in [(1, -1), (1, 0), (1, 1), (0, 1)] {
                if let Some(&j) = self.ids.get(&(x + dx, y + dy)) {
                    self.union(i, j);
                }
            }
        }
    }

    /// The group of the tile holding a box's lower corner (occupied).
    fn group(&mut self, r: Rect<f64>) -> usize {
        let i = self.ids.get(&tile(r.min())).copied().unwrap_or_default();
        self.find(i)
    }
}

/// The bounding box of a geometry, `None` when empty or not finite.
fn bbox(g: &Geometry<f64>) -> Option<Rect<f64>> {
    g.bounding_rect().filter(finite)
}

/// Groups `boxes` into regions (connected groups of the 1° tiles they
/// touch): each region's extent, in order of first appearance, and the
/// region of each box.
fn group(boxes: &[Option<Rect<f64>>]) -> (Vec<Rect<f64>>, Vec<Option<usize>>) {
    let mut tiles = Tiles::default();
    for b in boxes.iter().flatten() {
        tiles.add_box(*b);
    }
    tiles.connect_neighbours();
    let mut region_of_group: HashMap<usize, usize> = HashMap::new();
    let mut extents: Vec<Rect<f64>> = Vec::new();
    let mut regions: Vec<Option<usize>> = Vec::with_capacity(boxes.len());
    for b in boxes {
        regions.push(b.map(|b| {
            let next = extents.len();
            let r = *region_of_group.entry(tiles.group(b)).or_insert(next);
            if r == next {
                extents.push(b);
            } else {
                extents[r] = civgrid::extent::merge(extents[r], b);
            }
            r
        }));
    }
    (extents, regions)
}

/// The boxes of a territory's administrative areas and roads, and when
/// `all`, of its facilities and hazards too (see [`Reach`]).
fn reach_boxes(t: &Territory, all: bool) -> impl Iterator<Item = Option<Rect<f64>>> + '_ {
    let points = all.then_some(()).into_iter().flat_map(move |()| {
        t.facilities
            .iter()
            .map(|f| f.geometry().bounding_rect())
            .chain(t.hazards.iter().map(|h| h.geometry().bounding_rect()))
    });
    t.districts
        .iter()
        .chain(&t.subdistricts)
        .chain(&t.communities)
        .map(|a| a.geometry.bounding_rect())
        .chain(t.roads.iter().map(|r| r.geometry.bounding_rect()))
        .chain(points)
        .map(|b| b.filter(finite))
}

/// Whether every corner of `r` is a number.
fn finite(r: &Rect<f64>) -> bool {
    [r.min().x, r.min().y, r.max().x, r.max().y]
        .iter()
        .all(|v| v.is_finite())
}

/// Splits the territory into regions: their extents and their facilities,
/// hazards and roads, in order of first appearance.
fn split(t: &Territory) -> (Vec<Rect<f64>>, Vec<Part>) {
    // Boxes of the geometries themselves (no copy of a polygon to take one).
    let areas = t
        .districts
        .iter()
        .chain(&t.subdistricts)
        .chain(&t.communities)
        .map(|a| a.geometry.bounding_rect().filter(finite));
    let boxes: Vec<Option<Rect<f64>>> = areas
        .chain(
            t.buildings
                .iter()
                .map(|b| b.geometry.bounding_rect().filter(finite)),
        )
        .chain(t.facilities.iter().map(|f| bbox(&f.geometry())))
        .chain(t.hazards.iter().map(|h| bbox(&h.geometry())))
        .chain(
            t.roads
                .iter()
                .map(|r| r.geometry.bounding_rect().filter(finite)),
        )
        .collect();
    let (extents, regions) = group(&boxes);
    let mut parts: Vec<Part> = extents.iter().map(|_| Part::default()).collect();
    let skip = t.districts.len() + t.subdistricts.len() + t.communities.len() + t.buildings.len();
    let mut at = regions[skip..].iter().copied();
    for f in &t.facilities {
        if let Some(Some(r)) = at.next() {
            parts[r].facilities.push(f.clone());
        }
    }
    for h in &t.hazards {
        if let Some(Some(r)) = at.next() {
            parts[r].hazards.push(h.clone());
        }
    }
    for road in &t.roads {
        if let Some(Some(r)) = at.next() {
            parts[r].roads.push(road.clone());
        }
    }
    (extents, parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use civgrid::{Assessment, Oneway};
    use geo_types::line_string;

    fn facility(id: i64, lon: f64, lat: f64) -> Facility {
        Facility {
            id,
            kind: FacilityKind::FireStation,
            name: format!("f{id}"),
            capacity: None,
            staff: None,
            contact: None,
            location: Point::new(lon, lat),
        }
    }

    fn two_cities() -> Territory {
        Territory {
            facilities: vec![
                facility(1, 120.10, 30.20),
                facility(2, 24.94, 60.17),
                facility(3, 120.95, 30.90),
                facility(4, 24.95, 60.18),
            ],
            hazards: vec![Hazard {
                id: 7,
                kind: "gas_station".into(),
                name: String::new(),
                assessment: Assessment::Given {
                    level: RiskLevel::Red,
                },
                geometry: HazardGeometry::Point(Point::new(24.945, 60.175)),
            }],
            roads: vec![Road {
                id: 9,
                class: "residential".into(),
                name: String::new(),
                speed_kmh: None,
                oneway: Oneway::No,
                geometry: line_string![(x: 24.94, y: 60.17), (x: 24.95, y: 60.18)],
            }],
            ..Territory::default()
        }
    }

    #[test]
    fn distant_cities_are_separate_regions_with_their_own_meridians() {
        let r = Responders::new(&two_cities(), &[], &Locator::default()).expect("build");
        assert_eq!(r.regions().len(), 2);
        let hz = &r.regions()[0];
        let hel = &r.regions()[1];
        assert_eq!(hz.facilities.len(), 2);
        assert_eq!(hel.facilities.len(), 2);
        assert_eq!(hel.hazards.len(), 1);
        assert!(hz.graph.is_none() && hel.graph.is_some());
        let cm = |reg: &Region| reg.facilities.projection().central_meridian();
        assert!((cm(hz) - 120.525).abs() < 1e-9, "{}", cm(hz));
        assert!((cm(hel) - 24.945).abs() < 1e-9, "{}", cm(hel));
        // Helsinki distances agree with the great circle (to 0.5 %; the
        // ellipsoid differs from the sphere).
        let q = civgrid::NearestQuery {
            point: Point::new(24.94, 60.17),
            kinds: &[],
            k: 2,
            max_distance_m: None,
        };
        let got = hel.facilities.nearest(&q).expect("nearest");
        let sphere = Haversine.distance(Point::new(24.94, 60.17), Point::new(24.95, 60.18));
        assert_eq!(got[1].facility.id, 4);
        assert!(
            (got[1].distance_m - sphere).abs() / sphere < 5e-3,
            "{} vs {sphere}",
            got[1].distance_m
        );
    }

    #[test]
    fn points_are_routed_to_the_nearest_region_within_the_limit() {
        let r = Responders::new(&two_cities(), &[], &Locator::default()).expect("build");
        assert_eq!(r.region_at(Point::new(120.5, 30.5), 1.0), Ok(0));
        assert_eq!(r.region_at(Point::new(24.945, 60.175), 1.0), Ok(1));
        // 0.1° north of Helsinki's extent: about 11 km.
        match r.region_at(Point::new(24.945, 60.28), 5_000.0) {
            Err(Outside::TooFar { distance_m, .. }) => {
                assert!((distance_m - 11_100.0).abs() < 200.0, "{distance_m}");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.region_at(Point::new(24.945, 60.28), 20_000.0), Ok(1));
        let empty = Responders::default();
        assert_eq!(
            empty.region_at(Point::new(0.0, 0.0), 1e9),
            Err(Outside::Empty)
        );
    }

    #[test]
    fn adjacent_tiles_join_and_a_gap_separates() {
        let mut t = Territory::default();
        // 120.9 and 121.1 are in neighbouring tiles; 123.5 is two tiles on.
        for (id, lon) in [(1, 120.9), (2, 121.1), (3, 123.5)] {
            t.facilities.push(facility(id, lon, 30.0));
        }
        let r = Responders::new(&t, &[], &Locator::default()).expect("build");
        assert_eq!(r.regions().len(), 2);
        assert_eq!(r.regions()[0].facilities.len(), 2);
    }

    #[test]
    fn writes_move_features_between_regions() {
        let mut r = Responders::new(&two_cities(), &[], &Locator::default()).expect("build");
        let moved = facility(1, 24.96, 60.17);
        let old = r.put_facility(1, moved.clone()).expect("put");
        assert_eq!(old.map(|f| f.location), Some(Point::new(120.10, 30.20)));
        assert_eq!(r.regions()[0].facilities.len(), 1);
        assert_eq!(r.regions()[1].facilities.len(), 3);
        assert_eq!(r.facility(1), Some(&moved));
        assert_eq!(r.remove_facility(1), Some(moved));
        assert_eq!(r.facility(1), None);
        assert_eq!(r.facilities().len(), 3);
    }
}
