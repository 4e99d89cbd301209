// Internal edges (super::) are ignored; `super::super::d` climbs to the root, then `d`.
use super::super::d::DThing;
pub struct CThing(pub DThing, pub crate::Renamed);
#[cfg(all(test, feature = "x"))]
mod tests {
    use crate::a::AThing;
}
