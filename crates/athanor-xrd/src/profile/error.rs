//! The one error type of pattern simulation: bad instrument files, parameters, grids or peaks.

use crate::pattern::PatternError;

/// Why an instrument profile could not be loaded or a pattern not rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    #[error("instrument file is not valid TOML or its [profile] table is malformed: {message}")]
    Toml { message: String },
    #[error("instrument file has class = \"{class}\", not \"diffractometer\": it holds no diffraction profile")]
    NotADiffractometer { class: String },
    #[error("instrument file has no [profile] table")]
    MissingProfile,
    #[error("parameter {name} = {value}: {expected}")]
    BadParameter {
        name: &'static str,
        value: f64,
        expected: &'static str,
    },
    #[error("no built-in instrument profile named '{name}' (built-in: {known})")]
    UnknownBuiltin { name: String, known: String },
    #[error("2θ grid: {0}")]
    Grid(#[source] PatternError),
    #[error("reflection {index}: {reason}")]
    BadReflection { index: usize, reason: String },
    #[error("{found} plane lists for {expected} reflections")]
    PlaneCount { expected: usize, found: usize },
    #[error("Gaussian FWHM² = U tan²θ + V tanθ + W + P/cos²θ is {value} deg² at 2θ = {two_theta}°: U, V, W give no real width there")]
    NegativeGaussianWidth { two_theta: f64, value: f64 },
    #[error("Lorentzian FWHM = X tanθ + Y/cosθ (+ size, strain) is {value}° at 2θ = {two_theta}°: it must not be negative")]
    NegativeLorentzianWidth { two_theta: f64, value: f64 },
    #[error(
        "peak at 2θ = {two_theta}° has zero width: the profile parameters give a delta function"
    )]
    ZeroWidth { two_theta: f64 },
    #[error("the rendered pattern is invalid: {0}")]
    Pattern(#[source] PatternError),
}
