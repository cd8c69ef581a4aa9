//! Placing what an import brought against what the store holds, once every
//! file is read and before anything is written:
//! - components get their 16-digit codes — a given code is checked against
//!   the district holding the component and against every other code; a
//!   missing one is numbered after the largest serial of its district and
//!   class — and the active unit cell holding their anchor;
//! - zones are checked for codes used twice in one overlay layer and for
//!   layers whose zones disagree on claiming to be complete.
//!
//! Stored components and zones of the imported sources do not count: the
//! import replaces them.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use civgrid::cells::{Cell, CellCode};
use civgrid::components::{self, Component, ComponentCode, ComponentState, PlaceError, Serials};
use civgrid::zones::ZoneFeature;
use civgrid::{AdminCode, Indexed, Locator, Territory};
use geo::Centroid;
use geo_types::Geometry;

use super::{FeatureProblem, FeatureRef, ImportError, ImportedFile};
use crate::responders::Reach;
use crate::store::{ImportBatch, Layer, Store, StoreError};

/// Why placement failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlacementError {
    /// The store could not be read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A component or zone does not fit (named).
    #[error(transparent)]
    Import(#[from] ImportError),
}

/// Places the components and zones of `files` and `extra` batches against
/// `store` (see the module's documentation) and checks that their
/// facilities and hazards lie at most `max_outside_m` from the territory
/// (its [`Reach`]: the rule every write path holds to); returns every
/// batch, ready to write.
/// Reads the store only when the import brings components, zones,
/// facilities or hazards.
///
/// # Errors
/// [`PlacementError`] naming the first component or zone that does not
/// fit, or the first facility or hazard too far away.
pub async fn place(
    store: &dyn Store,
    files: Vec<ImportedFile>,
    extra: Vec<ImportBatch>,
    max_outside_m: f64,
) -> Result<Vec<ImportBatch>, PlacementError> {
    let mut work: Vec<(ImportBatch, Vec<ComponentDraft>)> = files
        .into_iter()
        .map(|f| (f.batch, f.drafts))
        .chain(extra.into_iter().map(|b| (b, Vec::new())))
        .collect();
    let placed = |b: &ImportBatch, d: &[ComponentDraft]| {
        !(d.is_empty() && b.territory.components.is_empty() && b.territory.zones.is_empty())
    };
    let reached =
        |b: &ImportBatch| !(b.territory.facilities.is_empty() && b.territory.hazards.is_empty());
    let (placing, reaching) = (
        work.iter().any(|(b, d)| placed(b, d)),
        work.iter().any(|(b, _)| reached(b)),
    );
    if !placing && !reaching {
        return Ok(work.into_iter().map(|(b, _)| b).collect());
    }
    let sources: Vec<&str> = work.iter().map(|(b, _)| b.source.as_str()).collect();
    let mut layers = vec![Layer::Districts, Layer::Subdistricts, Layer::Communities];
    if placing {
        layers.extend([Layer::Components, Layer::Zones]);
    }
    if reaching {
        layers.extend([Layer::Roads, Layer::Facilities, Layer::Hazards]);
    }
    let stored = store.load_layers(&layers, &sources).await?;
    if reaching {
        let reach = Reach::of(&stored, work.iter().map(|(b, _)| &b.territory));
        for (batch, _) in &work {
            check_reach(&reach, batch, max_outside_m)?;
        }
    }
    if placing {
        let (cells, _) = store.load_cells().await?;
        let mut placement = Placement::new(&stored, &cells, work.iter().map(|(b, _)| &b.territory));
        // The codes the import gives are taken before any is numbered, so
        // the order of the rows does not matter.
        for (batch, drafts) in &work {
            let given = batch.territory.components.iter().map(|c| c.code);
            for code in given.chain(drafts.iter().filter_map(|d| d.code)) {
                placement.serials.take(code);
            }
        }
        for (batch, drafts) in &mut work {
            placement.place(batch, std::mem::take(drafts))?;
        }
    }
    Ok(work.into_iter().map(|(b, _)| b).collect())
}

