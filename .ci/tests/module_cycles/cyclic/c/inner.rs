// Internal edges (super::) are ignored; `super::super::a` climbs to the root, then `a`.
use super::super::a::AThing as Back;
pub struct CThing(pub Option<Box<Back>>, pub crate::Renamed);
