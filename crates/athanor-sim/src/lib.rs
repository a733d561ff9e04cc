//! Athanor's simulated lab. `world` is the materials world: pure, deterministic, fast;
//! `thermal` is a furnace's thermal model (heater, hot zone, thermocouple, PID, programmer).
//! The simulated instruments that serve the real protocols from them come next.

pub mod thermal;
pub mod world;

pub use world::{
    Deposit, FilmHistory, Outcome, PowderHistory, TemperatureProfile, World, WorldError,
};