/// Checks that every facility and hazard of `batch` lies at most
/// `max_outside_m` from `reach` (nothing to check when the territory has
/// no area or road yet: the import makes it).
fn check_reach(reach: &Reach, batch: &ImportBatch, max_outside_m: f64) -> Result<(), ImportError> {
    if reach.is_empty() {
        return Ok(());
    }
    let t = &batch.territory;
    let facilities = t
        .facilities
        .iter()
        .map(|f| ("facility", &f.name, f.location));
    let hazards = t
        .hazards
        .iter()
        .filter_map(|h| Some(("hazard", &h.name, h.geometry().centroid()?)));
    for (noun, name, at) in facilities.chain(hazards) {
        reach
            .check(at, max_outside_m)
            .map_err(|outside| ImportError::OutsideTerritory {
                source_name: batch.source.clone(),
                noun,
                name: name.clone(),
                outside,
            })?;
    }
    Ok(())
}

/// A component as read, before its code and cell are known.
#[derive(Debug, Clone, PartialEq)]
pub struct ComponentDraft {
    /// The feature it was read from (`None` through the API).
    pub at: Option<FeatureRef>,
    /// The code the source gives, if any.
    pub code: Option<ComponentCode>,
    /// The class code (4 digits; the code's when both are given).
    pub class: String,
    /// Name or description.
    pub name: String,
    /// Owner.
    pub owner: String,
    /// Maintainer.
    pub maintainer: String,
    /// Condition.
    pub state: ComponentState,
    /// Point, line or area, lon/lat.
    pub geometry: Geometry<f64>,
}

/// What placement needs from the store and the import: the administrative
/// areas and active cells, the codes in use and the zones' layers.
pub struct Placement {
    locator: Locator,
    serials: Serials,
    /// Component codes in use, with the source using them.
    codes: HashMap<ComponentCode, String>,
    /// Zone (layer, code) in use, with the source using them.
    zone_codes: HashMap<(String, String), String>,
    /// Each zone layer's claim, with the source that made it first.
    complete: HashMap<String, (bool, String)>,
}

