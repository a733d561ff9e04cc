//! Rendering stick patterns into continuous patterns on a 2θ grid: peak positions from d and
//! the instrument's wavelengths, TCH widths, texture, scale, then background and noise.
//!
//! Positions are recomputed from each reflection's d-spacing and the instrument's Kα1 (and Kα2)
//! wavelength, so `Reflection::two_theta` is not used; intensities are taken as integrated
//! intensities at the instrument's wavelength (Lorentz–polarisation already in them). Each peak is
//! evaluated only within ±`window_fwhm` FWHM of its centre (default 20): the Gaussian part is
//! complete there, and the Lorentzian part is divided by the share of its area inside the window,
//! (2/π)·atan(2·window_fwhm) (0.984 for 20), so truncating the tails moves that 1.6 % of area into
//! the window instead of losing it. Profile values are sampled at the grid points (not averaged
//! over a step), so a grid much coarser than the peaks does not conserve area.

use serde::{Deserialize, Serialize};
use std::f64::consts::{LN_2, PI};

use super::background::ChebyshevBackground;
use super::error::ProfileError;
use super::instrument::InstrumentProfile;
use super::noise::counting_noise;
use super::sample::SampleEffects;
use super::shape::{lorentzian_fraction_within, PeakShape};
use crate::lattice::Lattice;
use crate::pattern::{Pattern, PatternError, PatternMeta};
use crate::reflection::Reflection;

/// Peaks are evaluated within this many FWHM either side of their centre unless told otherwise.
pub const DEFAULT_WINDOW_FWHM: f64 = 20.0;

/// One crystalline phase to render.
#[derive(Debug, Clone, Copy)]
pub struct Phase<'a> {
    pub reflections: &'a [Reflection],
    pub lattice: &'a Lattice,
    pub sample: &'a SampleEffects,
    /// For each reflection (same order), every symmetry-equivalent plane contributing to it, used
    /// to average the March–Dollase factor. Without it the representatives in
    /// `Reflection::hkls` are averaged, weighted by `Reflection::multiplicities` when given; that
    /// is exact only when every member of a family makes the same angle with the texture axis.
    pub planes: Option<&'a [Vec<[i32; 3]>]>,
}

impl<'a> Phase<'a> {
    pub fn new(
        reflections: &'a [Reflection],
        lattice: &'a Lattice,
        sample: &'a SampleEffects,
    ) -> Self {
        Self {
            reflections,
            lattice,
            sample,
            planes: None,
        }
    }
}

/// What the measurement adds on top of the phases.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Measurement {
    /// Background added to every point, before noise.
    pub background: Option<ChebyshevBackground>,
    /// When set, the intensities (taken as expected counts) are replaced by Poisson draws from
    /// a generator seeded with this value, and σ = √max(N, 1) is attached.
    pub noise_seed: Option<u64>,
    /// Half-width of the evaluation window of each peak, in FWHM (≥ 1).
    pub window_fwhm: f64,
}

impl Default for Measurement {
    fn default() -> Self {
        Self {
            background: None,
            noise_seed: None,
            window_fwhm: DEFAULT_WINDOW_FWHM,
        }
    }
}

/// One phase, no background, no noise.
pub fn render(
    reflections: &[Reflection],
    lattice: &Lattice,
    instrument: &InstrumentProfile,
    sample: &SampleEffects,
    grid: &[f64],
) -> Result<Pattern, ProfileError> {
    render_phases(
        &[Phase::new(reflections, lattice, sample)],
        instrument,
        &Measurement::default(),
        grid,
    )
}

