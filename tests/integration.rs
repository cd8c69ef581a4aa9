//! Engine integration tests through the public API only.

mod locate;
