//! Phase identification and quantification: which crystalline phases explain a measured powder
//! pattern, in what weight fractions, with what lattices and crystallite sizes, and how sure.
//!
//! Stages: background (SNIP) and amorphous humps → peak finding → screening of precomputed stick
//! patterns, tolerant to a few percent of lattice strain → whole-pattern fits of candidate
//! combinations (NNLS scales, Levenberg–Marquardt lattices, zero shift, widths, size) → a greedy
//! search with several trials per step that stops when the residual holds no peak above the
//! noise → pruning, alternatives, weight fractions (Z·M·V) and confidences.

mod analysis;
mod background;
mod candidate;
mod confidence;
mod error;
mod fit;
mod linalg;
mod masses;
mod metric;
mod model;
mod peaks;
mod plot;
mod quant;
mod report;
mod screen;
mod search;

pub use background::AmorphousHump;
pub use candidate::{Candidate, CandidateLibrary, LibrarySettings};
pub use error::IdentifyError;
pub use masses::atomic_weight;
pub use peaks::Peak;
pub use plot::to_svg;
pub use report::{Alternative, Analysis, Curves, InstrumentReport, LatticeReport, PhaseReport};

use crate::element::Element;
use crate::pattern::Pattern;
use crate::profile::InstrumentProfile;

/// How to identify.
#[derive(Debug, Clone, PartialEq)]
pub struct IdentifyOptions {
    /// Only candidates made of these elements (all of a candidate's elements must be listed).
    pub elements: Option<Vec<Element>>,
    /// At most this many phases (the limit is 6).
    pub max_phases: usize,
    /// Alternatives to report.
    pub alternatives: usize,
    /// A known instrument profile (U, V, W fixed, zero shift refined). Without it the widths are
    /// estimated from the pattern and refined.
    pub instrument: Option<InstrumentProfile>,
    /// Candidates fitted at each step of the search.
    pub trials_per_step: usize,
    /// Levenberg–Marquardt iterations of each trial fit.
    pub search_iterations: usize,
    /// Levenberg–Marquardt iterations of the final fit.
    pub final_iterations: usize,
    /// Chebyshev background-correction terms refined on top of the estimated background.
    pub background_terms: usize,
}

impl Default for IdentifyOptions {
    fn default() -> Self {
        Self {
            elements: None,
            max_phases: 6,
            alternatives: 3,
            instrument: None,
            trials_per_step: 4,
            search_iterations: 8,
            final_iterations: 30,
            background_terms: 4,
        }
    }
}

/// Identifies the phases of `pattern` among the library's candidates.
pub fn identify(
    pattern: &Pattern,
    library: &CandidateLibrary,
    options: &IdentifyOptions,
) -> Result<Analysis, IdentifyError> {
    let allowed = allowed_candidates(library, options)?;
    let prep = search::prepare_pattern(pattern, library, options)?;
    let result = search::search(&prep, library, &allowed, options);
    Ok(analysis::finish(&prep, library, result, options))
}

/// Refines every candidate of `library` against `pattern` (the operator knows what is there):
/// each phase's strain is found by screening, then all are fitted together.
pub fn refine(
    pattern: &Pattern,
    library: &CandidateLibrary,
    options: &IdentifyOptions,
) -> Result<Analysis, IdentifyError> {
    if library.is_empty() {
        return Err(IdentifyError::NoCandidates {
            reason: "no phase was given to refine".into(),
        });
    }
    let prep = search::prepare_pattern(pattern, library, options)?;
    let prepared = library.prepared();
    let target: Vec<f64> = prep
        .data
        .y
        .iter()
        .zip(&prep.data.base)
        .map(|(y, b)| (y - b).max(0.0))
        .collect();
    let all: Vec<usize> = (0..library.len()).collect();
    let hits = screen::screen(
        prep.data.grid(),
        &target,
        &prep.data.w,
        &prep.data.lines,
        prepared,
        &all,
        prep.fwhm,
    );
    let phases = all
        .iter()
        .map(|&i| match hits.iter().find(|h| h.index == i) {
            Some(h) => search::phase_from_hit(prepared, h, prep.fwhm),
            None => search::phase_from_hit(
                prepared,
                &screen::Hit {
                    index: i,
                    strain: 0.0,
                    width_factor: 1.0,
                    gain: 0.0,
                },
                prep.fwhm,
            ),
        })
        .collect();
    let state = fit::FitState {
        inst: prep.initial,
        phases,
        bg: vec![0.0; prep.data.bg_terms.len()],
    };
    let best = search::explain_reported(&prep, prepared, state, options.final_iterations);
    let result = search::SearchResult {
        best,
        runners_up: Vec::new(),
    };
    let refine_options = IdentifyOptions {
        alternatives: 0,
        ..options.clone()
    };
    Ok(analysis::finish_refinement(
        &prep,
        library,
        result,
        &refine_options,
    ))
}

fn allowed_candidates(
    library: &CandidateLibrary,
    options: &IdentifyOptions,
) -> Result<Vec<usize>, IdentifyError> {
    let allowed: Vec<usize> = library
        .prepared()
        .iter()
        .enumerate()
        .filter(|(_, p)| match &options.elements {
            Some(els) => p.elements.iter().all(|e| els.contains(e)),
            None => true,
        })
        .map(|(i, _)| i)
        .collect();
    if allowed.is_empty() {
        return Err(IdentifyError::NoCandidates {
            reason: match &options.elements {
                Some(els) => format!(
                    "no candidate is made only of {}",
                    els.iter()
                        .map(|e| e.symbol())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                None => "the library is empty".into(),
            },
        });
    }
    Ok(allowed)
}
