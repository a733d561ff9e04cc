//! The world file as written (`config/worlds/*.toml`): serde shapes only, unknown keys refused.
//! `build/` turns a [`WorldSpec`] into a validated [`super::World`].

use std::collections::BTreeMap;

use athanor_xrd::Lattice;
use serde::Deserialize;

/// A whole world file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorldSpec {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Phases a sample may start from (keys of `phases`).
    #[serde(default)]
    pub precursors: Vec<String>,
    #[serde(default)]
    pub kinetics: KineticsSpec,
    #[serde(default)]
    pub growth: GrowthSpec,
    #[serde(default)]
    pub noise: NoiseSpec,
    /// Gas species by name, with their formula.
    #[serde(default)]
    pub gases: BTreeMap<String, String>,
    /// Atmospheres by name: partial pressure (atm) of each gas.
    #[serde(default)]
    pub atmospheres: BTreeMap<String, BTreeMap<String, f64>>,
    pub phases: BTreeMap<String, PhaseSpec>,
    #[serde(default)]
    pub reactions: Vec<ReactionSpec>,
    #[serde(default)]
    pub volatility: Vec<VolatilitySpec>,
    pub film: Option<FilmSpec>,
    pub goal: GoalSpec,
    pub search_space: SearchSpaceSpec,
}

/// World-wide kinetic settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KineticsSpec {
    /// Bell–Evans–Polanyi slope: a reaction's barrier is its intrinsic activation energy plus
    /// `bep_alpha` times its reaction energy (negative), so a larger driving force reacts faster.
    #[serde(default)]
    pub bep_alpha: f64,
    /// Lowest barrier BEP may bring a reaction to, kJ/mol.
    #[serde(default = "default_min_barrier")]
    pub min_activation_kj_mol: f64,
    /// Longest integration step, seconds.
    #[serde(default = "default_time_step")]
    pub time_step_s: f64,
}

impl Default for KineticsSpec {
    fn default() -> Self {
        Self {
            bep_alpha: 0.0,
            min_activation_kj_mol: default_min_barrier(),
            time_step_s: default_time_step(),
        }
    }
}

fn default_min_barrier() -> f64 {
    20.0
}

fn default_time_step() -> f64 {
    30.0
}

/// Crystallite growth d^n − d0^n = k0 exp(−Q/RT) t; every field optional (world defaults, then
/// built-in defaults).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GrowthSpec {
    pub exponent: Option<f64>,
    pub prefactor_nm_n_per_s: Option<f64>,
    pub activation_kj_mol: Option<f64>,
}

/// Sample-to-sample scatter, drawn from the seed.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NoiseSpec {
    /// Log-normal σ of each reaction's rate, per sample.
    #[serde(default)]
    pub rate_scatter: f64,
    /// Log-normal σ of each phase's crystallite size, per sample.
    #[serde(default)]
    pub size_scatter: f64,
}

/// One phase of the world.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PhaseSpec {
    /// The chemistry the world balances (may differ from the library stand-in's formula).
    pub formula: String,
    /// Library id of the structure the diffractometer simulates, e.g. "YBa2Cu3O7_47".
    pub library: String,
    /// Crystallite size of the powder as a precursor, and of the first nuclei as a product (nm).
    #[serde(default = "default_size")]
    pub size_nm: f64,
    #[serde(default)]
    pub growth: GrowthSpec,
    /// Cell parameters (Å, degrees) that replace the library's (a stand-in with the real
    /// phase's cell); checked to close a cell.
    pub lattice: Option<Lattice>,
    /// Cell parameters by Vegard's law between two end members.
    pub vegard: Option<VegardSpec>,
    /// Free text: why this structure, what it stands in for.
    #[serde(default)]
    pub note: String,
}

fn default_size() -> f64 {
    50.0
}

/// An end member: a library id or explicit parameters.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum EndMemberSpec {
    Library(String),
    Lattice(Lattice),
}

