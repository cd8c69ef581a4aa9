//! Engine integration tests through the public API only.

mod cells;
mod locate;
mod responders;
