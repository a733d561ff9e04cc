//! The simulated diffractometer's physics, pure: a sample's true phases (an [`Outcome`]) and a
//! scan in, a measured pattern out. Each phase's stick pattern is computed by the
//! characterization engine from the world's structure with the sample's own cell, scaled as
//! Rietveld scale factors are (S ∝ w / (Z·M·V), so quantitative analysis gets the weight
//! fractions back), broadened by its crystallite size and rendered with the instrument's
//! profile; then a background, a sample displacement drawn for the scan, optional preferred
//! orientation, and Poisson counting noise for the time per step.

use athanor_drivers::instrument::Scan;
use athanor_xrd::identify::atomic_weight;
use athanor_xrd::pattern::uniform_grid;
use athanor_xrd::profile::{
    counting_noise, render_phases, InstrumentProfile, MarchDollase, Measurement, Phase,
    SampleEffects,
};
use athanor_xrd::simulate::simulate_with_scale;
use athanor_xrd::{Pattern, SimulationOptions};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use serde::Deserialize;

use crate::world::{Outcome, World};

/// How the simulated diffractometer measures, beyond its line profile.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Detector {
    /// Counts per second at the pattern's strongest point.
    pub peak_counts_per_s: f64,
    /// Flat background, counts per second.
    pub background_counts_per_s: f64,
    /// Spread of the specimen displacement from scan to scan, mm (one standard deviation).
    pub displacement_sigma_mm: f64,
    /// Preferred orientation of every phase (none: a random powder).
    pub preferred_orientation: Option<MarchDollase>,
    /// Phases below this weight fraction are not rendered (they would be below any detection
    /// limit anyway).
    pub min_weight_fraction: f64,
}

impl Default for Detector {
    fn default() -> Self {
        Self {
            peak_counts_per_s: 5000.0,
            background_counts_per_s: 60.0,
            displacement_sigma_mm: 0.02,
            preferred_orientation: None,
            min_weight_fraction: 1e-3,
        }
    }
}

/// Why a pattern could not be computed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MeasureError {
    #[error("scan grid: {0}")]
    Grid(String),
    #[error("phase {phase}: {reason}")]
    Phase { phase: String, reason: String },
    #[error("rendering: {0}")]
    Render(String),
}

/// The pattern of `outcome` measured with `scan`. `seed` draws the displacement and the noise;
/// `fraction` < 1 stops the scan early (an aborted scan keeps the points it measured).
pub fn measure(
    world: &World,
    outcome: &Outcome,
    scan: &Scan,
    profile: &InstrumentProfile,
    detector: &Detector,
    seed: u64,
    fraction: f64,
) -> Result<Pattern, MeasureError> {
    let mut grid = uniform_grid(scan.two_theta_start, scan.two_theta_end, scan.step_deg)
        .map_err(|e| MeasureError::Grid(e.to_string()))?;
    let keep = ((grid.len() as f64 * fraction.clamp(0.0, 1.0)).ceil() as usize).max(2);
    grid.truncate(keep.min(grid.len()));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let displacement_mm = match Normal::new(0.0, detector.displacement_sigma_mm.max(0.0)) {
        Ok(n) => n.sample(&mut rng),
        Err(_) => 0.0,
    };
    // Sticks over a margin around the scan, so peaks just outside still show their tails.
    let options = SimulationOptions::new(profile.wavelength_angstrom).with_range(
        (scan.two_theta_start - 2.0).max(0.5),
        (scan.two_theta_end + 2.0).min(170.0),
    );

    struct Rendered {
        reflections: Vec<athanor_xrd::Reflection>,
        lattice: athanor_xrd::Lattice,
        sample: SampleEffects,
    }
    let mut phases = Vec::new();
    for p in outcome.detectable(detector.min_weight_fraction) {
        let fail = |reason: String| MeasureError::Phase {
            phase: p.name.clone(),
            reason,
        };
        let id = world
            .phase_id(&p.name)
            .ok_or_else(|| fail("not a phase of this world".into()))?;
        let structure = world
            .structure_with(id, p.lattice)
            .ok_or_else(|| fail("no structure".into()))?;
        let (reflections, raw_max) =
            simulate_with_scale(&structure, &options).map_err(|e| fail(e.to_string()))?;
        let mut cell_mass = 0.0;
        for site in &structure.sites {
            cell_mass += atomic_weight(site.element.z())
                .ok_or_else(|| fail(format!("no atomic weight for {}", site.element.symbol())))?
                * site.occupancy;
        }
        let zmv = cell_mass * structure.lattice.volume();
        if reflections.is_empty() || !(zmv > 0.0 && raw_max > 0.0) {
            continue;
        }
        phases.push(Rendered {
            reflections,
            lattice: structure.lattice,
            sample: SampleEffects {
                // The 0–100 sticks back to absolute |F|²·LP, times w / (Z·M·V).
                scale: p.weight_fraction * raw_max / 100.0 / zmv,
                crystallite_size_nm: Some(p.crystallite_nm.max(1.0)),
                preferred_orientation: detector.preferred_orientation,
                displacement_mm,
                ..SampleEffects::default()
            },
        });
    }
    let views: Vec<Phase<'_>> = phases
        .iter()
        .map(|r| Phase::new(&r.reflections, &r.lattice, &r.sample))
        .collect();
    let clean = render_phases(&views, profile, &Measurement::default(), &grid)
        .map_err(|e| MeasureError::Render(e.to_string()))?;
    let max = clean.intensity().iter().copied().fold(0.0, f64::max);
    let counts_per_unit = if max > 0.0 {
        detector.peak_counts_per_s * scan.time_per_step_s / max
    } else {
        0.0
    };
    let background = detector.background_counts_per_s * scan.time_per_step_s;
    let expected: Vec<f64> = clean
        .intensity()
        .iter()
        .map(|v| v * counts_per_unit + background)
        .collect();
    let noise_seed: u64 = rand::Rng::gen(&mut rng);
    let (counts, sigma) = counting_noise(&expected, noise_seed);
    let mut meta = clean.meta().clone();
    meta.notes.push(format!(
        "simulated lab: {:.1} s per step, displacement {displacement_mm:.4} mm, noise seed {noise_seed}",
        scan.time_per_step_s
    ));
    Pattern::new(grid, counts, Some(sigma))
        .map(|p| p.with_meta(meta))
        .map_err(|e| MeasureError::Render(e.to_string()))
}
