/* crate::a::AThing in a block comment is not an edge */
pub struct BThing(pub crate::CThing);

#[cfg(test)]
mod tests;
