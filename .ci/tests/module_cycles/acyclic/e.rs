// `super::{…}` from a top-level file names root items: an edge to `d` (via `DThing`).
use super::{DThing, self as _};
pub struct EThing(pub DThing);
