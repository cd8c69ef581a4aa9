//! Geometry checks on import and over HTTP: from a GDAL geometry in the
//! source CRS ([`GeometryReader`]) or a GeoJSON geometry of a request body
//! ([`from_geojson`]) to clean `geo-types` geometry in CGCS2000 lon/lat. Both
//! read the coordinates as given and hand them to the same [`Rules`], so the
//! checks, messages and repairs are the same on every path.
//!
//! Order of work, per feature:
//! 1. rings must be closed (checked on the source geometry, before GDAL or
//!    geo-types could silently close them);
//! 2. reprojection to EPSG:4490, then every coordinate must be finite and a
//!    valid lon/lat; GCJ-02 / BD-09 coordinates are converted (refused
//!    outside China, where those datums are not defined);
//! 3. messy but valid geometry is always tidied and the tidying reported:
//!    repeated points removed, rings wound exterior counter-clockwise;
//! 4. invalid polygons (self-intersections, crossing rings…) are rejected,
//!    or with `--repair` made valid by GEOS's MakeValid (as PostGIS's
//!    `ST_MakeValid`), keeping the polygonal part, and the repair reported.

use civgrid::Datum;
use gdal::cpl::CslStringList;
use gdal::spatial_ref::CoordTransform;
use gdal::vector::{Geometry as GdalGeometry, OGRwkbGeometryType as T, ToGdal};
use geo::{Area, InteriorPoint, MapCoords, Orient, RemoveRepeatedPoints, Validation};
use geo_types::{Coord, Geometry, LineString, MultiLineString, MultiPolygon, Point, Polygon};

use super::FeatureProblem;

/// The rules every geometry passes once its coordinates are lon/lat (after
/// reprojection, on import): the same on import and over HTTP.
#[derive(Debug, Clone, Copy, Default)]
pub struct Rules {
    /// Datum of the coordinates: GCJ-02 / BD-09 are converted to CGCS2000.
    pub datum: Datum,
    /// Make invalid polygons valid (GEOS MakeValid) instead of rejecting
    /// them: `civgrid import --repair`, `POST /imports?repair=true`.
    pub repair: bool,
}

/// Settings for converting one layer's geometries.
pub struct GeometryReader<'a> {
    /// Source CRS → EPSG:4490, `None` when the source is already in it.
    pub transform: Option<&'a CoordTransform>,
    /// The rules after reprojection.
    pub rules: Rules,
}

/// A converted geometry and what was done to it on the way.
pub struct Cleaned<G> {
    /// The geometry.
    pub geometry: G,
    /// Repairs and tidying applied, in words, for the import report.
    pub notes: Vec<String>,
}

fn flat(g: &GdalGeometry) -> u32 {
    gdal::vector::geometry_type_flatten(g.geometry_type())
}

fn type_name(g: &GdalGeometry) -> String {
    gdal::vector::geometry_type_to_name(g.geometry_type())
}

/// The feature's geometry, when it has one that is not empty. GDAL gives
/// a null geometry (none, or one it could not read) as a geometry without
/// a type.
///
/// # Errors
/// [`FeatureProblem::NoGeometry`], [`FeatureProblem::Empty`].
pub fn present(g: Option<&GdalGeometry>) -> Result<&GdalGeometry, FeatureProblem> {
    match g {
        Some(g) if g.geometry_type() != T::wkbUnknown => {
            if g.is_empty() {
                Err(FeatureProblem::Empty)
            } else {
                Ok(g)
            }
        }
        _ => Err(FeatureProblem::NoGeometry),
    }
}

fn ring_coords(ring: &GdalGeometry) -> Vec<Coord<f64>> {
    let mut pts = Vec::with_capacity(ring.point_count());
    ring.get_points(&mut pts);
    pts.into_iter().map(|(x, y, _)| Coord { x, y }).collect()
}

/// Rings of one GDAL polygon as coordinate lists.
fn polygon_rings(p: &GdalGeometry) -> Vec<Vec<Coord<f64>>> {
    (0..p.geometry_count())
        .map(|i| ring_coords(&p.get_geometry(i)))
        .collect()
}

/// Every polygon of a Polygon / MultiPolygon as its rings.
fn all_rings(g: &GdalGeometry) -> Result<Rings, FeatureProblem> {
    match flat(g) {
        T::wkbPolygon => Ok(vec![polygon_rings(g)]),
        T::wkbMultiPolygon => Ok((0..g.geometry_count())
            .map(|i| polygon_rings(&g.get_geometry(i)))
            .collect()),
        _ => Err(FeatureProblem::WrongGeometry {
            expected: "Polygon or MultiPolygon",
            found: type_name(g),
        }),
    }
}

