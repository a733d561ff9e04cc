//! The `athanor` command: parses arguments and hands off to the library crates.
fn main() {}
