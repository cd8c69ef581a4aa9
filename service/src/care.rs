//! People cared for by grid workers (特殊人群), accepted only as counts per
//! household grid and group: `civgrid care FILE` reads a table with the
//! columns `grid`, `group` and `count` and nothing else. A file with any
//! other column — a name, an ID number, a phone, an address — is refused
//! before anything is stored, naming the column, so that no person-level
//! record enters the store, the tiles or a public endpoint.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use civgrid::CellCode;
use gdal::vector::LayerAccess;

use crate::store::{CareCount, Store, StoreError};
use crate::values;

/// The only columns a care file may have.
pub const COLUMNS: [&str; 3] = ["grid", "group", "count"];

/// Why a care file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CareError {
    /// GDAL could not open or read the file.
    #[error("{path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// GDAL's message.
        reason: String,
    },
    /// The file has a column other than `grid`, `group`, `count`: it may
    /// hold data about persons, which civgrid never accepts.
    #[error("{path}: column {column:?} is refused: a care file holds per-grid counts only (columns grid, group, count), never data about persons")]
    PersonLevel {
        /// The file.
        path: String,
        /// The refused column.
        column: String,
    },
    /// A row is wrong: its line (the header is line 1) and what is wrong.
    #[error("{path}: line {line}: {reason}")]
    Row {
        /// The file.
        path: String,
        /// Line of the row (header = 1).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A grid code is not an active household grid.
    #[error("{path}: line {line}: no active household grid has code {grid}")]
    UnknownGrid {
        /// The file.
        path: String,
        /// Line of the row.
        line: usize,
        /// The code.
        grid: CellCode,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Reads a care table through GDAL (CSV, XLSX, ODS…). Rows are returned
/// with their line numbers.
///
/// # Errors
/// [`CareError::PersonLevel`] for any column but `grid`, `group`, `count`;
/// [`CareError::Row`] for a bad code, an empty group, a count that is not a
/// whole number ≥ 0, or a grid and group given twice.
pub fn read_care(path: &Path) -> Result<Vec<(usize, CareCount)>, CareError> {
    let shown = path.display().to_string();
    let read = |reason: String| CareError::Read {
        path: shown.clone(),
        reason,
    };
    let ds = gdal::Dataset::open(path).map_err(|e| read(e.to_string()))?;
    let mut layer = ds.layer(0).map_err(|e| read(e.to_string()))?;
    for field in layer.defn().fields() {
        let name = field.name();
        if !COLUMNS.contains(&name.trim().to_ascii_lowercase().as_str()) {
            return Err(CareError::PersonLevel {
                path: shown,
                column: name,
            });
        }
    }
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (i, f) in layer.features().enumerate() {
        let line = i + 2;
        let row = |reason: String| CareError::Row {
            path: shown.clone(),
            line,
            reason,
        };
        let field = |name: &str| -> String {
            f.field_index(name)
                .ok()
                .and_then(|idx| f.field_as_string(idx).ok().flatten())
                .map(|s| s.trim().to_owned())
                .unwrap_or_default()
        };
        let grid: CellCode = field("grid")
            .parse()
            .map_err(|e| row(format!("grid: {e}")))?;
        let group = field("group");
        if group.is_empty() {
            return Err(row("no group in column `group`".into()));
        }
        values::text("group", &group).map_err(|e| row(e.to_string()))?;
        let count = field("count");
        let people = count
            .parse::<f64>()
            .map_err(|_| row(format!("count {count:?} is not a whole number ≥ 0")))
            .and_then(|n| values::count("count", n).map_err(|e| row(e.to_string())))?;
        if !seen.insert((grid, group.clone())) {
            return Err(row(format!(
                "grid {grid} and group {group} are given twice"
            )));
        }
        out.push((
            line,
            CareCount {
                grid,
                group,
                people,
            },
        ));
    }
    Ok(out)
}

/// Checks every grid code against the active grids and replaces the stored
/// counts in one transaction. Returns the rows stored.
///
/// # Errors
/// [`CareError::UnknownGrid`] (nothing is stored), or the store's error.
pub async fn store_care(
    store: &Arc<dyn Store>,
    rows: Vec<(usize, CareCount)>,
    source: &str,
) -> Result<usize, CareError> {
    let active: BTreeSet<CellCode> = store
        .load_grids()
        .await?
        .into_iter()
        .filter(|g| g.end.is_none())
        .map(|g| g.code)
        .collect();
    if let Some((line, c)) = rows.iter().find(|(_, c)| !active.contains(&c.grid)) {
        return Err(CareError::UnknownGrid {
            path: source.to_owned(),
            line: *line,
            grid: c.grid,
        });
    }
    let counts: Vec<CareCount> = rows.into_iter().map(|(_, c)| c).collect();
    store.replace_care_counts(&counts).await?;
    Ok(counts.len())
}
