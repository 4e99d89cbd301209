//! A fixture crate for `.ci/module_cycles.py --self-test`. Not compiled.
pub mod a;
pub mod b;
pub mod c;
mod d;

pub use c::CThing;
pub use d::{DThing, Other as Renamed};