/// Vegard's law between two end members: at a fixed fraction `x` of the way from `from` to
/// `to`, or (a film's solid solution) following the phase's metal fraction, `from` at
/// `film_x[0]` and `to` at `film_x[1]`. Exactly one of the two.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VegardSpec {
    pub from: EndMemberSpec,
    pub to: EndMemberSpec,
    /// Fraction of `to`.
    pub x: Option<f64>,
    /// The metal fractions (the film's x) at which the cell is `from` and `to`.
    pub film_x: Option<[f64; 2]>,
}

/// A reaction (pairwise, formation, decomposition, oxidation): solids and gases in, out.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReactionSpec {
    #[serde(default)]
    pub name: String,
    /// Phase or gas name → moles per mole of reaction.
    pub reactants: BTreeMap<String, f64>,
    pub products: BTreeMap<String, f64>,
    /// Nothing happens below this temperature.
    pub onset_c: f64,
    /// Nothing happens above this temperature (e.g. oxygen uptake).
    pub max_c: Option<f64>,
    /// Arrhenius prefactor, 1/s.
    pub prefactor_per_s: f64,
    /// Intrinsic activation energy, kJ/mol.
    pub activation_kj_mol: f64,
    /// Reaction energy, meV/atom (negative: downhill).
    pub energy_mev_atom: Option<f64>,
    /// Where the energy comes from.
    #[serde(default)]
    pub source: String,
    /// The product keeps the crystallites of the first solid reactant (oxygen uptake or loss,
    /// a polymorph change) instead of nucleating afresh.
    #[serde(default)]
    pub topotactic: bool,
}

/// A phase that evaporates as a vapour at a rate.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VolatilitySpec {
    pub phase: String,
    /// Gas (declared under `gases`) it leaves as, mole for mole.
    pub vapour: String,
    pub onset_c: f64,
    pub prefactor_per_s: f64,
    pub activation_kj_mol: f64,
}

/// A thin-film world: co-deposition and a phase diagram over composition and anneal.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilmSpec {
    /// The two metals; x is the atomic fraction of the second among them.
    pub metals: [String; 2],
    /// Per metal source: deposition rate per watt (nmol/s/W, relative units suffice).
    pub sources: BTreeMap<String, SourceSpec>,
    pub crystallisation: CrystallisationSpec,
    pub regions: Vec<RegionSpec>,
}

/// One deposition source.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    pub rate_per_w: f64,
}

/// Crystallisation of the as-deposited amorphous film (JMAK): f = 1 − exp(−(∫k dt)^n).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrystallisationSpec {
    pub onset_c: f64,
    pub prefactor_per_s: f64,
    pub activation_kj_mol: f64,
    pub avrami_n: f64,
}

/// A region of the film phase diagram: composition [lo, hi) × peak anneal temperature [lo, hi).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionSpec {
    pub x: [f64; 2],
    pub temperature_c: [f64; 2],
    /// One phase, or two split by the lever rule on their metal fractions.
    pub phases: Vec<RegionPhaseSpec>,
}

/// A phase of a region: by name (its metal fraction from its formula), or a solid solution
/// whose metal fraction follows the film's within `x` (and saturates at its ends).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum RegionPhaseSpec {
    Name(String),
    SolidSolution { phase: String, x: [f64; 2] },
}

/// The campaign goal a benchmark measures against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoalSpec {
    pub phase: String,
    pub min_weight_fraction: f64,
}

/// The parameters a planner may choose.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSpaceSpec {
    #[serde(default)]
    pub precursor_sets: Vec<PrecursorSetSpec>,
    #[serde(default)]
    pub temperatures_c: Vec<f64>,
    #[serde(default)]
    pub dwell_hours: Vec<f64>,
    #[serde(default)]
    pub atmospheres: Vec<String>,
    #[serde(default = "default_ramp")]
    pub ramp_c_per_min: f64,
    #[serde(default = "default_ramp")]
    pub cool_c_per_min: f64,
    /// Film worlds: allowed power range per source, W.
    #[serde(default)]
    pub source_power_w: BTreeMap<String, [f64; 2]>,
}

fn default_ramp() -> f64 {
    5.0
}

/// A precursor set and the amounts (mol per mol of target) that give the target's metals.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrecursorSetSpec {
    pub amounts: BTreeMap<String, f64>,
}
