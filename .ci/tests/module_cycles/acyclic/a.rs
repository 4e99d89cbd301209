//! `crate::d::DThing` in a doc comment is not an edge.
use crate::{b::BThing, self as _};

/// Uses [`crate::c::CThing`] (a doc link, not an edge).
pub struct AThing(pub BThing);

const URL: &str = "crate::d::x // not code";
const Q: char = '"';

#[cfg(test)]
mod tests {
    use crate::d::DThing;
    use super::*;
}
