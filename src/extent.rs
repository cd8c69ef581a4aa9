//! Bounding boxes: the box covering several boxes, as the indexes, the
//! OGC collections and the tests need it.

use geo_types::{Coord, Rect};

/// The smallest box holding both `a` and `b`.
#[must_use]
pub fn merge(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// The smallest box holding every box of `rects`; `None` without any.
///
/// ```
/// use geo_types::Rect;
/// let e = civgrid::extent::extent([Rect::new((0., 0.), (1., 1.)), Rect::new((2., -1.), (3., 0.))]);
/// assert_eq!(e, Some(Rect::new((0., -1.), (3., 1.))));
/// ```
pub fn extent(rects: impl IntoIterator<Item = Rect<f64>>) -> Option<Rect<f64>> {
    rects.into_iter().reduce(merge)
}
