//! Clipping to a tile's buffered square, in tile grid units (before
//! rounding), as the MVT specification recommends: a feature larger than
//! the tile carries only what falls within the tile and its buffer.

/// A point on the tile grid, fractional.
pub(crate) type GridPoint = (f64, f64);

/// The square `[lo, hi]²` of the tile grid that geometry is clipped to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Window {
    /// West and north edge.
    pub lo: f64,
    /// East and south edge.
    pub hi: f64,
}

impl Window {
    /// `true` when every point is inside (edges included).
    fn holds(&self, pts: &[GridPoint]) -> bool {
        pts.iter()
            .all(|p| (self.lo..=self.hi).contains(&p.0) && (self.lo..=self.hi).contains(&p.1))
    }

    /// A closed ring (closing point optional) clipped to the window
    /// (Sutherland–Hodgman): a ring again, whose parts outside are replaced
    /// by runs along the window's sides; empty when nothing is inside.
    pub(crate) fn ring(&self, pts: Vec<GridPoint>) -> Vec<GridPoint> {
        if self.holds(&pts) {
            return pts;
        }
        let (lo, hi) = (self.lo, self.hi);
        let x_at =
            |a: GridPoint, b: GridPoint, x: f64| (x, a.1 + (b.1 - a.1) * (x - a.0) / (b.0 - a.0));
        let y_at =
            |a: GridPoint, b: GridPoint, y: f64| (a.0 + (b.0 - a.0) * (y - a.1) / (b.1 - a.1), y);
        let out = clip_side(&pts, |p| p.0 >= lo, |a, b| x_at(a, b, lo));
        let out = clip_side(&out, |p| p.0 <= hi, |a, b| x_at(a, b, hi));
        let out = clip_side(&out, |p| p.1 >= lo, |a, b| y_at(a, b, lo));
        clip_side(&out, |p| p.1 <= hi, |a, b| y_at(a, b, hi))
    }

    /// A line clipped to the window: the pieces inside, in order
    /// (Liang–Barsky on each segment).
    pub(crate) fn line(&self, pts: &[GridPoint]) -> Vec<Vec<GridPoint>> {
        if self.holds(pts) {
            return vec![pts.to_vec()];
        }
        let mut pieces = Vec::new();
        let mut open: Vec<GridPoint> = Vec::new();
        for s in pts.windows(2) {
            let Some(cut) = self.segment(s[0], s[1]) else {
                flush(&mut open, &mut pieces);
                continue;
            };
            if cut.entered || open.is_empty() {
                flush(&mut open, &mut pieces);
                open.push(cut.from);
            }
            open.push(cut.to);
            if cut.left {
                flush(&mut open, &mut pieces);
            }
        }
        flush(&mut open, &mut pieces);
        pieces
    }

    /// The part of segment `a`–`b` inside the window.
    fn segment(&self, a: GridPoint, b: GridPoint) -> Option<Cut> {
        let (dx, dy) = (b.0 - a.0, b.1 - a.1);
        let (mut t0, mut t1) = (0.0_f64, 1.0_f64);
        for (p, q) in [
            (-dx, a.0 - self.lo),
            (dx, self.hi - a.0),
            (-dy, a.1 - self.lo),
            (dy, self.hi - a.1),
        ] {
            if p == 0.0 {
                if q < 0.0 {
                    return None;
                }
            } else {
                let r = q / p;
                if p < 0.0 {
                    t0 = t0.max(r);
                } else {
                    t1 = t1.min(r);
                }
            }
        }
        (t0 <= t1).then_some(Cut {
            from: if t0 > 0.0 {
                (a.0 + t0 * dx, a.1 + t0 * dy)
            } else {
                a
            },
            to: if t1 < 1.0 {
                (a.0 + t1 * dx, a.1 + t1 * dy)
            } else {
                b
            },
            entered: t0 > 0.0,
            left: t1 < 1.0,
        })
    }
}

/// A segment's part inside the window.
struct Cut {
    from: GridPoint,
    to: GridPoint,
    /// The segment starts outside.
    entered: bool,
    /// The segment ends outside.
    left: bool,
}

/// Moves a piece of two or more points to `pieces`.
fn flush(open: &mut Vec<GridPoint>, pieces: &mut Vec<Vec<GridPoint>>) {
    if open.len() >= 2 {
        pieces.push(std::mem::take(open));
    } else {
        open.clear();
    }
}

/// One step of Sutherland–Hodgman: the ring cut by one side.
fn clip_side(
    ring: &[GridPoint],
    inside: impl Fn(GridPoint) -> bool,
    cross: impl Fn(GridPoint, GridPoint) -> GridPoint,
) -> Vec<GridPoint> {
    let mut out = Vec::with_capacity(ring.len() + 4);
    let Some(&last) = ring.last() else {
        return out;
    };
    let mut prev = last;
    for &cur in ring {
        match (inside(prev), inside(cur)) {
            (true, true) => out.push(cur),
            (false, true) => {
                out.push(cross(prev, cur));
                out.push(cur);
            }
            (true, false) => out.push(cross(prev, cur)),
            (false, false) => {}
        }
        prev = cur;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mvt::area2;

    const W: Window = Window { lo: 0.0, hi: 100.0 };

    #[test]
    fn a_ring_keeps_its_area_inside_the_window() {
        // A square from -50 to 50: a quarter is inside.
        let square = vec![(-50.0, -50.0), (50.0, -50.0), (50.0, 50.0), (-50.0, 50.0)];
        let cut = W.ring(square);
        assert!((area2(&cut).abs() / 2.0 - 2500.0).abs() < 1e-9, "{cut:?}");
        assert!(cut
            .iter()
            .all(|p| (0.0..=100.0).contains(&p.0) && (0.0..=100.0).contains(&p.1)));
        // Wholly outside: nothing; wholly inside: unchanged.
        assert!(W
            .ring(vec![(200.0, 0.0), (300.0, 0.0), (300.0, 50.0)])
            .is_empty());
        let inside = vec![(10.0, 10.0), (20.0, 10.0), (20.0, 20.0)];
        assert_eq!(W.ring(inside.clone()), inside);
        // A window inside a ring: the window.
        let big = vec![(-1e4, -1e4), (1e4, -1e4), (1e4, 1e4), (-1e4, 1e4)];
        assert!((area2(&W.ring(big)).abs() / 2.0 - 1e4).abs() < 1e-6);
    }

    #[test]
    fn a_line_through_the_window_is_cut_into_its_pieces_inside() {
        // In, out, in again: two pieces.
        let l = [(50.0, 50.0), (150.0, 50.0), (150.0, 80.0), (50.0, 80.0)];
        let pieces = W.line(&l);
        assert_eq!(
            pieces,
            vec![
                vec![(50.0, 50.0), (100.0, 50.0)],
                vec![(100.0, 80.0), (50.0, 80.0)]
            ]
        );
        // Crossing the whole window: one piece edge to edge.
        assert_eq!(
            W.line(&[(-50.0, 10.0), (150.0, 10.0)]),
            vec![vec![(0.0, 10.0), (100.0, 10.0)]]
        );
        // Outside: none.
        assert!(W.line(&[(-50.0, -10.0), (150.0, -10.0)]).is_empty());
    }
}
