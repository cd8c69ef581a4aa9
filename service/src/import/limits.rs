//! The bounds of one import: how far a zipped file may unpack, and how many
//! features a file may bring. Both are checked before the data is expanded
//! (see `docs/import.md`, "Bounds").

use std::fmt;

/// Default bound on the uncompressed size of a zipped file: 256 MiB.
///
/// A GeoJSON point takes about 120 bytes, a building outline 300–600:
/// 256 MiB holds the half million features of [`DEFAULT_MAX_FEATURES`]
/// with room to spare, while the temporary folder and GDAL's first pass
/// over the file stay bounded. A 334 KB zip unpacking to 98 MB (issue 23)
/// passes this bound and is stopped by the feature bound.
pub const DEFAULT_MAX_UNCOMPRESSED_BYTES: u64 = 256 << 20;

/// Default bound on the features one file brings: 500,000.
///
/// A district's cadastre, or a county's (a whole city's buildings are
/// imported with `civgrid import`, which has no feature bound by
/// default). The whole file is held in memory until it is written (issue
/// 23: 800,000 points took the server to 3.1 GB), so this bound is what
/// caps an import's memory; lower it on a small server.
pub const DEFAULT_MAX_FEATURES: u64 = 500_000;

/// Most files a zip may hold: more is not a dataset but an attack on the
/// temporary folder.
pub const MAX_ZIP_ENTRIES: usize = 10_000;

/// How far one import may go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Largest uncompressed size of a zipped file's contents, bytes: the
    /// sizes it declares and the bytes it actually inflates to.
    pub max_uncompressed_bytes: u64,
    /// Most features read from one file (`u64::MAX`: no bound).
    pub max_features: u64,
}

impl Default for ImportLimits {
    fn default() -> Self {
        Self {
            max_uncompressed_bytes: DEFAULT_MAX_UNCOMPRESSED_BYTES,
            max_features: DEFAULT_MAX_FEATURES,
        }
    }
}

/// One bound of [`ImportLimits`], with its value, for messages: each names
/// the setting that raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Bound {
    /// [`ImportLimits::max_uncompressed_bytes`].
    Uncompressed(u64),
    /// [`ImportLimits::max_features`].
    Features(u64),
    /// [`MAX_ZIP_ENTRIES`].
    ZipEntries(usize),
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Self::Uncompressed(b) => write!(
                f,
                "the bound on an import's uncompressed size, {b} bytes ({} MiB; --max-import-uncompressed-mb)",
                b >> 20
            ),
            Self::Features(n) => write!(
                f,
                "the bound on an import's features, {n} features (--max-import-features)"
            ),
            Self::ZipEntries(n) => write!(f, "the bound on the files of a zip, {n} files"),
        }
    }
}
