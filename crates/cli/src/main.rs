//! The relance binary.
fn main() {}
