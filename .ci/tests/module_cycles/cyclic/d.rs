pub struct DThing;
pub struct Other;
