//! A point of a world's search space as the history a sample would have: the furnace program
//! the search space implies (from room temperature at its ramp rate, a dwell, back at its
//! cooling rate), with a precursor set or a film deposit. What a benchmark hands the world
//! when a planner picks a point.

use super::error::WorldError;
use super::film::{Deposit, FilmHistory};
use super::model::World;
use super::powder::PowderHistory;
use super::profile::TemperatureProfile;

/// Where programs start and end, °C.
pub const ROOM_C: f64 = 25.0;

impl World {
    /// The search space's program: ramp to `peak_c`, hold `dwell_hours`, cool.
    pub fn program(&self, peak_c: f64, dwell_hours: f64) -> Result<TemperatureProfile, WorldError> {
        let s = &self.search_space;
        TemperatureProfile::ramp_dwell_cool(
            ROOM_C,
            peak_c,
            s.ramp_c_per_min,
            dwell_hours * 3600.0,
            s.cool_c_per_min,
        )
    }

    /// A powder sample made from precursor set `set` of the search space with that program.
    pub fn powder_history(
        &self,
        set: usize,
        peak_c: f64,
        dwell_hours: f64,
        atmosphere: &str,
    ) -> Result<PowderHistory, WorldError> {
        let amounts = self.search_space.precursor_sets.get(set).ok_or_else(|| {
            WorldError::history(
                "set",
                format!(
                    "no precursor set {set} (the search space has {})",
                    self.search_space.precursor_sets.len()
                ),
            )
        })?;
        Ok(PowderHistory {
            precursors: self.named(amounts),
            profile: self.program(peak_c, dwell_hours)?,
            atmosphere: atmosphere.to_string(),
        })
    }

    /// A film deposited so, annealed with the search space's program.
    pub fn film_history(
        &self,
        deposit: Deposit,
        peak_c: f64,
        dwell_hours: f64,
    ) -> Result<FilmHistory, WorldError> {
        Ok(FilmHistory {
            deposit,
            anneal: self.program(peak_c, dwell_hours)?,
        })
    }
}
