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
//!
//! The sums are arranged for speed (the Kα1 and Kα2 Lorentzians share one division, Gaussians on
//! an evenly spaced grid are carried from point to point by multiplication, windows are found
//! from the step), which changes results only by rounding: on the library's phases they agree
//! with a term-by-term evaluation to 1.3e-13 of each value and 5e-14 of the pattern's maximum.

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
    let step = UniformStep::of(grid);
    // The peaks of one reflection, one per emission line.
    let mut peaks: Vec<Peak> = Vec::with_capacity(lines.len());
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
        peaks.clear();
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
            peaks.push(Peak::new(
                grid,
                step,
                center,
                area * weight,
                shape,
                window_fwhm,
                tail_share,
            ));
        }
        add_peaks(intensity, grid, &peaks, step);
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

/// One peak ready to draw: `area` × pseudo-Voigt(2θ − centre), Lorentzian part over the
/// window `lo..hi` of the grid, Gaussian part over `glo..ghi` (the window ∩ ±6 FWHM).
#[derive(Debug, Clone, Copy)]
struct Peak {
    center: f64,
    /// Lorentzian height (divided by the window's share of its area) and 4/Γ².
    al: f64,
    kl: f64,
    /// Gaussian height and 4 ln2/Γ².
    ag: f64,
    kg: f64,
    fwhm: f64,
    lo: usize,
    hi: usize,
    glo: usize,
    ghi: usize,
}

impl Peak {
    /// The constants of one peak and its windows on `grid`.
    fn new(
        grid: &[f64],
        step: Option<UniformStep>,
        center: f64,
        area: f64,
        shape: PeakShape,
        window_fwhm: f64,
        tail_share: f64,
    ) -> Self {
        let gamma = shape.fwhm;
        let half = window_fwhm * gamma;
        let lo = boundary(grid, step, center - half, false);
        let hi = boundary(grid, step, center + half, true).max(lo);
        // Beyond 6 FWHM the Gaussian is below e^(−4 ln2 · 36) ≈ 5e-44 of its peak: skipped.
        let reach = 6.0 * gamma;
        let glo = boundary(grid, step, center - reach, false).clamp(lo, hi);
        let ghi = boundary(grid, step, center + reach, true).clamp(lo, hi);
        Self {
            center,
            al: area * shape.eta * 2.0 / (PI * gamma) / tail_share,
            kl: 4.0 / (gamma * gamma),
            ag: area * (1.0 - shape.eta) * (4.0 * LN_2 / PI).sqrt() / gamma,
            kg: 4.0 * LN_2 / (gamma * gamma),
            fwhm: gamma,
            lo,
            hi,
            glo,
            ghi,
        }
    }

    fn has_lorentzian(&self) -> bool {
        self.al != 0.0 && self.lo < self.hi
    }
}

/// Adds the peaks of one reflection (one per emission line); see the module notes.
///
/// The Lorentzian parts of the Kα1 and Kα2 peaks are added together where their windows
/// overlap, a/p + b/q as (a·q + b·p)/(p·q): one division per grid point instead of two.
fn add_peaks(intensity: &mut [f64], grid: &[f64], peaks: &[Peak], step: Option<UniformStep>) {
    let mut pending: Option<&Peak> = None;
    for peak in peaks.iter().filter(|p| p.has_lorentzian()) {
        match pending.take() {
            None => pending = Some(peak),
            Some(first) => add_lorentzian_pair(intensity, grid, first, peak),
        }
    }
    if let Some(peak) = pending {
        add_lorentzian(intensity, grid, peak, peak.lo, peak.hi);
    }
    for peak in peaks {
        if peak.ag != 0.0 && peak.glo < peak.ghi {
            add_gaussian(intensity, grid, peak, step);
        }
    }
}

/// al / (1 + kl (2θ − centre)²) over `lo..hi`. Division only: this loop vectorises.
fn add_lorentzian(intensity: &mut [f64], grid: &[f64], p: &Peak, lo: usize, hi: usize) {
    if lo >= hi {
        return;
    }
    for (y, &t) in intensity[lo..hi].iter_mut().zip(&grid[lo..hi]) {
        let dx = t - p.center;
        *y += p.al / (1.0 + p.kl * dx * dx);
    }
}

/// Two Lorentzians: each alone outside the other's window, both with one division inside.
fn add_lorentzian_pair(intensity: &mut [f64], grid: &[f64], a: &Peak, b: &Peak) {
    let (lo, hi) = (a.lo.max(b.lo), a.hi.min(b.hi));
    if lo >= hi {
        add_lorentzian(intensity, grid, a, a.lo, a.hi);
        add_lorentzian(intensity, grid, b, b.lo, b.hi);
        return;
    }
    // The windows are intervals that overlap on lo..hi: what lies left of it belongs to the
    // one that starts first, what lies right of it to the one that ends last.
    let first = if a.lo <= b.lo { a } else { b };
    let last = if a.hi >= b.hi { a } else { b };
    add_lorentzian(intensity, grid, first, first.lo, lo);
    add_lorentzian(intensity, grid, last, hi, last.hi);
    for (y, &t) in intensity[lo..hi].iter_mut().zip(&grid[lo..hi]) {
        let (da, db) = (t - a.center, t - b.center);
        let p = 1.0 + a.kl * da * da;
        let q = 1.0 + b.kl * db * db;
        *y += (a.al * q + b.al * p) / (p * q);
    }
}

