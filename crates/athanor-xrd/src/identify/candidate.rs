//! Candidate phases and the library of their precomputed stick patterns: built once for a
//! radiation, reused by every identification.

use serde::Serialize;

use super::error::IdentifyError;
use super::masses::atomic_weight;
use super::metric::{v_of, RefinableLattice};
use crate::cif::read_structures;
use crate::element::Element;
use crate::library::LibraryEntry;
use crate::scattering::ScatteringTable;
use crate::simulate::{simulate_with_scale, SimulationOptions};
use crate::structure::Structure;
use crate::wavelength::{Radiation, DEFAULT_KA2_RATIO};

/// Sticks weaker than this (on the 0–100 scale) are left out of the fits.
const MIN_STICK: f64 = 0.02;

/// A phase that may be present.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    /// Identifier, unique within a library (e.g. "MnO_225").
    pub id: String,
    /// Mineral or common name (the formula when none is known).
    pub name: String,
    /// Reduced formula.
    pub formula: String,
    /// Space-group symbol (and number) as known.
    pub space_group: String,
    #[serde(skip)]
    pub structure: Structure,
}

impl Candidate {
    /// A candidate from a structure; name and formula are the reduced formula, the space group
    /// the structure's own.
    pub fn from_structure(id: impl Into<String>, structure: Structure) -> Self {
        let formula = structure.reduced_formula();
        let space_group = describe_space_group(&structure);
        Self {
            id: id.into(),
            name: formula.clone(),
            formula,
            space_group,
            structure,
        }
    }

    /// A candidate from an entry of the built-in library (its manifest's name and space group).
    pub fn from_library_entry(entry: &LibraryEntry) -> Result<Self, IdentifyError> {
        let structure = read_structures(entry.cif)
            .map_err(|e| IdentifyError::Candidate {
                id: entry.id().to_string(),
                reason: e.to_string(),
            })?
            .into_iter()
            .next()
            .ok_or_else(|| IdentifyError::Candidate {
                id: entry.id().to_string(),
                reason: "the CIF holds no structure".into(),
            })?;
        let mut c = Self::from_structure(entry.id(), structure);
        if !entry.name.is_empty() {
            c.name = entry.name.to_string();
        }
        if !entry.space_group.is_empty() {
            c.space_group = match entry.space_group_number {
                Some(n) => format!("{} ({n})", entry.space_group),
                None => entry.space_group.to_string(),
            };
        }
        Ok(c)
    }

    /// Every entry of the built-in library.
    pub fn builtin_library() -> Result<Vec<Self>, IdentifyError> {
        crate::library::entries()
            .iter()
            .map(Self::from_library_entry)
            .collect()
    }

    /// The chemical elements of the candidate.
    pub fn elements(&self) -> Vec<Element> {
        self.structure
            .cell_composition()
            .into_iter()
            .map(|(e, _)| e)
            .collect()
    }
}

fn describe_space_group(s: &Structure) -> String {
    match (&s.space_group.symbol, s.space_group.number) {
        (Some(sym), Some(n)) => format!("{sym} ({n})"),
        (Some(sym), None) => sym.clone(),
        (None, Some(n)) => format!("({n})"),
        (None, None) => "unknown".into(),
    }
}

/// How the library's sticks are computed.
#[derive(Debug, Clone, PartialEq)]
pub struct LibrarySettings {
    pub radiation: Radiation,
    /// Kα2/Kα1 intensity ratio used when the radiation is an unresolved Kα.
    pub ka2_ratio: f64,
    /// Sticks are computed up to this 2θ (degrees, for the first line).
    pub two_theta_max: f64,
    pub table: ScatteringTable,
}

impl LibrarySettings {
    /// Defaults: sticks to 2θ = 140°, the default scattering table, Kα2 ratio 0.5.
    pub fn new(radiation: Radiation) -> Self {
        Self {
            radiation,
            ka2_ratio: DEFAULT_KA2_RATIO,
            two_theta_max: 140.0,
            table: ScatteringTable::default(),
        }
    }

