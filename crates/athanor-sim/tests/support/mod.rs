//! Shared helpers of the athanor-sim tests: the shipped worlds, and histories built from a
//! furnace program.

#![allow(dead_code, clippy::unwrap_used)]

use athanor_sim::{PowderHistory, TemperatureProfile, World};

pub const YBCO: &str = include_str!("../../../../config/worlds/ybco.toml");
pub const LIMNTI: &str = include_str!("../../../../config/worlds/limnti.toml");
pub const ZNTI_FILM: &str = include_str!("../../../../config/worlds/znti-film.toml");

/// Every shipped world, by file name.
pub fn shipped() -> Vec<(&'static str, World)> {
    [
        ("ybco.toml", YBCO),
        ("limnti.toml", LIMNTI),
        ("znti-film.toml", ZNTI_FILM),
    ]
    .into_iter()
    .map(|(name, text)| {
        let world = World::from_toml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        (name, world)
    })
    .collect()
}

/// Ramp at 5 °C/min from 25 °C to `peak_c`, hold `hours`, cool at `cool` °C/min.
pub fn program(peak_c: f64, hours: f64, cool: f64) -> TemperatureProfile {
    TemperatureProfile::ramp_dwell_cool(25.0, peak_c, 5.0, hours * 3600.0, cool).unwrap()
}

/// A powder history from (precursor, mol) pairs.
pub fn powder(
    precursors: &[(&str, f64)],
    profile: TemperatureProfile,
    atmosphere: &str,
) -> PowderHistory {
    PowderHistory {
        precursors: precursors
            .iter()
            .map(|(n, m)| ((*n).to_string(), *m))
            .collect(),
        profile,
        atmosphere: atmosphere.to_string(),
    }
}

pub mod rig;