/// A grid's constant step h, with the largest distance of a point from first + i·h.
#[derive(Debug, Clone, Copy)]
struct UniformStep {
    h: f64,
    deviation: f64,
}

impl UniformStep {
    /// The step of an evenly spaced, increasing grid of at least two points.
    fn of(grid: &[f64]) -> Option<Self> {
        let (&first, &last) = (grid.first()?, grid.last()?);
        if grid.len() < 2 {
            return None;
        }
        let h = (last - first) / (grid.len() - 1) as f64;
        let deviation = grid
            .iter()
            .enumerate()
            .map(|(i, &t)| (t - (first + i as f64 * h)).abs())
            .fold(0.0, f64::max);
        (h > 0.0 && h.is_finite() && deviation < 0.5 * h).then_some(Self { h, deviation })
    }
}

/// The number of grid points before `x` (at or before it when `inclusive`), as
/// `partition_point` counts them; on an evenly spaced grid from the index x/h predicts, moved
/// by a point or two where rounding puts it off, instead of a binary search.
fn boundary(grid: &[f64], step: Option<UniformStep>, x: f64, inclusive: bool) -> usize {
    let before = |t: f64| if inclusive { t <= x } else { t < x };
    let Some(step) = step else {
        return grid.partition_point(|&t| before(t));
    };
    let n = grid.len();
    let guess = ((x - grid[0]) / step.h).ceil();
    let mut i = if guess >= n as f64 {
        n
    } else if guess > 0.0 {
        guess as usize
    } else {
        0
    };
    while i > 0 && !before(grid[i - 1]) {
        i -= 1;
    }
    while i < n && before(grid[i]) {
        i += 1;
    }
    i
}

/// Points per block of the Gaussian recurrence: three exponentials start each block.
const GAUSSIAN_BLOCK: usize = 64;

/// ag·exp(−kg (2θ − centre)²) over `glo..ghi`.
///
/// On an evenly spaced grid with the peak sampled at least once per FWHM this takes three
/// exponentials per block of 64 points instead of one per point. With d = 2θ − centre and
/// step h, G(d + 2h) = G(d)·R(d) where R(d) = exp(−4 kg h (d + h)), and R(d + 2h) = R(d)·Q
/// with Q = exp(−8 kg h²): two interleaved sequences (even and odd points, which keeps the
/// chains of dependent multiplications short) are carried by multiplication from exact values
/// at the start of each block. Each point is then corrected for its distance δ from the ideal
/// position d̂ (2θ values are rounded, grids may drift slightly): G(d) = G(d̂)·exp(−kg δ (d + d̂))
/// ≈ G(d̂)·(1 − kg δ (d + d̂)), used only while kg δ (d + d̂) stays below 1e-8, so that the
/// neglected second-order term is below 1e-16. Within a block of 64 points h ≤ FWHM keeps every
/// factor far from overflow and underflow. The result agrees with exp per point to about 1e-14
/// of the peak height.
fn add_gaussian(intensity: &mut [f64], grid: &[f64], p: &Peak, step: Option<UniformStep>) {
    let (ys, ts) = (&mut intensity[p.glo..p.ghi], &grid[p.glo..p.ghi]);
    let fast = step.filter(|s| {
        // |δ| ≤ 2·deviation (plus the rounding any evaluation of d has), |d + d̂| ≤ 12 FWHM + 2h.
        let bound = p.kg * 2.0 * s.deviation * (12.0 * p.fwhm + 2.0 * s.h);
        s.h <= p.fwhm && ys.len() >= 4 && bound <= 1e-8
    });
    let Some(UniformStep { h, .. }) = fast else {
        for (y, &t) in ys.iter_mut().zip(ts) {
            let dx = t - p.center;
            *y += p.ag * (-p.kg * dx * dx).exp();
        }
        return;
    };
    let (c, ag, kg) = (p.center, p.ag, p.kg);
    let q_half = (-4.0 * kg * h * h).exp();
    let q = q_half * q_half;
    let mut offset = [0.0; GAUSSIAN_BLOCK];
    for (j, o) in offset.iter_mut().enumerate() {
        *o = j as f64 * h;
    }
    for (yb, tb) in ys.chunks_mut(GAUSSIAN_BLOCK).zip(ts.chunks(GAUSSIAN_BLOCK)) {
        let last = offset[yb.len() - 1];
        let d0 = tb[0] - c;
        let d1 = d0 + h;
        let mut g = [ag * (-kg * d0 * d0).exp(), ag * (-kg * d1 * d1).exp()];
        let r0 = (-4.0 * kg * h * (d0 + h)).exp();
        // R(d + h) = R(d)·exp(−4 kg h²).
        let mut r = [r0, r0 * q_half];
        let mut y_pairs = yb.chunks_exact_mut(2);
        let mut t_pairs = tb.chunks_exact(2);
        for ((y2, t2), o2) in (&mut y_pairs).zip(&mut t_pairs).zip(offset.chunks_exact(2)) {
            for s in 0..2 {
                let d = t2[s] - c;
                let ideal = d0 + o2[s];
                y2[s] += g[s] * (1.0 - kg * (d - ideal) * (d + ideal));
                g[s] *= r[s];
                r[s] *= q;
            }
        }
        // An odd block ends on an even point, carried by the first sequence.
        if let (Some(y), Some(&t)) = (
            y_pairs.into_remainder().first_mut(),
            t_pairs.remainder().first(),
        ) {
            let d = t - c;
            let ideal = d0 + last;
            *y += g[0] * (1.0 - kg * (d - ideal) * (d + ideal));
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
