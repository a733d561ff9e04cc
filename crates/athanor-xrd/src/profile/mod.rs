//! Powder-pattern simulation: stick patterns rendered on a 2θ grid with a Thompson–Cox–Hastings
//! pseudo-Voigt instrument profile (read from instrument files), the Kα2 doublet, zero shift,
//! specimen displacement, size/strain broadening, March–Dollase texture, a Chebyshev background
//! and seeded Poisson counting noise.

mod background;
mod error;
mod instrument;
mod noise;
mod render;
mod sample;
mod shape;

pub use background::ChebyshevBackground;
pub use error::ProfileError;
pub use instrument::InstrumentProfile;
pub use noise::counting_noise;
pub use render::{add_phase, render, render_phases, Measurement, Phase, DEFAULT_WINDOW_FWHM};
pub use sample::{MarchDollase, SampleEffects};
pub use shape::{gaussian, lorentzian, lorentzian_fraction_within, PeakShape};

#[cfg(test)]
mod tests;
