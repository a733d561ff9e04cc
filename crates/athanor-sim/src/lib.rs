//! Athanor's simulated lab.
//!
//! - `world` is the materials world: pure, deterministic, fast; `thermal` is a furnace's
//!   thermal model (heater, hot zone, thermocouple, PID, programmer).
//! - `furnace_controller`, `diffractometer`, `faults` and `lab` are the simulated instruments
//!   and the lab's state, sans-io: frames and commands in, answers and results out, with
//!   seeded faults and a log of every physical action.
//! - `serve` puts them on the wire (Modbus RTU on ptys, MQTT controllers on a broker) on the
//!   lab's sped-up `clock`.

pub mod clock;
pub mod diffractometer;
pub mod faults;
pub mod furnace_controller;
pub mod lab;
pub mod serve;
pub mod thermal;
pub mod world;

pub use clock::SimClock;
pub use world::{
    Deposit, FilmHistory, Outcome, PowderHistory, TemperatureProfile, World, WorldError,
};
