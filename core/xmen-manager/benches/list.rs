//! Placeholder until the list bench lands.
fn main() {}
