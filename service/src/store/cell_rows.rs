//! The write of a new partition: only the cell and adjacency rows that
//! changed. A run of `civgrid cells` over an unchanged territory keeps
//! every code, so it rewrites nothing; an edit in one district rewrites
//! that district's rows, not the province's.

use std::sync::Arc;

use civgrid::cells::{Adjacency, Cell, CellCode};

use super::schema::{self, Value};
use super::{Filter, MadeRows, Write, KEYS_PER_DELETE};

/// Stored cells (active and retired) and the adjacency of the active ones:
/// what a store holds before a write, or what it is to hold after.
#[derive(Debug, Clone, Copy, Default)]
pub struct CellRows<'a> {
    /// Every cell row, active and retired (a code is never reused, so a
    /// code names one row).
    pub cells: &'a [Cell],
    /// Every pair of adjacent active cells.
    pub adjacency: &'a [Adjacency],
}

/// A new partition to store: its cells (active and retired) and the
/// adjacency of the active ones, shared with the write, which makes each
/// row as it stores it.
#[derive(Debug, Clone, Default)]
pub struct NewCells {
    /// Every cell row, active and retired.
    pub cells: Arc<Vec<Cell>>,
    /// Every pair of adjacent active cells.
    pub adjacency: Arc<Vec<Adjacency>>,
}

/// The steps that turn the rows `before` into the rows `after`: the rows
/// that went or changed are deleted by key, the new and changed ones
/// inserted (made one at a time as they are written: a province's first
/// partition is millions of rows). A table whose every row goes is emptied
/// in one statement.
pub(crate) fn plan(before: CellRows<'_>, after: &NewCells) -> Vec<Write> {
    let mut steps = Vec::new();
    let cells = Diff::new(before.cells, &after.cells, |c| c.code);
    let pairs = Diff::new(before.adjacency, &after.adjacency, |p| (p.a, p.b));
    steps.extend(cells.deletes(&schema::CELLS, &["code"], before.cells, |c| {
        vec![code(c.code)]
    }));
    steps.extend(pairs.deletes(
        &schema::CELL_ADJACENCY,
        &["a", "b"],
        before.adjacency,
        |p| vec![code(p.a), code(p.b)],
    ));
    steps.extend(inserts(
        &schema::CELLS,
        &after.cells,
        cells.added,
        schema::cell_row,
    ));
    steps.extend(inserts(
        &schema::CELL_ADJACENCY,
        &after.adjacency,
        pairs.added,
        schema::adjacency_row,
    ));
    steps
}

/// The insert of rows `added` (positions) of `rows`, each made by `row`
/// as it is written; nothing when none is added.
fn inserts<T: Send + Sync + 'static>(
    table: &'static schema::Table,
    rows: &Arc<Vec<T>>,
    added: Vec<usize>,
    row: fn(&T) -> Vec<Value>,
) -> Option<Write> {
    if added.is_empty() {
        return None;
    }
    let rows = Arc::clone(rows);
    Some(Write::InsertMade(
        table,
        MadeRows {
            len: added.len(),
            row: Arc::new(move |i| row(&rows[added[i]])),
        },
    ))
}

/// Rows of one table that go and that come, matched by a unique key, by
/// their positions.
struct Diff {
    /// Rows of before with no equal row after (gone or changed).
    gone: Vec<usize>,
    /// Rows of after with no equal row before (new or changed).
    added: Vec<usize>,
    /// Rows before, to tell "all gone" from "some gone".
    before: usize,
}

