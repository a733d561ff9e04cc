//! The materials world: a pure, deterministic model of what forms from what, and when. A world
//! file (`config/worlds/*.toml`) names phases (each tied to a reference-library structure),
//! gases, atmospheres, reactions with onsets, Arrhenius kinetics and reaction energies,
//! volatility, crystallite growth, Vegard cells and, for films, a phase diagram over composition
//! and anneal temperature. A sample's real history goes in; its phases come out.
//!
//! No I/O, no clock, no async: randomness comes from a seed (ChaCha8).

mod build;
mod error;
mod film;
pub mod formula;
mod growth;
pub mod kinetics;
mod model;
mod outcome;
mod plan;
mod powder;
mod profile;
mod scatter;
pub mod spec;
pub mod vegard;

pub use build::{build, from_toml};
pub use error::WorldError;
pub use film::{Deposit, FilmHistory};
pub use formula::{Formula, FormulaError};
pub use growth::Growth;
pub use model::{
    Atmosphere, Crystallisation, Film, FilmVegard, Gas, GasId, Goal, Phase, PhaseId, Process,
    Region, SearchSpace, World,
};
pub use outcome::{GasExchange, Outcome, PhaseOutcome};
pub use plan::ROOM_C;
pub use powder::PowderHistory;
pub use profile::{Step, TemperatureProfile, MAX_STEP_KELVIN};
pub use scatter::Scatter;

impl World {
    /// Reads and validates a world file's text.
    pub fn from_toml(text: &str) -> Result<Self, WorldError> {
        from_toml(text)
    }
}