    /// (wavelength, weight) of every line drawn, the first the strongest.
    pub fn lines(&self) -> Vec<(f64, f64)> {
        self.radiation.lines(self.ka2_ratio)
    }
}

/// One reflection as the fits use it.
#[derive(Debug, Clone, Copy)]
pub struct Stick {
    /// v(h) of a representative plane: 1/d² = v·g.
    pub v: [f64; 6],
    /// Intensity on the 0–100 scale of the phase.
    pub intensity: f64,
    /// 1/d² of the unrefined cell.
    pub q0: f64,
}

/// A candidate with everything the engine needs precomputed.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub candidate: Candidate,
    /// Sticks in order of increasing 2θ.
    pub sticks: Vec<Stick>,
    pub lattice: RefinableLattice,
    /// Mass of the cell contents (Z·M), g/mol.
    pub cell_mass: f64,
    /// The unscaled intensity of the strongest stick (I_abs = I · raw_max / 100).
    pub raw_max: f64,
    pub elements: Vec<Element>,
}

/// Candidates with their stick patterns, computed once for one radiation.
#[derive(Debug, Clone)]
pub struct CandidateLibrary {
    settings: LibrarySettings,
    prepared: Vec<Prepared>,
}

impl CandidateLibrary {
    /// Simulates every candidate once. Fails on the first candidate that cannot be simulated,
    /// naming it.
    pub fn build(
        candidates: Vec<Candidate>,
        settings: &LibrarySettings,
    ) -> Result<Self, IdentifyError> {
        let wavelength = settings
            .lines()
            .first()
            .map(|l| l.0)
            .unwrap_or(settings.radiation.wavelength);
        let mut options =
            SimulationOptions::new(wavelength).with_range(0.0, settings.two_theta_max);
        options.table = settings.table;
        let mut prepared = Vec::with_capacity(candidates.len());
        for candidate in candidates {
            prepared.push(prepare(candidate, &options)?);
        }
        Ok(Self {
            settings: settings.clone(),
            prepared,
        })
    }

    /// The built-in reference library.
    pub fn builtin(settings: &LibrarySettings) -> Result<Self, IdentifyError> {
        Self::build(Candidate::builtin_library()?, settings)
    }

    pub fn settings(&self) -> &LibrarySettings {
        &self.settings
    }

    pub fn len(&self) -> usize {
        self.prepared.len()
    }

    pub fn is_empty(&self) -> bool {
        self.prepared.is_empty()
    }

    /// The candidates, in library order.
    pub fn candidates(&self) -> impl Iterator<Item = &Candidate> {
        self.prepared.iter().map(|p| &p.candidate)
    }

    pub(crate) fn prepared(&self) -> &[Prepared] {
        &self.prepared
    }
}

fn prepare(candidate: Candidate, options: &SimulationOptions) -> Result<Prepared, IdentifyError> {
    let fail = |reason: String| IdentifyError::Candidate {
        id: candidate.id.clone(),
        reason,
    };
    let (reflections, raw_max) =
        simulate_with_scale(&candidate.structure, options).map_err(|e| fail(e.to_string()))?;
    if reflections.is_empty() {
        return Err(fail("no reflections in range".into()));
    }
    let lattice = RefinableLattice::new(&candidate.structure.lattice);
    let sticks = reflections
        .iter()
        .filter(|r| r.intensity > MIN_STICK)
        .filter_map(|r| {
            let h = *r.hkls.first()?;
            let v = v_of(h);
            let q0: f64 = v.iter().zip(&lattice.g0).map(|(a, b)| a * b).sum();
            Some(Stick {
                v,
                intensity: r.intensity,
                q0,
            })
        })
        .collect();
    let mut cell_mass = 0.0;
    for site in &candidate.structure.sites {
        let w = atomic_weight(site.element.z())
            .ok_or_else(|| fail(format!("no atomic weight for {}", site.element.symbol())))?;
        cell_mass += w * site.occupancy;
    }
    let elements = candidate.elements();
    Ok(Prepared {
        candidate,
        sticks,
        lattice,
        cell_mass,
        raw_max,
        elements,
    })
}