/// The sum of several phases, plus background, then counting noise, on `grid` (degrees 2θ,
/// strictly increasing).
pub fn render_phases(
    phases: &[Phase<'_>],
    instrument: &InstrumentProfile,
    measurement: &Measurement,
    grid: &[f64],
) -> Result<Pattern, ProfileError> {
    instrument.validate()?;
    check_grid(grid)?;
    let mut intensity = vec![0.0; grid.len()];
    for phase in phases {
        add_phase(
            &mut intensity,
            grid,
            phase,
            instrument,
            measurement.window_fwhm,
        )?;
    }
    if let Some(background) = &measurement.background {
        background.validate()?;
        background.add_to(grid, &mut intensity);
    }
    let sigma = match measurement.noise_seed {
        Some(seed) => {
            let (counts, sigma) = counting_noise(&intensity, seed);
            intensity = counts;
            Some(sigma)
        }
        None => None,
    };
    let mut meta = PatternMeta {
        wavelength: Some(instrument.wavelength_angstrom),
        ..PatternMeta::default()
    };
    if instrument.alpha2_ratio > 0.0 {
        meta.wavelength_alpha2 = instrument.wavelength_alpha2_angstrom;
        meta.alpha2_ratio = Some(instrument.alpha2_ratio);
    }
    meta.notes.push(format!(
        "simulated with instrument profile {}",
        instrument.id.as_deref().unwrap_or("(unnamed)")
    ));
    if let Some(seed) = measurement.noise_seed {
        meta.notes
            .push(format!("Poisson counting noise, seed {seed}"));
    }
    Pattern::new(grid.to_vec(), intensity, sigma)
        .map(|p| p.with_meta(meta))
        .map_err(ProfileError::Pattern)
}

/// Adds one phase's peaks to `intensity` (same length as `grid`).
pub fn add_phase(
    intensity: &mut [f64],
    grid: &[f64],
    phase: &Phase<'_>,
    instrument: &InstrumentProfile,
    window_fwhm: f64,
) -> Result<(), ProfileError> {
    if intensity.len() != grid.len() {
        return Err(ProfileError::Grid(PatternError::LengthMismatch {
            column: "intensity",
            expected: grid.len(),
            found: intensity.len(),
        }));
    }
    if !(window_fwhm.is_finite() && window_fwhm >= 1.0) {
        return Err(ProfileError::BadParameter {
            name: "window_fwhm",
            value: window_fwhm,
            expected: "must be a finite number ≥ 1",
        });
    }
    let sample = phase.sample;
    sample.validate()?;
    if let Some(planes) = phase.planes {
        if planes.len() != phase.reflections.len() {
            return Err(ProfileError::PlaneCount {
                expected: phase.reflections.len(),
                found: planes.len(),
            });
        }
    }
    let lines = instrument.lines();
    let tail_share = lorentzian_fraction_within(window_fwhm);
    for (index, r) in phase.reflections.iter().enumerate() {
        check_reflection(index, r)?;
        if r.intensity == 0.0 || sample.scale == 0.0 {
            continue;
        }
        let texture = match (&sample.preferred_orientation, phase.planes) {
            (Some(md), Some(planes)) => md.mean_factor(phase.lattice, &planes[index]),
            (Some(md), None) => md.weighted_mean_factor(phase.lattice, &r.hkls, &r.multiplicities),
            (None, _) => 1.0,
        };
        let area = r.intensity * sample.scale * texture;
        for &(wavelength, weight) in &lines {
            let sin_theta = wavelength / (2.0 * r.d);
            if sin_theta >= 1.0 {
                continue; // beyond the 2θ = 180° limit for this line
            }
            let theta = sin_theta.asin();
            let center = 2.0 * theta.to_degrees()
                + instrument.zero_shift_deg
                + sample.displacement_shift_deg(theta, instrument.goniometer_radius_mm);
            let shape = peak_shape(instrument, sample, theta, wavelength, center)?;
            add_peak(
                intensity,
                grid,
                center,
                area * weight,
                shape,
                window_fwhm,
                tail_share,
            );
        }
    }
    Ok(())
}

/// TCH shape at Bragg angle θ: instrument U, V, W, P, X, Y plus sample size and strain.
fn peak_shape(
    instrument: &InstrumentProfile,
    sample: &SampleEffects,
    theta: f64,
    wavelength: f64,
    center: f64,
) -> Result<PeakShape, ProfileError> {
    let (tan, cos) = (theta.tan(), theta.cos());
    let g2 =
        instrument.u * tan * tan + instrument.v * tan + instrument.w + instrument.p / (cos * cos);
    if g2 < -1e-12 || !g2.is_finite() {
        return Err(ProfileError::NegativeGaussianWidth {
            two_theta: center,
            value: g2,
        });
    }
    let gl =
        instrument.x * tan + instrument.y / cos + sample.lorentzian_fwhm_deg(theta, wavelength);
    if gl < 0.0 || !gl.is_finite() {
        return Err(ProfileError::NegativeLorentzianWidth {
            two_theta: center,
            value: gl,
        });
    }
    let shape = PeakShape::tch(g2.max(0.0).sqrt(), gl);
    if !(shape.fwhm > 0.0 && shape.fwhm.is_finite()) {
        return Err(ProfileError::ZeroWidth { two_theta: center });
    }
    Ok(shape)
}

/// Adds `area` × pseudo-Voigt(2θ − centre) over the window; see the module notes.
fn add_peak(
    intensity: &mut [f64],
    grid: &[f64],
    center: f64,
    area: f64,
    shape: PeakShape,
    window_fwhm: f64,
    tail_share: f64,
) {
    let gamma = shape.fwhm;
    let half = window_fwhm * gamma;
    let lo = grid.partition_point(|&t| t < center - half);
    let hi = grid.partition_point(|&t| t <= center + half);
    if lo >= hi {
        return;
    }
    let kl = 4.0 / (gamma * gamma);
    let al = area * shape.eta * 2.0 / (PI * gamma) / tail_share;
    if al != 0.0 {
        // Division only: this loop vectorises.
        for (y, &t) in intensity[lo..hi].iter_mut().zip(&grid[lo..hi]) {
            let dx = t - center;
            *y += al / (1.0 + kl * dx * dx);
        }
    }
    let ag = area * (1.0 - shape.eta) * (4.0 * LN_2 / PI).sqrt() / gamma;
    if ag != 0.0 {
        // Beyond 6 FWHM the Gaussian is below e^(−4 ln2 · 36) ≈ 5e-44 of its peak: skipped.
        let reach = 6.0 * gamma;
        let glo = lo + grid[lo..hi].partition_point(|&t| t < center - reach);
        let ghi = lo + grid[lo..hi].partition_point(|&t| t <= center + reach);
        let kg = 4.0 * LN_2 / (gamma * gamma);
        for (y, &t) in intensity[glo..ghi].iter_mut().zip(&grid[glo..ghi]) {
            let dx = t - center;
            *y += ag * (-kg * dx * dx).exp();
        }
    }
}

fn check_reflection(index: usize, r: &Reflection) -> Result<(), ProfileError> {
    if !(r.d.is_finite() && r.d > 0.0) {
        return Err(ProfileError::BadReflection {
            index,
            reason: format!("d-spacing {} Å is not a positive number", r.d),
        });
    }
    if !(r.intensity.is_finite() && r.intensity >= 0.0) {
        return Err(ProfileError::BadReflection {
            index,
            reason: format!("intensity {} is not a finite number ≥ 0", r.intensity),
        });
    }
    Ok(())
}

fn check_grid(grid: &[f64]) -> Result<(), ProfileError> {
    if grid.is_empty() {
        return Err(ProfileError::Grid(PatternError::Empty));
    }
    let mut previous = f64::NEG_INFINITY;
    for (index, &value) in grid.iter().enumerate() {
        if !value.is_finite() {
            return Err(ProfileError::Grid(PatternError::NotFinite {
                column: "2θ",
                index,
                value,
            }));
        }
        if value <= previous {
            return Err(ProfileError::Grid(PatternError::NotIncreasing {
                index,
                previous,
                value,
            }));
        }
        previous = value;
    }
    Ok(())
}