fn check_closed(rings: &Rings) -> Result<(), FeatureProblem> {
    for (pi, polygon) in rings.iter().enumerate() {
        for (ri, ring) in polygon.iter().enumerate() {
            if let (Some(first), Some(last)) = (ring.first(), ring.last()) {
                if first != last {
                    return Err(FeatureProblem::UnclosedRing {
                        polygon: pi,
                        ring: ri,
                        first: *first,
                        last: *last,
                    });
                }
            }
        }
    }
    Ok(())
}

/// Polygons as their rings' coordinates, as given (rings not closed yet).
pub type Rings = Vec<Vec<Vec<Coord<f64>>>>;

fn to_multipolygon(rings: Rings) -> MultiPolygon<f64> {
    MultiPolygon(
        rings
            .into_iter()
            .filter(|r| !r.is_empty())
            .map(|mut r| {
                let exterior = LineString::from(r.remove(0));
                Polygon::new(exterior, r.into_iter().map(LineString::from).collect())
            })
            .collect(),
    )
}

fn check_coords(coords: impl Iterator<Item = Coord<f64>>) -> Result<(), FeatureProblem> {
    for c in coords {
        if !c.x.is_finite()
            || !c.y.is_finite()
            || !(-180.0..=180.0).contains(&c.x)
            || !(-90.0..=90.0).contains(&c.y)
        {
            return Err(FeatureProblem::BadCoordinate { x: c.x, y: c.y });
        }
    }
    Ok(())
}

impl Rules {
    fn to_datum(self, c: Coord<f64>) -> Result<Coord<f64>, FeatureProblem> {
        Ok(self.datum.to_cgcs2000(c)?)
    }

    /// A point: a finite lon/lat, converted from the datum.
    ///
    /// # Errors
    /// [`FeatureProblem`] saying what is wrong.
    pub fn point(self, c: Coord<f64>) -> Result<Cleaned<Point<f64>>, FeatureProblem> {
        check_coords(std::iter::once(c))?;
        Ok(Cleaned {
            geometry: Point::from(self.to_datum(c)?),
            notes: Vec::new(),
        })
    }

    /// Polygons from their rings as given: every ring closed, coordinates
    /// finite lon/lat (converted from the datum), then tidied, and
    /// rejected or (with [`Rules::repair`]) made valid when invalid.
    ///
    /// # Errors
    /// [`FeatureProblem`] saying what is wrong.
    pub fn polygons(self, rings: Rings) -> Result<Cleaned<MultiPolygon<f64>>, FeatureProblem> {
        check_closed(&rings)?;
        check_coords(rings.iter().flatten().flatten().copied())?;
        if rings.iter().all(Vec::is_empty) {
            return Err(FeatureProblem::Empty);
        }
        let mp = to_multipolygon(rings).try_map_coords(|c| self.to_datum(c))?;
        self.clean_polygons(mp)
    }

    fn clean_polygons(
        self,
        mp: MultiPolygon<f64>,
    ) -> Result<Cleaned<MultiPolygon<f64>>, FeatureProblem> {
        let mut notes = Vec::new();
        let deduped = mp.remove_repeated_points();
        let removed = count_coords(&mp) - count_coords(&deduped);
        if removed > 0 {
            notes.push(format!("removed {removed} repeated point(s)"));
        }
        let (deduped, dropped_holes) = drop_degenerate_rings(deduped);
        if dropped_holes > 0 {
            notes.push(format!("dropped {dropped_holes} hole(s) with no area"));
        }
        if deduped.0.is_empty() {
            return Err(FeatureProblem::Collapsed);
        }
        let valid = match deduped.validation_errors().first() {
            None => deduped,
            Some(problem) if self.repair => {
                let repaired = make_valid(&deduped)?;
                notes.push(format!(
                    "repaired: {problem}; made valid (area {:.3e} → {:.3e} deg²)",
                    deduped.unsigned_area(),
                    repaired.unsigned_area()
                ));
                repaired
            }
            Some(problem) => {
                return Err(FeatureProblem::Invalid {
                    detail: problem.to_string(),
                });
            }
        };
        let oriented = valid.orient(geo::orient::Direction::Default);
        if oriented != valid {
            notes.push("rewound rings (exterior counter-clockwise, holes clockwise)".into());
        }
        Ok(Cleaned {
            geometry: oriented,
            notes,
        })
    }

