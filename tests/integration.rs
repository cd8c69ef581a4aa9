//! Engine integration tests through the public API only.

mod cells;
mod grids;
mod locate;
mod responders;