impl Diff {
    /// Compares `before` and `after` in one pass over both in the order of
    /// `key` (sorted here when they are not): no hashing, no copy of a row.
    fn new<T: PartialEq, K: Ord>(before: &[T], after: &[T], key: impl Fn(&T) -> K + Copy) -> Self {
        let sorted = |rows: &[T]| {
            let mut order: Vec<usize> = (0..rows.len()).collect();
            if !rows.is_sorted_by_key(key) {
                order.sort_by_key(|&i| key(&rows[i]));
            }
            order
        };
        let (old, new) = (sorted(before), sorted(after));
        let (mut gone, mut added) = (Vec::new(), Vec::new());
        let (mut i, mut j) = (0, 0);
        while i < old.len() || j < new.len() {
            let order = match (old.get(i), new.get(j)) {
                (Some(&o), Some(&n)) => key(&before[o]).cmp(&key(&after[n])),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, _) => std::cmp::Ordering::Greater,
            };
            match order {
                std::cmp::Ordering::Less => {
                    gone.push(old[i]);
                    i += 1;
                }
                std::cmp::Ordering::Greater => {
                    added.push(new[j]);
                    j += 1;
                }
                std::cmp::Ordering::Equal => {
                    if before[old[i]] != after[new[j]] {
                        gone.push(old[i]);
                        added.push(new[j]);
                    }
                    i += 1;
                    j += 1;
                }
            }
        }
        Self {
            gone,
            added,
            before: before.len(),
        }
    }

    /// Deletes of the gone rows of `before`, by `key_values`, in
    /// statements of [`KEYS_PER_DELETE`] keys; one delete of every row when
    /// all go.
    fn deletes<T>(
        &self,
        table: &'static schema::Table,
        columns: &'static [&'static str],
        before: &[T],
        key_values: impl Fn(&T) -> Vec<Value>,
    ) -> Vec<Write> {
        if self.gone.is_empty() {
            return Vec::new();
        }
        if self.gone.len() == self.before {
            return vec![Write::Delete(table, Filter::All)];
        }
        self.gone
            .chunks(KEYS_PER_DELETE)
            .map(|rows| {
                let keys = rows.iter().map(|&r| key_values(&before[r])).collect();
                Write::Delete(table, Filter::In(columns, keys))
            })
            .collect()
    }
}