    /// Lines from their parts as given: coordinates finite lon/lat
    /// (converted from the datum), repeated points removed, each part with
    /// at least 2 distinct points.
    ///
    /// # Errors
    /// [`FeatureProblem`] saying what is wrong.
    pub fn lines(
        self,
        parts: Vec<Vec<Coord<f64>>>,
    ) -> Result<Cleaned<Vec<LineString<f64>>>, FeatureProblem> {
        check_coords(parts.iter().flatten().copied())?;
        if parts.is_empty() {
            return Err(FeatureProblem::Empty);
        }
        let mut notes = Vec::new();
        let mut lines = Vec::with_capacity(parts.len());
        for part in parts {
            let line = LineString::from(part).try_map_coords(|c| self.to_datum(c))?;
            let deduped = line.remove_repeated_points();
            if deduped.0.len() < line.0.len() {
                notes.push(format!(
                    "removed {} repeated point(s)",
                    line.0.len() - deduped.0.len()
                ));
            }
            if deduped.0.len() < 2 {
                return Err(FeatureProblem::Invalid {
                    detail: "a line needs at least 2 distinct points".into(),
                });
            }
            lines.push(deduped);
        }
        Ok(Cleaned {
            geometry: lines,
            notes,
        })
    }
}

/// Lines as one geometry: a LineString, or a MultiLineString when there
/// are several parts.
fn joined(mut parts: Vec<LineString<f64>>) -> Geometry<f64> {
    if parts.len() == 1 {
        parts.swap_remove(0).into()
    } else {
        MultiLineString::new(parts).into()
    }
}

/// A request's GeoJSON geometry under `rules`, read from its positions as
/// given (the geojson crate's conversion would close rings silently):
/// Points, LineStrings, MultiLineStrings, Polygons and MultiPolygons (a
/// Polygon comes back as a MultiPolygon, several lines as a
/// MultiLineString). Positions must have been checked to hold 2 or 3
/// numbers.
///
/// # Errors
/// [`FeatureProblem`] in the import's words; [`FeatureProblem::WrongGeometry`]
/// for a MultiPoint or a GeometryCollection.
pub fn from_geojson(
    value: &geojson::GeometryValue,
    rules: Rules,
) -> Result<Cleaned<Geometry<f64>>, FeatureProblem> {
    use geojson::GeometryValue as V;
    let c = |p: &geojson::Position| Coord { x: p[0], y: p[1] };
    let line = |l: &[geojson::Position]| l.iter().map(c).collect::<Vec<_>>();
    let polygon = |p: &[Vec<geojson::Position>]| p.iter().map(|r| line(r)).collect::<Vec<_>>();
    let area = |rings: Rings| {
        rules.polygons(rings).map(|a| Cleaned {
            geometry: a.geometry.into(),
            notes: a.notes,
        })
    };
    let lines = |parts: Vec<Vec<Coord<f64>>>| {
        rules.lines(parts).map(|l| Cleaned {
            geometry: joined(l.geometry),
            notes: l.notes,
        })
    };
    match value {
        V::Point { coordinates } => rules.point(c(coordinates)).map(|p| Cleaned {
            geometry: p.geometry.into(),
            notes: p.notes,
        }),
        V::LineString { coordinates } => lines(vec![line(coordinates)]),
        V::MultiLineString { coordinates } => lines(coordinates.iter().map(|l| line(l)).collect()),
        V::Polygon { coordinates } => area(vec![polygon(coordinates)]),
        V::MultiPolygon { coordinates } => area(coordinates.iter().map(|p| polygon(p)).collect()),
        V::MultiPoint { .. } => Err(FeatureProblem::WrongGeometry {
            expected: "Point, LineString or Polygon",
            found: "MultiPoint".into(),
        }),
        V::GeometryCollection { .. } => Err(FeatureProblem::WrongGeometry {
            expected: "Point, LineString or Polygon",
            found: "GeometryCollection".into(),
        }),
    }
}

