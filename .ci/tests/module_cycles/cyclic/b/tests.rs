//! A test module in its own file: ignored.
use crate::a::AThing;