fn code(c: CellCode) -> Value {
    Value::Text(c.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;
    use civgrid::cells::CodeProfile;
    use civgrid::AdminCode;
    use geo_types::{polygon, MultiPolygon};

    fn cell(seq: u16, x: f64) -> Cell {
        cell_in("330106001001", seq, x)
    }

    fn cell_in(community: &str, seq: u16, x: f64) -> Cell {
        let community: AdminCode = community.parse().expect("code");
        Cell {
            code: CellCode::new(community, seq, CodeProfile::Fifteen).expect("cell code"),
            community,
            geometry: MultiPolygon(vec![polygon![
                (x: x, y: 30.0),
                (x: x + 0.001, y: 30.0),
                (x: x + 0.001, y: 30.001),
                (x: x, y: 30.001),
            ]]),
            area_m2: 10_000.0,
            h3: "8930e1d8a0bffff".parse().expect("h3"),
            start: NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            end: None,
        }
    }

    fn pair(a: &Cell, b: &Cell, shared_m: f64) -> Adjacency {
        Adjacency {
            a: a.code,
            b: b.code,
            shared_m,
        }
    }

    /// Two neighbouring cells and their shared edge.
    fn two_cells() -> ([Cell; 2], [Adjacency; 1]) {
        let cells = [cell(1, 120.0), cell(2, 120.001)];
        let adjacency = [pair(&cells[0], &cells[1], 111.0)];
        (cells, adjacency)
    }

    /// `rows` as the new partition to store.
    fn new(rows: CellRows<'_>) -> NewCells {
        NewCells {
            cells: Arc::new(rows.cells.to_vec()),
            adjacency: Arc::new(rows.adjacency.to_vec()),
        }
    }

    /// Each step as (kind, table, how many rows or keys).
    fn summary(steps: &[Write]) -> Vec<(&'static str, &'static str, usize)> {
        steps
            .iter()
            .map(|s| match s {
                Write::Delete(t, Filter::All) => ("delete all", t.name, 0),
                Write::Delete(t, Filter::In(_, keys)) => ("delete", t.name, keys.len()),
                Write::InsertMade(t, rows) => ("insert", t.name, rows.len),
                other => panic!("unexpected step {other:?}"),
            })
            .collect()
    }

    #[test]
    fn the_same_rows_write_nothing() {
        let (cells, adjacency) = two_cells();
        let rows = CellRows {
            cells: &cells,
            adjacency: &adjacency,
        };
        assert!(plan(rows, &new(rows)).is_empty());
    }

    #[test]
    fn only_changed_rows_are_deleted_and_inserted() {
        let before = [cell(1, 120.0), cell(2, 120.001), cell(3, 120.002)];
        let mut after = before.to_vec();
        after[1].geometry = cell(2, 120.0015).geometry;
        after[2].end = NaiveDate::from_ymd_opt(2026, 1, 1);
        after.push(cell(4, 120.003));
        let old_pairs = [
            pair(&before[0], &before[1], 111.0),
            pair(&before[1], &before[2], 111.0),
        ];
        let new_pairs = [
            pair(&after[0], &after[1], 111.0),
            pair(&after[1], &after[3], 50.0),
        ];
        let steps = plan(
            CellRows {
                cells: &before,
                adjacency: &old_pairs,
            },
            &new(CellRows {
                cells: &after,
                adjacency: &new_pairs,
            }),
        );
        assert_eq!(
            summary(&steps),
            [
                ("delete", "cells", 2),
                ("delete", "cell_adjacency", 1),
                ("insert", "cells", 3),
                ("insert", "cell_adjacency", 1),
            ]
        );
        let Write::Delete(_, Filter::In(columns, keys)) = &steps[1] else {
            unreachable!("checked above")
        };
        assert_eq!(*columns, ["a", "b"]);
        assert_eq!(keys[0], [code(before[1].code), code(before[2].code)]);
        let Write::InsertMade(_, made) = &steps[2] else {
            unreachable!("checked above")
        };
        let expected: Vec<_> = after[1..].iter().map(schema::cell_row).collect();
        assert_eq!(
            format!("{:?}", made.iter().collect::<Vec<_>>()),
            format!("{expected:?}"),
            "the changed and new cells' rows, made as written"
        );
    }

    #[test]
    fn a_first_partition_only_inserts_and_a_new_one_empties_the_tables() {
        let (cells, adjacency) = two_cells();
        let rows = CellRows {
            cells: &cells,
            adjacency: &adjacency,
        };
        assert_eq!(
            summary(&plan(CellRows::default(), &new(rows))),
            [("insert", "cells", 2), ("insert", "cell_adjacency", 1)]
        );
        let moved: Vec<Cell> = cells
            .iter()
            .map(|c| Cell {
                area_m2: 9_000.0,
                ..c.clone()
            })
            .collect();
        let steps = plan(
            rows,
            &new(CellRows {
                cells: &moved,
                adjacency: &[],
            }),
        );
        assert_eq!(
            summary(&steps),
            [
                ("delete all", "cells", 0),
                ("delete all", "cell_adjacency", 0),
                ("insert", "cells", 2),
            ]
        );
    }

    #[test]
    fn many_gone_rows_are_deleted_in_bounded_statements() {
        let before: Vec<Cell> = ["330106001001", "330106001002", "330106001003"]
            .iter()
            .flat_map(|c| (1..=999).map(|i| cell_in(c, i, 120.0)))
            .collect();
        let after = &before[..100];
        let steps = plan(
            CellRows {
                cells: &before,
                adjacency: &[],
            },
            &new(CellRows {
                cells: after,
                adjacency: &[],
            }),
        );
        assert_eq!(
            summary(&steps),
            [
                ("delete", "cells", KEYS_PER_DELETE),
                ("delete", "cells", KEYS_PER_DELETE),
                ("delete", "cells", 2897 - 2 * KEYS_PER_DELETE),
            ]
        );
    }
}