impl Placement {
    /// Placement against `stored` (administrative areas, and the components
    /// and zones of other sources than the imported ones) and its active
    /// `cells`, for an import of `imported` (their administrative areas count).
    pub fn new<'a>(
        stored: &'a Territory,
        cells: &[Cell],
        imported: impl IntoIterator<Item = &'a Territory>,
    ) -> Self {
        let mut areas = Territory::default();
        let mut seen: HashSet<AdminCode> = HashSet::new();
        for t in imported.into_iter().chain([stored]) {
            for a in t.districts.iter().filter(|a| seen.insert(a.code)) {
                areas.districts.push(a.clone());
            }
            for a in t.subdistricts.iter().filter(|a| seen.insert(a.code)) {
                areas.subdistricts.push(a.clone());
            }
            for a in t.communities.iter().filter(|a| seen.insert(a.code)) {
                areas.communities.push(a.clone());
            }
        }
        let mut placement = Self {
            locator: Locator::new(&areas).with_cells(cells),
            serials: Serials::default(),
            codes: HashMap::new(),
            zone_codes: HashMap::new(),
            complete: HashMap::new(),
        };
        // Stored components and zones keep their place; where they came
        // from is not known here, so they are named by the store.
        for c in &stored.components {
            placement.serials.take(c.code);
            placement.codes.insert(c.code, "the store".into());
        }
        for z in &stored.zones {
            placement
                .zone_codes
                .insert((z.layer.clone(), z.code.clone()), "the store".into());
            placement
                .complete
                .entry(z.layer.clone())
                .or_insert((z.complete, "the store".into()));
        }
        placement
    }

    /// Checks and ties the components and zones of `batch`, then numbers
    /// and adds its `drafts`.
    ///
    /// # Errors
    /// [`ImportError::Feature`] naming the component or zone and what is wrong.
    pub fn place(
        &mut self,
        batch: &mut ImportBatch,
        drafts: Vec<ComponentDraft>,
    ) -> Result<(), ImportError> {
        let source = batch.source.clone();
        for z in &batch.territory.zones {
            self.zone(z, &source)?;
        }
        for c in &mut batch.territory.components {
            let at = FeatureRef {
                file: PathBuf::from(&source),
                layer: "components".into(),
                fid: None,
                name: Some(c.code.to_string()),
            };
            let (_, cell) = self.check(&at, Some(c.code), &c.code.class(), &c.geometry)?;
            self.claim(&at, c.code, &source)?;
            c.cell = cell;
        }
        for d in drafts {
            let at = d.at.clone().unwrap_or_else(|| FeatureRef {
                file: PathBuf::from(&source),
                layer: "components".into(),
                fid: None,
                name: Some(d.name.clone()),
            });
            let component = self.component(&at, d)?;
            self.claim(&at, component.code, &source)?;
            batch.territory.components.push(component);
        }
        Ok(())
    }

    /// A draft with its code (given or numbered) and cell.
    ///
    /// # Errors
    /// [`ImportError::Feature`] naming `at` and what is wrong.
    pub fn component(
        &mut self,
        at: &FeatureRef,
        d: ComponentDraft,
    ) -> Result<Component, ImportError> {
        let (code, cell) = self.check(at, d.code, &d.class, &d.geometry)?;
        Ok(Component {
            id: 0,
            code,
            name: d.name,
            owner: d.owner,
            maintainer: d.maintainer,
            state: d.state,
            geometry: d.geometry,
            cell,
        })
    }

    /// [`civgrid::components::place`], its errors naming `at`.
    fn check(
        &mut self,
        at: &FeatureRef,
        code: Option<ComponentCode>,
        class: &str,
        geometry: &Geometry<f64>,
    ) -> Result<(ComponentCode, Option<CellCode>), ImportError> {
        let serials = &mut self.serials;
        components::place(&self.locator, code, geometry, |d| serials.next(d, class)).map_err(|e| {
            let value = match &e {
                PlaceError::WrongDistrict { code, .. } => code.to_string(),
                PlaceError::Exhausted(_) => class.to_owned(),
                PlaceError::Empty | PlaceError::Outside { .. } => String::new(),
            };
            feature(at, e.field(), value, e.to_string())
        })
    }

    /// Takes `code` for `source`, refusing one already in use.
    fn claim(
        &mut self,
        at: &FeatureRef,
        code: ComponentCode,
        source: &str,
    ) -> Result<(), ImportError> {
        if let Some(by) = self.codes.get(&code) {
            return Err(feature(
                at,
                "code",
                code.to_string(),
                format!("already used by a component of {by}"),
            ));
        }
        self.serials.take(code);
        self.codes.insert(code, source.to_owned());
        Ok(())
    }

    /// Takes a zone's code in its layer and checks the layer's claim.
    fn zone(&mut self, z: &ZoneFeature, source: &str) -> Result<(), ImportError> {
        let at = FeatureRef {
            file: PathBuf::from(source),
            layer: z.layer.clone(),
            fid: None,
            name: Some(z.code.clone()),
        };
        let key = (z.layer.clone(), z.code.clone());
        if let Some(by) = self.zone_codes.get(&key) {
            return Err(feature(
                &at,
                "code",
                z.code.clone(),
                format!(
                    "layer {:?} already has a zone with this code, from {by}",
                    z.layer
                ),
            ));
        }
        self.zone_codes.insert(key, source.to_owned());
        let (claim, by) = self
            .complete
            .entry(z.layer.clone())
            .or_insert_with(|| (z.complete, source.to_owned()));
        if *claim != z.complete {
            return Err(feature(
                &at,
                "complete",
                z.complete.to_string(),
                format!(
                    "layer {:?} is {} by the zones of {by}; every zone of a layer must say the same",
                    z.layer,
                    if *claim { "complete" } else { "not complete" }
                ),
            ));
        }
        Ok(())
    }
}

fn feature(at: &FeatureRef, field: &'static str, value: String, reason: String) -> ImportError {
    ImportError::Feature {
        at: at.clone(),
        problem: FeatureProblem::BadField {
            field,
            value,
            reason,
        },
    }
}
