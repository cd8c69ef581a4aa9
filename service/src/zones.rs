//! Overlay zones in the service: the layers of stored zones for point
//! lookups, and each layer's validation report, made once per load.

use civgrid::zones::{ZoneFeature, ZoneReport, Zones};
use civgrid::{LocalProjection, Territory};
use geo_types::MultiPolygon;

/// The overlay layers and their reports.
#[derive(Debug, Clone, Default)]
pub struct ZoneState {
    /// The layers, for lookups.
    pub zones: Zones,
    /// The stored zones, by layer then code (served as GeoJSON).
    pub features: Vec<ZoneFeature>,
    /// One report per layer, in the order of [`Zones::layers`]; a layer
    /// that could not be measured has its reason instead.
    pub reports: Vec<Result<ZoneReport, String>>,
}

impl ZoneState {
    /// The zones of `t`, validated against its districts (its communities
    /// when it has no districts): complete layers must tile them.
    #[must_use]
    pub fn new(t: &Territory) -> Self {
        let mut features = t.zones.clone();
        features.sort_by(|a, b| (&a.layer, &a.code).cmp(&(&b.layer, &b.code)));
        let zones = Zones::from_features(&features);
        if zones.layers().is_empty() {
            return Self::default();
        }
        let areas = if t.districts.is_empty() {
            &t.communities
        } else {
            &t.districts
        };
        // Only complete layers are checked against the territory.
        let territory = if zones.layers().iter().any(|l| l.complete) {
            geo::unary_union(areas.iter().map(|a| &a.geometry))
        } else {
            MultiPolygon::new(Vec::new())
        };
        let centre = t.extent().map_or(0.0, |r| r.center().x);
        let reports = match LocalProjection::gauss_kruger_3deg(centre) {
            Ok(projection) => zones
                .layers()
                .iter()
                .map(|l| {
                    l.validate(&territory, &projection)
                        .map_err(|e| e.to_string())
                })
                .collect(),
            Err(e) => vec![Err(e.to_string()); zones.layers().len()],
        };
        Self {
            zones,
            features,
            reports,
        }
    }
}
