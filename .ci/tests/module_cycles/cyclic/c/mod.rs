mod inner;
pub use inner::CThing;
