//! What an identification or refinement reports: per phase, the whole-pattern figures, the
//! unexplained peaks, the alternatives; as JSON (serde) or a readable text table. The curves for
//! a plot travel along but are not serialised.

use serde::Serialize;

use super::background::AmorphousHump;
use super::peaks::Peak;

/// Cell parameters (Å, degrees).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LatticeReport {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
}

/// One identified (or refined) phase.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PhaseReport {
    /// The candidate's id (library entry or file stem).
    pub id: String,
    pub name: String,
    pub formula: String,
    pub space_group: String,
    pub weight_fraction: f64,
    pub weight_fraction_sigma: f64,
    pub lattice: LatticeReport,
    /// Standard uncertainties of the lattice parameters.
    pub lattice_sigma: LatticeReport,
    /// Crystallite size from the Lorentzian size broadening (Scherrer, K = 0.9); `None` when the
    /// peaks are no broader than the instrument's.
    pub crystallite_size_nm: Option<f64>,
    /// Between 0 and 1.
    pub confidence: f64,
    /// Refined scale factor (on the 0–100 stick scale).
    pub scale: f64,
    /// Rwp of the best fit without this phase.
    pub rwp_without: Option<f64>,
}

/// Another explanation that was considered.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alternative {
    /// Candidate ids of the phases.
    pub phases: Vec<String>,
    /// Their formulas, same order.
    pub formulas: Vec<String>,
    pub rwp: f64,
    /// Rwp weighed by how far the cells moved from their references (Rwp · (1 + Σ(ε/3 %)²), ε
    /// the volumetric strain): explanations are ranked by it.
    pub penalized_rwp: f64,
    /// The reported explanation's penalised Rwp divided by this one's (1 = as good).
    pub score: f64,
}

/// Refined instrument terms (Gaussian FWHM² = U tan²θ + V tanθ + W, deg²) and zero shift.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct InstrumentReport {
    pub u: f64,
    pub v: f64,
    pub w: f64,
    pub zero_shift_deg: f64,
    /// True when estimated from the pattern (no instrument profile given).
    pub estimated: bool,
}

/// Observed, calculated and per-phase curves with reflection positions, for plots.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Curves {
    pub two_theta: Vec<f64>,
    pub observed: Vec<f64>,
    pub calculated: Vec<f64>,
    pub background: Vec<f64>,
    /// (label, scaled contribution) per phase.
    pub phases: Vec<(String, Vec<f64>)>,
    /// Reflection positions (degrees 2θ, first radiation line) per phase.
    pub ticks: Vec<Vec<f64>>,
}

/// The result of `identify` or `refine`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Analysis {
    pub phases: Vec<PhaseReport>,
    pub rwp: f64,
    /// Goodness of fit χ²/(N − P).
    pub gof: f64,
    /// Peaks the phases leave unexplained (position, height above the fit).
    pub unexplained_peaks: Vec<Peak>,
    pub alternatives: Vec<Alternative>,
    /// Broad humps in the background (amorphous content); they lower every confidence.
    pub amorphous: Vec<AmorphousHump>,
    pub instrument: InstrumentReport,
    /// Wavelength of the first radiation line, Å.
    pub wavelength: f64,
    /// Anything the reader should know (humps, strong unexplained peaks, …).
    pub warnings: Vec<String>,
    #[serde(skip)]
    pub curves: Curves,
}

impl Analysis {
    /// A readable report: a table of phases, then the figures of the fit.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        s.push_str(&format!(
            "{:<22} {:<14} {:<18} {:>14} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>9} {:>5}\n",
            "phase",
            "formula",
            "space group",
            "weight %",
            "a",
            "b",
            "c",
            "alpha",
            "beta",
            "gamma",
            "size nm",
            "conf"
        ));
        for p in &self.phases {
            let size = p
                .crystallite_size_nm
                .map_or("-".to_string(), |v| format!("{v:.0}"));
            s.push_str(&format!(
                "{:<22} {:<14} {:<18} {:>7.1} ± {:<4.1} {:>9.4} {:>9.4} {:>9.4} {:>8.3} {:>8.3} {:>8.3} {:>9} {:>5.2}\n",
                truncate(&p.id, 22),
                truncate(&p.formula, 14),
                truncate(&p.space_group, 18),
                100.0 * p.weight_fraction,
                100.0 * p.weight_fraction_sigma,
                p.lattice.a,
                p.lattice.b,
                p.lattice.c,
                p.lattice.alpha,
                p.lattice.beta,
                p.lattice.gamma,
                size,
                p.confidence
            ));
        }
        if self.phases.is_empty() {
            s.push_str("(no phase identified)\n");
        }
        s.push_str(&format!(
            "\nRwp {:.2} %   GOF {:.2}   zero shift {:+.4}°   λ {:.5} Å\n",
            100.0 * self.rwp,
            self.gof,
            self.instrument.zero_shift_deg,
            self.wavelength
        ));
        if self.unexplained_peaks.is_empty() {
            s.push_str("unexplained peaks: none\n");
        } else {
            s.push_str("unexplained peaks (2θ, height):");
            for p in &self.unexplained_peaks {
                s.push_str(&format!(" {:.2}° ({:.0})", p.two_theta, p.intensity));
            }
            s.push('\n');
        }
        for h in &self.amorphous {
            s.push_str(&format!(
                "amorphous hump at {:.1}° (FWHM {:.1}°, {:.1} % of the signal)\n",
                h.two_theta,
                h.fwhm,
                100.0 * h.area_fraction
            ));
        }
        if !self.alternatives.is_empty() {
            s.push_str("alternatives:\n");
            for a in &self.alternatives {
                s.push_str(&format!(
                    "  {:<50} Rwp {:.2} %  score {:.3}\n",
                    a.phases.join(" + "),
                    100.0 * a.rwp,
                    a.score
                ));
            }
        }
        for w in &self.warnings {
            s.push_str(&format!("warning: {w}\n"));
        }
        s
    }
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n.saturating_sub(1)).chain(['…']).collect()
    }
}
