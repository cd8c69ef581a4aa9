//! The risk map seen from afar, for the zooms where a unit cell is smaller
//! than a pixel: the cells of each level in every district, subdistrict and
//! community (the `areas` tiles), and the highest level in each pixel at
//! zoom [`RASTER_ZOOM`] (the risk tiles at that pixel size and coarser).
//!
//! An overview is made from one snapshot's risk map in one pass over the
//! cells (about 0.4 s for a province), on a thread of its own after a load
//! ([`super::Tiles::warm`]) and, after a write that changed the risk map,
//! by the first tile that needs it; it is kept until the risk map or the
//! cells change.

use std::collections::HashMap;
use std::sync::Arc;

use civgrid::{AdminCode, AdminLevel, LevelCounts, RiskLevel};
use civgrid_tiles::{Canvas, TileCoord};
use rstar::RTreeObject;

use super::{CellEntry, Palette, TILE_PX};
use crate::risk::RiskState;

/// Zoom of the overview raster's pixels: 256 × 2^10 pixels round the
/// world, about 135 m at 30° N, where a 100 m cell is under a pixel.
pub const RASTER_ZOOM: u8 = 10;

/// Pixels along a tile's side.
const SIDE: usize = TILE_PX as usize;

/// The levels in the order of their codes in the raster (code = index + 1;
/// 0 is no cell).
const LEVELS: [RiskLevel; 4] = [
    RiskLevel::Blue,
    RiskLevel::Yellow,
    RiskLevel::Orange,
    RiskLevel::Red,
];

/// Counts of cells per level by area, and the overview raster, of one risk
/// map.
#[derive(Debug)]
pub struct Overview {
    /// The risk map it was made from (held so that its identity stays).
    risk: Arc<RiskState>,
    /// The cell index it was made from (likewise).
    cells: Arc<rstar::RTree<CellEntry>>,
    /// Cells per level in every district, subdistrict and community.
    counts: HashMap<AdminCode, LevelCounts>,
    /// Tiles of zoom [`RASTER_ZOOM`] holding a cell: the level code of
    /// each pixel (row by row), the highest of the cells meeting it.
    raster: HashMap<(u32, u32), Box<[u8]>>,
}

impl Overview {
    /// The overview of `risk`, whose cells are indexed (boxes, in the risk
    /// map's order) by `cells`.
    pub fn new(risk: Arc<RiskState>, cells: Arc<rstar::RTree<CellEntry>>) -> Self {
        let mut counts: HashMap<AdminCode, LevelCounts> = HashMap::new();
        // Cells come by code, so by community: count a run, then add it up.
        let mut run: Option<(AdminCode, LevelCounts)> = None;
        let mut flush = |run: Option<(AdminCode, LevelCounts)>| {
            let Some((community, c)) = run else { return };
            for level in [
                AdminLevel::District,
                AdminLevel::Subdistrict,
                AdminLevel::Community,
            ] {
                if let Some(area) = community.ancestor(level) {
                    counts.entry(area).or_default().merge(&c);
                }
            }
        };
        for c in risk.map.cells.iter() {
            match &mut run {
                Some((community, counts)) if *community == c.community => counts.add(c.level),
                _ => {
                    flush(run.take());
                    let mut counts = LevelCounts::default();
                    counts.add(c.level);
                    run = Some((c.community, counts));
                }
            }
        }
        flush(run);
        let mut raster: HashMap<(u32, u32), Box<[u8]>> = HashMap::new();
        let world = f64::from(TILE_PX) * f64::from(1u32 << RASTER_ZOOM);
        let origin = TileCoord {
            z: RASTER_ZOOM,
            x: 0,
            y: 0,
        };
        for e in cells.iter() {
            let Some(r) = risk.map.cells.get(e.data) else {
                continue;
            };
            let code = r.level as u8 + 1;
            let env = e.geom().envelope();
            let (lo, hi) = (env.lower(), env.upper());
            // Web Mercator y grows southwards: the north edge is the top.
            let nw = origin.to_px(geo_types::coord! { x: lo[0], y: hi[1] }, TILE_PX);
            let se = origin.to_px(geo_types::coord! { x: hi[0], y: lo[1] }, TILE_PX);
            let clamp = |v: f64| v.floor().clamp(0.0, world - 1.0) as u32;
            for py in clamp(nw.y)..=clamp(se.y) {
                for px in clamp(nw.x)..=clamp(se.x) {
                    let tile = raster
                        .entry((px / TILE_PX, py / TILE_PX))
                        .or_insert_with(|| vec![0; SIDE * SIDE].into_boxed_slice());
                    let at = (py % TILE_PX) as usize * SIDE + (px % TILE_PX) as usize;
                    tile[at] = tile[at].max(code);
                }
            }
        }
        Self {
            risk,
            cells,
            counts,
            raster,
        }
    }

    /// `true` when made from this risk map and cell index.
    pub fn is_of(&self, risk: &Arc<RiskState>, cells: &Arc<rstar::RTree<CellEntry>>) -> bool {
        Arc::ptr_eq(&self.risk, risk) && Arc::ptr_eq(&self.cells, cells)
    }

    /// Cells per level in an area (no cell: all zero, no level).
    pub fn counts(&self, area: AdminCode) -> LevelCounts {
        self.counts.get(&area).copied().unwrap_or_default()
    }

    /// Cells in an area.
    pub fn cells(&self, area: AdminCode) -> usize {
        self.counts(area).cells()
    }

    /// `true` when a risk tile of `coord` drawn `scale` times 256 pixels
    /// wide has pixels no smaller than the raster's, so that it is drawn
    /// from the raster ([`Overview::draw`]).
    pub fn draws(coord: TileCoord, scale: u8) -> bool {
        u32::from(coord.z) + u32::from(scale).ilog2() <= u32::from(RASTER_ZOOM)
    }

    /// Draws a risk tile from the raster: each pixel in the colour of the
    /// highest level among the raster pixels it covers. Call it only when
    /// [`Overview::draws`] the tile.
    pub fn draw(&self, canvas: &mut Canvas, coord: TileCoord, scale: u8, palette: &Palette) {
        let size = TILE_PX * u32::from(scale);
        // Raster pixels per canvas pixel, along a side.
        let shift = u32::from(RASTER_ZOOM - coord.z) - u32::from(scale).ilog2();
        // Raster tiles per canvas tile, along a side.
        let span = 1u32 << (RASTER_ZOOM - coord.z);
        let (x0, y0) = (coord.x * span, coord.y * span);
        let mut levels = vec![0u8; (size * size) as usize];
        let inside = |t: u32, t0: u32| (t0..t0 + span).contains(&t);
        for (&(tx, ty), tile) in &self.raster {
            if !(inside(tx, x0) && inside(ty, y0)) {
                continue;
            }
            // The tile's first pixel in raster pixels from the canvas's corner.
            let (ox, oy) = ((tx - x0) * TILE_PX, (ty - y0) * TILE_PX);
            for (i, &code) in tile.iter().enumerate() {
                if code == 0 {
                    continue;
                }
                let (px, py) = (ox + i as u32 % TILE_PX, oy + i as u32 / TILE_PX);
                let at = ((py >> shift) * size + (px >> shift)) as usize;
                levels[at] = levels[at].max(code);
            }
        }
        for (i, &code) in levels.iter().enumerate() {
            if code > 0 {
                let i = i as u32;
                canvas.set(
                    i % size,
                    i / size,
                    palette.of(LEVELS[usize::from(code - 1)]),
                );
            }
        }
    }
}