impl GeometryReader<'_> {
    fn reproject(&self, g: &GdalGeometry) -> Result<GdalGeometry, FeatureProblem> {
        match self.transform {
            None => Ok(g.clone()),
            Some(ct) => g.transform(ct).map_err(|e| FeatureProblem::Reprojection {
                reason: e.to_string(),
            }),
        }
    }

    /// A polygonal feature, as a MultiPolygon.
    pub fn polygons(&self, g: &GdalGeometry) -> Result<Cleaned<MultiPolygon<f64>>, FeatureProblem> {
        // Before reprojection, which could close a ring.
        check_closed(&all_rings(g)?)?;
        let projected = self.reproject(g)?;
        self.rules.polygons(all_rings(&projected)?)
    }

    /// A point feature; a polygon gives its interior point (OSM amenities
    /// drawn as areas).
    pub fn point(&self, g: &GdalGeometry) -> Result<Cleaned<Point<f64>>, FeatureProblem> {
        match flat(g) {
            T::wkbPoint => {
                let projected = self.reproject(g)?;
                let (x, y, _) = projected.get_point(0);
                self.rules.point(Coord { x, y })
            }
            T::wkbPolygon | T::wkbMultiPolygon => {
                let area = self.polygons(g)?;
                let p = area
                    .geometry
                    .interior_point()
                    .ok_or(FeatureProblem::Empty)?;
                let mut notes = area.notes;
                notes.push("area reduced to its interior point".into());
                Ok(Cleaned { geometry: p, notes })
            }
            _ => Err(FeatureProblem::WrongGeometry {
                expected: "Point",
                found: type_name(g),
            }),
        }
    }

    /// A point or an area (hazards).
    pub fn point_or_area(
        &self,
        g: &GdalGeometry,
    ) -> Result<Cleaned<Geometry<f64>>, FeatureProblem> {
        if flat(g) == T::wkbPoint {
            let p = self.point(g)?;
            Ok(Cleaned {
                geometry: p.geometry.into(),
                notes: p.notes,
            })
        } else {
            let a = self.polygons(g)?;
            Ok(Cleaned {
                geometry: a.geometry.into(),
                notes: a.notes,
            })
        }
    }

    /// A point, a line (a MultiLineString when it has several parts) or an
    /// area, as the feature has it (components).
    pub fn any(&self, g: &GdalGeometry) -> Result<Cleaned<Geometry<f64>>, FeatureProblem> {
        match flat(g) {
            T::wkbPoint | T::wkbPolygon | T::wkbMultiPolygon => self.point_or_area(g),
            T::wkbLineString | T::wkbMultiLineString => {
                let lines = self.lines(g)?;
                Ok(Cleaned {
                    geometry: joined(lines.geometry),
                    notes: lines.notes,
                })
            }
            _ => Err(FeatureProblem::WrongGeometry {
                expected: "Point, LineString or Polygon",
                found: type_name(g),
            }),
        }
    }

    /// A linear feature as its parts (a MultiLineString gives several).
    pub fn lines(&self, g: &GdalGeometry) -> Result<Cleaned<Vec<LineString<f64>>>, FeatureProblem> {
        let projected = self.reproject(g)?;
        let parts: Vec<Vec<Coord<f64>>> = match flat(&projected) {
            T::wkbLineString => vec![ring_coords(&projected)],
            T::wkbMultiLineString => (0..projected.geometry_count())
                .map(|i| ring_coords(&projected.get_geometry(i)))
                .collect(),
            _ => {
                return Err(FeatureProblem::WrongGeometry {
                    expected: "LineString or MultiLineString",
                    found: type_name(g),
                });
            }
        };
        self.rules.lines(parts)
    }
}

/// Removes polygons whose exterior, and holes that, have fewer than 3
/// distinct points (no area): GEOS cannot even read them. Returns how many
/// holes went.
fn drop_degenerate_rings(mp: MultiPolygon<f64>) -> (MultiPolygon<f64>, usize) {
    let mut holes = 0;
    let polygons = mp
        .into_iter()
        .filter(|p| p.exterior().0.len() >= 4)
        .map(|p| {
            let (exterior, interiors) = p.into_inner();
            let before = interiors.len();
            let kept: Vec<_> = interiors.into_iter().filter(|r| r.0.len() >= 4).collect();
            holes += before - kept.len();
            Polygon::new(exterior, kept)
        })
        .collect();
    (MultiPolygon(polygons), holes)
}

fn count_coords(mp: &MultiPolygon<f64>) -> usize {
    mp.iter()
        .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
        .sum()
}

/// GEOS MakeValid through GDAL, keeping the polygonal parts.
fn make_valid(mp: &MultiPolygon<f64>) -> Result<MultiPolygon<f64>, FeatureProblem> {
    let failed = |reason: String| FeatureProblem::RepairFailed { reason };
    let g = mp.to_gdal().map_err(|e| failed(e.to_string()))?;
    let fixed = g
        .make_valid(&CslStringList::new())
        .map_err(|e| failed(e.to_string()))?;
    let mut polygons = Vec::new();
    collect_polygons(&fixed, &mut polygons);
    let out = MultiPolygon(polygons);
    if out.0.is_empty() {
        return Err(FeatureProblem::Collapsed);
    }
    if let Some(e) = out.validation_errors().first() {
        return Err(failed(format!("still invalid after MakeValid: {e}")));
    }
    Ok(out)
}

fn collect_polygons(g: &GdalGeometry, out: &mut Vec<Polygon<f64>>) {
    match flat(g) {
        T::wkbPolygon => out.extend(to_multipolygon(vec![polygon_rings(g)])),
        T::wkbMultiPolygon | T::wkbGeometryCollection => {
            for i in 0..g.geometry_count() {
                collect_polygons(&g.get_geometry(i), out);
            }
        }
        _ => {}
    }
}
