//! Errors of tile rendering.

/// Why a tile could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TileError {
    /// A canvas side outside 1..=[`crate::MAX_SIZE_PX`].
    #[error("a tile of {0} px is not drawable: the side must be 1 to 4096 px")]
    Size(u32),
    /// A colour that is not `#RRGGBB` or `#RRGGBBAA`.
    #[error("colour {0:?} is not #RRGGBB or #RRGGBBAA")]
    Colour(String),
    /// A colour ramp without stops, or with stops not strictly increasing.
    #[error("a colour ramp needs stops with strictly increasing finite values")]
    Ramp,
    /// The PNG encoder failed.
    #[error("PNG encoding failed: {0}")]
    Png(#[from] png::EncodingError),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_has_a_message() {
        for e in [
            TileError::Size(0),
            TileError::Colour("x".into()),
            TileError::Ramp,
            TileError::Png(png::EncodingError::LimitsExceeded),
        ] {
            assert!(!e.to_string().is_empty());
        }
    }
}
