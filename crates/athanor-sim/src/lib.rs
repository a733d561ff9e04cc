//! Athanor's simulated lab. `world` is the materials world: pure, deterministic, fast. The
//! simulated instruments that serve the real protocols from it come next.

pub mod world;

pub use world::{
    Deposit, FilmHistory, Outcome, PowderHistory, TemperatureProfile, World, WorldError,
};
