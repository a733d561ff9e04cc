//! From a world file to a validated [`World`]: every name resolved, every reaction balanced,
//! every library id found, every number in range; each refusal names its key.

use std::collections::BTreeMap;

use athanor_xrd::{cif, library, Element, Lattice};

use super::error::WorldError;
use super::formula::Formula;
use super::growth::Growth;
use super::kinetics::{bep_barrier, ZERO_CELSIUS};
use super::model::{
    Atmosphere, Crystallisation, Film, FilmVegard, Gas, Goal, Phase, PhaseId, Process, Region,
    SearchSpace, World,
};
use super::spec::{
    EndMemberSpec, FilmSpec, GrowthSpec, PhaseSpec, ReactionSpec, RegionPhaseSpec, SearchSpaceSpec,
    VolatilitySpec, WorldSpec,
};
use super::vegard;

/// Built-in growth law when neither the phase nor the world gives one.
const DEFAULT_GROWTH: Growth = Growth {
    exponent: 3.0,
    prefactor: 1.0e9,
    activation_j_mol: 250e3,
};

/// Largest excess of a metal a precursor set may carry over the goal phase's proportion.
const MAX_EXCESS: f64 = 1.2;

/// Largest element imbalance a reaction may have (moles per mole of reaction).
const BALANCE_TOLERANCE: f64 = 1e-6;

/// Reads and validates a world file.
pub fn from_toml(text: &str) -> Result<World, WorldError> {
    let deserializer = toml::Deserializer::new(text);
    let spec: WorldSpec = serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let key = e.path().to_string();
        WorldError::Parse {
            key: if key == "." { "(file)".into() } else { key },
            message: e.into_inner().message().trim().to_string(),
        }
    })?;
    build(spec)
}

/// Validates a parsed world file.
pub fn build(spec: WorldSpec) -> Result<World, WorldError> {
    if spec.name.trim().is_empty() {
        return Err(WorldError::invalid("name", "must not be empty"));
    }
    let world_growth = growth(&spec.growth, DEFAULT_GROWTH, "growth")?;
    let gases = gases(&spec.gases)?;
    let phases = spec
        .phases
        .iter()
        .map(|(name, p)| phase(name, p, world_growth, &gases))
        .collect::<Result<Vec<_>, _>>()?;
    let names = Names {
        phases: &phases,
        gases: &gases,
    };
    let atmospheres = atmospheres(&spec.atmospheres, &gases)?;
    let precursors = spec
        .precursors
        .iter()
        .enumerate()
        .map(|(i, p)| names.phase(p, &format!("precursors[{i}]")))
        .collect::<Result<Vec<_>, _>>()?;
    let k = &spec.kinetics;
    positive(k.time_step_s, "kinetics.time_step_s")?;
    non_negative(k.bep_alpha, "kinetics.bep_alpha")?;
    non_negative(k.min_activation_kj_mol, "kinetics.min_activation_kj_mol")?;
    let mut processes = Vec::new();
    for (i, r) in spec.reactions.iter().enumerate() {
        processes.push(reaction(r, &format!("reactions[{i}]"), &names, k)?);
    }
    for (i, v) in spec.volatility.iter().enumerate() {
        processes.push(volatility(v, &format!("volatility[{i}]"), &names)?);
    }
    non_negative(spec.noise.rate_scatter, "noise.rate_scatter")?;
    non_negative(spec.noise.size_scatter, "noise.size_scatter")?;
    let film = spec.film.as_ref().map(|f| film(f, &names)).transpose()?;
    let goal_phase = names.phase(&spec.goal.phase, "goal.phase")?;
    let g = spec.goal.min_weight_fraction;
    if !(g > 0.0 && g <= 1.0) {
        return Err(WorldError::invalid(
            "goal.min_weight_fraction",
            format!("{g} is not in (0, 1]"),
        ));
    }
    let goal = Goal {
        phase: goal_phase,
        min_weight_fraction: g,
    };
    let search_space = search_space(
        &spec.search_space,
        &names,
        &precursors,
        &atmospheres,
        film.as_ref(),
        goal_phase,
    )?;
    Ok(World {
        name: spec.name,
        description: spec.description,
        phases,
        gases,
        atmospheres,
        precursors,
        processes,
        time_step_s: k.time_step_s,
        rate_scatter: spec.noise.rate_scatter,
        size_scatter: spec.noise.size_scatter,
        film,
        goal,
        search_space,
    })
}

/// Name lookups with errors that name the key.
struct Names<'a> {
    phases: &'a [Phase],
    gases: &'a [Gas],
}

/// A species of a reaction: a solid phase or a gas.
enum Species {
    Solid(PhaseId),
    Gas(usize),
}

impl Names<'_> {
    fn phase(&self, name: &str, key: &str) -> Result<PhaseId, WorldError> {
        self.phases
            .iter()
            .position(|p| p.name == name)
            .ok_or_else(|| WorldError::invalid(key, format!("no phase '{name}' in `phases`")))
    }

    fn species(&self, name: &str, key: &str) -> Result<Species, WorldError> {
        if let Some(i) = self.phases.iter().position(|p| p.name == name) {
            return Ok(Species::Solid(i));
        }
        if let Some(i) = self.gases.iter().position(|g| g.name == name) {
            return Ok(Species::Gas(i));
        }
        Err(WorldError::invalid(
            key,
            format!("'{name}' is neither a phase nor a gas of this world"),
        ))
    }

    fn formula(&self, s: &Species) -> &Formula {
        match *s {
            Species::Solid(i) => &self.phases[i].formula,
            Species::Gas(i) => &self.gases[i].formula,
        }
    }
}

fn positive(v: f64, key: &str) -> Result<f64, WorldError> {
    if v.is_finite() && v > 0.0 {
        Ok(v)
    } else {
        Err(WorldError::invalid(
            key,
            format!("{v} must be a positive number"),
        ))
    }
}

fn non_negative(v: f64, key: &str) -> Result<f64, WorldError> {
    if v.is_finite() && v >= 0.0 {
        Ok(v)
    } else {
        Err(WorldError::invalid(
            key,
            format!("{v} must not be negative"),
        ))
    }
}

fn celsius(v: f64, key: &str) -> Result<f64, WorldError> {
    if v.is_finite() && v > -ZERO_CELSIUS {
        Ok(v + ZERO_CELSIUS)
    } else {
        Err(WorldError::invalid(
            key,
            format!("{v} °C is not a temperature"),
        ))
    }
}

fn formula(text: &str, key: &str) -> Result<Formula, WorldError> {
    Formula::parse(text).map_err(|e| WorldError::invalid(key, format!("'{text}': {e}")))
}

fn growth(spec: &GrowthSpec, base: Growth, key: &str) -> Result<Growth, WorldError> {
    let g = Growth {
        exponent: spec.exponent.unwrap_or(base.exponent),
        prefactor: spec.prefactor_nm_n_per_s.unwrap_or(base.prefactor),
        activation_j_mol: spec
            .activation_kj_mol
            .map_or(base.activation_j_mol, |q| q * 1e3),
    };
    if !(g.exponent.is_finite() && g.exponent >= 1.0) {
        return Err(WorldError::invalid(
            format!("{key}.exponent"),
            format!("{} must be at least 1", g.exponent),
        ));
    }
    non_negative(g.prefactor, &format!("{key}.prefactor_nm_n_per_s"))?;
    non_negative(g.activation_j_mol, &format!("{key}.activation_kj_mol"))?;
    Ok(g)
}

fn gases(spec: &BTreeMap<String, String>) -> Result<Vec<Gas>, WorldError> {
    spec.iter()
        .map(|(name, f)| {
            Ok(Gas {
                name: name.clone(),
                formula: formula(f, &format!("gases.{name}"))?,
            })
        })
        .collect()
}

fn atmospheres(
    spec: &BTreeMap<String, BTreeMap<String, f64>>,
    gases: &[Gas],
) -> Result<BTreeMap<String, Atmosphere>, WorldError> {
    let mut out = BTreeMap::new();
    for (name, pressures) in spec {
        let mut p = vec![0.0; gases.len()];
        for (gas, value) in pressures {
            let key = format!("atmospheres.{name}.{gas}");
            let i = gases
                .iter()
                .position(|g| &g.name == gas)
                .ok_or_else(|| WorldError::invalid(&key, format!("no gas '{gas}' in `gases`")))?;
            p[i] = non_negative(*value, &key)?;
        }
        out.insert(name.clone(), Atmosphere { pressures: p });
    }
    Ok(out)
}

/// The library structure with this id, read.
fn library_structure(id: &str, key: &str) -> Result<athanor_xrd::Structure, WorldError> {
    let entry = library::find(id).ok_or_else(|| {
        WorldError::invalid(
            key,
            format!("no library entry '{id}' (see `athanor xrd library list`)"),
        )
    })?;
    let mut structures = cif::read_structures(entry.cif)
        .map_err(|e| WorldError::invalid(key, format!("library entry '{id}': {e}")))?;
    if structures.is_empty() {
        return Err(WorldError::invalid(
            key,
            format!("library entry '{id}' holds no structure"),
        ));
    }
    Ok(structures.swap_remove(0))
}

fn lattice(spec: &Lattice, key: &str) -> Result<Lattice, WorldError> {
    Lattice::new(spec.a, spec.b, spec.c, spec.alpha, spec.beta, spec.gamma)
        .map_err(|e| WorldError::invalid(key, e.to_string()))
}

fn end_member(spec: &EndMemberSpec, key: &str) -> Result<Lattice, WorldError> {
    match spec {
        EndMemberSpec::Library(id) => Ok(library_structure(id, key)?.lattice),
        EndMemberSpec::Lattice(l) => lattice(l, key),
    }
}

fn phase(name: &str, spec: &PhaseSpec, base: Growth, gases: &[Gas]) -> Result<Phase, WorldError> {
    let key = format!("phases.{name}");
    if gases.iter().any(|g| g.name == name) {
        return Err(WorldError::invalid(
            &key,
            "a phase and a gas share this name",
        ));
    }
    let f = formula(&spec.formula, &format!("{key}.formula"))?;
    let structure = library_structure(&spec.library, &format!("{key}.library"))?;
    let mut cell = structure.lattice;
    let mut film_vegard = None;
    if let Some(l) = &spec.lattice {
        cell = lattice(l, &format!("{key}.lattice"))?;
    }
    if let Some(v) = &spec.vegard {
        if spec.lattice.is_some() {
            return Err(WorldError::invalid(
                format!("{key}.vegard"),
                "give either `lattice` or `vegard`, not both",
            ));
        }
        let from = end_member(&v.from, &format!("{key}.vegard.from"))?;
        let to = end_member(&v.to, &format!("{key}.vegard.to"))?;
        match (v.x, v.film_x) {
            (Some(x), None) => {
                if !(0.0..=1.0).contains(&x) {
                    return Err(WorldError::invalid(
                        format!("{key}.vegard.x"),
                        format!("{x} is not in [0, 1]"),
                    ));
                }
                cell = vegard::interpolate(&from, &to, x)
                    .map_err(|e| WorldError::invalid(format!("{key}.vegard"), e.to_string()))?;
            }
            (None, Some(r)) => {
                if !(0.0 <= r[0] && r[0] < r[1] && r[1] <= 1.0) {
                    return Err(WorldError::invalid(
                        format!("{key}.vegard.film_x"),
                        "must be [lo, hi] with 0 ≤ lo < hi ≤ 1",
                    ));
                }
                film_vegard = Some(FilmVegard {
                    from,
                    to,
                    film_x: r,
                });
                cell = from;
            }
            _ => {
                return Err(WorldError::invalid(
                    format!("{key}.vegard"),
                    "give exactly one of `x` and `film_x`",
                ))
            }
        }
    }
    Ok(Phase {
        name: name.to_string(),
        formula: f,
        library_id: spec.library.clone(),
        structure,
        lattice: cell,
        size_nm: positive(spec.size_nm, &format!("{key}.size_nm"))?,
        growth: growth(&spec.growth, base, &format!("{key}.growth"))?,
        film_vegard,
        note: spec.note.clone(),
    })
}

/// Side of a reaction, split into solids and gases, each coefficient positive.
type Side = (Vec<(PhaseId, f64)>, Vec<(usize, f64)>);

fn side(
    spec: &BTreeMap<String, f64>,
    key: &str,
    names: &Names<'_>,
    balance: &mut BTreeMap<Element, f64>,
    sign: f64,
) -> Result<Side, WorldError> {
    let (mut solids, mut gases) = (Vec::new(), Vec::new());
    for (name, &nu) in spec {
        let k = format!("{key}.{name}");
        positive(nu, &k)?;
        let s = names.species(name, &k)?;
        for (e, n) in names.formula(&s).amounts() {
            *balance.entry(*e).or_insert(0.0) += sign * nu * n;
        }
        match s {
            Species::Solid(i) => solids.push((i, nu)),
            Species::Gas(i) => gases.push((i, nu)),
        }
    }
    Ok((solids, gases))
}

fn check_balance(balance: &BTreeMap<Element, f64>, key: &str) -> Result<(), WorldError> {
    let off: Vec<String> = balance
        .iter()
        .filter(|(_, d)| d.abs() > BALANCE_TOLERANCE)
        .map(|(e, d)| format!("{} {:+}", e.symbol(), -d))
        .collect();
    if off.is_empty() {
        Ok(())
    } else {
        Err(WorldError::invalid(
            key,
            format!("not balanced: products minus reactants {}", off.join(", ")),
        ))
    }
}

fn temperature_window(
    onset_c: f64,
    max_c: Option<f64>,
    key: &str,
) -> Result<(f64, Option<f64>), WorldError> {
    let onset = celsius(onset_c, &format!("{key}.onset_c"))?;
    let max = max_c
        .map(|m| celsius(m, &format!("{key}.max_c")))
        .transpose()?;
    if max.is_some_and(|m| m <= onset) {
        return Err(WorldError::invalid(
            format!("{key}.max_c"),
            "must lie above onset_c",
        ));
    }
    Ok((onset, max))
}

fn reaction(
    spec: &ReactionSpec,
    key: &str,
    names: &Names<'_>,
    kinetics: &super::spec::KineticsSpec,
) -> Result<Process, WorldError> {
    let mut balance = BTreeMap::new();
    let (solids_in, gases_in) = side(
        &spec.reactants,
        &format!("{key}.reactants"),
        names,
        &mut balance,
        1.0,
    )?;
    let (solids_out, gases_out) = side(
        &spec.products,
        &format!("{key}.products"),
        names,
        &mut balance,
        -1.0,
    )?;
    if solids_in.is_empty() {
        return Err(WorldError::invalid(
            format!("{key}.reactants"),
            "a reaction needs at least one solid reactant",
        ));
    }
    check_balance(&balance, key)?;
    let (onset_k, max_k) = temperature_window(spec.onset_c, spec.max_c, key)?;
    positive(spec.prefactor_per_s, &format!("{key}.prefactor_per_s"))?;
    non_negative(spec.activation_kj_mol, &format!("{key}.activation_kj_mol"))?;
    if let Some(e) = spec.energy_mev_atom {
        if !(e.is_finite() && e < 0.0) {
            return Err(WorldError::invalid(
                format!("{key}.energy_mev_atom"),
                format!("{e}: only downhill reactions (negative energy) run"),
            ));
        }
    }
    let barrier = bep_barrier(
        spec.activation_kj_mol,
        kinetics.bep_alpha,
        spec.energy_mev_atom,
        kinetics.min_activation_kj_mol,
    );
    Ok(Process {
        name: if spec.name.is_empty() {
            key.to_string()
        } else {
            spec.name.clone()
        },
        key: key.to_string(),
        solids_in,
        gases_in,
        solids_out,
        gases_out,
        onset_k,
        max_k,
        prefactor_per_s: spec.prefactor_per_s,
        activation_j_mol: barrier * 1e3,
        energy_mev_atom: spec.energy_mev_atom,
        topotactic: spec.topotactic,
    })
}

fn volatility(spec: &VolatilitySpec, key: &str, names: &Names<'_>) -> Result<Process, WorldError> {
    let phase = names.phase(&spec.phase, &format!("{key}.phase"))?;
    let gas = match names.species(&spec.vapour, &format!("{key}.vapour"))? {
        Species::Gas(g) => g,
        Species::Solid(_) => {
            return Err(WorldError::invalid(
                format!("{key}.vapour"),
                format!("'{}' is a phase, not a gas", spec.vapour),
            ))
        }
    };
    let mut balance = BTreeMap::new();
    for (e, n) in names.phases[phase].formula.amounts() {
        *balance.entry(*e).or_insert(0.0) += n;
    }
    for (e, n) in names.gases[gas].formula.amounts() {
        *balance.entry(*e).or_insert(0.0) -= n;
    }
    check_balance(&balance, key)?;
    let (onset_k, _) = temperature_window(spec.onset_c, None, key)?;
    Ok(Process {
        name: format!("{} evaporates", spec.phase),
        key: key.to_string(),
        solids_in: vec![(phase, 1.0)],
        gases_in: Vec::new(),
        solids_out: Vec::new(),
        gases_out: vec![(gas, 1.0)],
        onset_k,
        max_k: None,
        prefactor_per_s: positive(spec.prefactor_per_s, &format!("{key}.prefactor_per_s"))?,
        activation_j_mol: non_negative(
            spec.activation_kj_mol,
            &format!("{key}.activation_kj_mol"),
        )? * 1e3,
        energy_mev_atom: None,
        topotactic: false,
    })
}

/// Atomic fraction of `metals[1]` among the two metals in `f`, if `f` holds only them (and O).
fn metal_fraction(f: &Formula, metals: [Element; 2]) -> Option<f64> {
    let o = Element::from_symbol("O")?;
    if f.amounts()
        .iter()
        .any(|(e, _)| *e != o && !metals.contains(e))
    {
        return None;
    }
    let (a, b) = (f.amount_of(metals[0]), f.amount_of(metals[1]));
    (a + b > 0.0).then(|| b / (a + b))
}

fn film(spec: &FilmSpec, names: &Names<'_>) -> Result<Film, WorldError> {
    let mut metals = Vec::new();
    for (i, m) in spec.metals.iter().enumerate() {
        metals.push(Element::from_symbol(m).ok_or_else(|| {
            WorldError::invalid(
                format!("film.metals[{i}]"),
                format!("'{m}' is not an element"),
            )
        })?);
    }
    let metals = [metals[0], metals[1]];
    if metals[0] == metals[1] {
        return Err(WorldError::invalid(
            "film.metals",
            "the two metals must differ",
        ));
    }
    for name in spec.sources.keys() {
        if !spec.metals.contains(name) {
            return Err(WorldError::invalid(
                format!("film.sources.{name}"),
                "not one of film.metals",
            ));
        }
    }
    let mut rate_per_w = [0.0; 2];
    for (i, m) in spec.metals.iter().enumerate() {
        let key = format!("film.sources.{m}");
        let s = spec
            .sources
            .get(m)
            .ok_or_else(|| WorldError::invalid(&key, "missing: every metal needs a source"))?;
        rate_per_w[i] = positive(s.rate_per_w, &format!("{key}.rate_per_w"))?;
    }
    let c = &spec.crystallisation;
    let crystallisation = Crystallisation {
        onset_k: celsius(c.onset_c, "film.crystallisation.onset_c")?,
        prefactor_per_s: positive(c.prefactor_per_s, "film.crystallisation.prefactor_per_s")?,
        activation_j_mol: non_negative(
            c.activation_kj_mol,
            "film.crystallisation.activation_kj_mol",
        )? * 1e3,
        avrami_n: positive(c.avrami_n, "film.crystallisation.avrami_n")?,
    };
    let mut regions = Vec::new();
    for (i, r) in spec.regions.iter().enumerate() {
        let key = format!("film.regions[{i}]");
        if !(0.0 <= r.x[0] && r.x[0] < r.x[1] && r.x[1] <= 1.0) {
            return Err(WorldError::invalid(
                format!("{key}.x"),
                "must be [lo, hi] with 0 ≤ lo < hi ≤ 1",
            ));
        }
        let t = r.temperature_c;
        if !(t[0].is_finite() && t[1].is_finite() && t[0] < t[1]) {
            return Err(WorldError::invalid(
                format!("{key}.temperature_c"),
                "must be [lo, hi] with lo < hi",
            ));
        }
        if r.phases.is_empty() || r.phases.len() > 2 {
            return Err(WorldError::invalid(
                format!("{key}.phases"),
                "one phase, or two split by the lever rule",
            ));
        }
        let mut phases = Vec::new();
        for (j, entry) in r.phases.iter().enumerate() {
            let pk = format!("{key}.phases[{j}]");
            let (name, range) = match entry {
                RegionPhaseSpec::Name(n) => (n, None),
                RegionPhaseSpec::SolidSolution { phase, x } => (phase, Some(*x)),
            };
            let id = names.phase(name, &pk)?;
            let x = metal_fraction(&names.phases[id].formula, metals).ok_or_else(|| {
                WorldError::invalid(
                    &pk,
                    format!("'{name}' holds elements other than the film's"),
                )
            })?;
            let range = range.unwrap_or([x, x]);
            if !(0.0 <= range[0] && range[0] <= range[1] && range[1] <= 1.0) {
                return Err(WorldError::invalid(
                    format!("{pk}.x"),
                    "must be [lo, hi] with 0 ≤ lo ≤ hi ≤ 1",
                ));
            }
            phases.push((id, range));
        }
        if let [(_, ra), (_, rb)] = phases[..] {
            if ra[1] >= rb[0] && rb[1] >= ra[0] {
                return Err(WorldError::invalid(
                    format!("{key}.phases"),
                    "two phases whose metal fractions overlap cannot split by the lever rule",
                ));
            }
        }
        regions.push(Region {
            x: r.x,
            temperature_c: t,
            phases,
        });
    }
    check_tiling(&regions, c.onset_c)?;
    Ok(Film {
        metals,
        rate_per_w,
        crystallisation,
        regions,
    })
}

/// Every (x, T) from the crystallisation onset to the top of the regions falls in exactly one
/// region (checked on a fine grid).
fn check_tiling(regions: &[Region], onset_c: f64) -> Result<(), WorldError> {
    let top = regions
        .iter()
        .map(|r| r.temperature_c[1])
        .fold(f64::NEG_INFINITY, f64::max);
    if regions.is_empty() || top <= onset_c {
        return Err(WorldError::invalid(
            "film.regions",
            "need regions above the crystallisation onset",
        ));
    }
    for xi in 0..=200 {
        let x = f64::from(xi) / 200.0;
        let mut t = onset_c;
        while t < top {
            let n = regions.iter().filter(|r| region_holds(r, x, t)).count();
            if n != 1 {
                return Err(WorldError::invalid(
                    "film.regions",
                    format!("x = {x:.3}, {t:.0} °C lies in {n} regions (must be exactly one)"),
                ));
            }
            t += 5.0;
        }
    }
    Ok(())
}

/// Whether (x, T) lies in the region: [lo, hi) on both axes, x = 1 in the region ending at 1.
pub(crate) fn region_holds(r: &Region, x: f64, t_c: f64) -> bool {
    let in_x = (r.x[0] <= x && x < r.x[1]) || (x >= 1.0 && r.x[1] >= 1.0);
    in_x && r.temperature_c[0] <= t_c && t_c < r.temperature_c[1]
}

fn search_space(
    spec: &SearchSpaceSpec,
    names: &Names<'_>,
    precursors: &[PhaseId],
    atmospheres: &BTreeMap<String, Atmosphere>,
    film: Option<&Film>,
    goal: PhaseId,
) -> Result<SearchSpace, WorldError> {
    let mut sets = Vec::new();
    for (i, set) in spec.precursor_sets.iter().enumerate() {
        let key = format!("search_space.precursor_sets[{i}]");
        let mut amounts = Vec::new();
        for (name, &n) in &set.amounts {
            let k = format!("{key}.amounts.{name}");
            let id = names.phase(name, &k)?;
            if !precursors.contains(&id) {
                return Err(WorldError::invalid(
                    &k,
                    format!("'{name}' is not a precursor"),
                ));
            }
            amounts.push((id, positive(n, &k)?));
        }
        check_metals(&amounts, goal, names, &key)?;
        sets.push(amounts);
    }
    for (i, t) in spec.temperatures_c.iter().enumerate() {
        celsius(*t, &format!("search_space.temperatures_c[{i}]"))?;
    }
    for (i, h) in spec.dwell_hours.iter().enumerate() {
        non_negative(*h, &format!("search_space.dwell_hours[{i}]"))?;
    }
    for (i, a) in spec.atmospheres.iter().enumerate() {
        if !atmospheres.contains_key(a) {
            return Err(WorldError::invalid(
                format!("search_space.atmospheres[{i}]"),
                format!("no atmosphere '{a}' in `atmospheres`"),
            ));
        }
    }
    positive(spec.ramp_c_per_min, "search_space.ramp_c_per_min")?;
    positive(spec.cool_c_per_min, "search_space.cool_c_per_min")?;
    let mut powers = Vec::new();
    for (name, range) in &spec.source_power_w {
        let key = format!("search_space.source_power_w.{name}");
        let Some(f) = film else {
            return Err(WorldError::invalid(key, "only a film world has sources"));
        };
        if !f.metals.iter().any(|m| m.symbol() == name) {
            return Err(WorldError::invalid(key, "not one of film.metals"));
        }
        if !(range[0] >= 0.0 && range[0] <= range[1] && range[1].is_finite()) {
            return Err(WorldError::invalid(
                key,
                "must be [lo, hi] with 0 ≤ lo ≤ hi",
            ));
        }
        powers.push((name.clone(), *range));
    }
    Ok(SearchSpace {
        precursor_sets: sets,
        temperatures_c: spec.temperatures_c.clone(),
        dwell_hours: spec.dwell_hours.clone(),
        atmospheres: spec.atmospheres.clone(),
        ramp_c_per_min: spec.ramp_c_per_min,
        cool_c_per_min: spec.cool_c_per_min,
        source_power_w: powers,
    })
}

/// A precursor set must carry the goal phase's metals in its proportions, each between 1 % short
/// and [`MAX_EXCESS`] over (an excess of a volatile metal is common practice); O, C and H may come
/// and go with the atmosphere.
fn check_metals(
    amounts: &[(PhaseId, f64)],
    goal: PhaseId,
    names: &Names<'_>,
    key: &str,
) -> Result<(), WorldError> {
    let volatile = ["O", "C", "H"];
    let target = &names.phases[goal].formula;
    let mut have: BTreeMap<Element, f64> = BTreeMap::new();
    for (id, n) in amounts {
        for (e, m) in names.phases[*id].formula.amounts() {
            *have.entry(*e).or_insert(0.0) += n * m;
        }
    }
    for (e, n) in &have {
        if volatile.contains(&e.symbol()) {
            continue;
        }
        let want = target.amount_of(*e);
        let in_range = want > 0.0 && *n >= 0.99 * want && *n <= MAX_EXCESS * want;
        if !in_range {
            return Err(WorldError::invalid(
                key,
                format!(
                    "gives {n} {} per {} (wants {want}, at most {MAX_EXCESS}×)",
                    e.symbol(),
                    target.text()
                ),
            ));
        }
    }
    for (e, want) in target.amounts() {
        if !volatile.contains(&e.symbol()) && !have.contains_key(e) {
            return Err(WorldError::invalid(
                key,
                format!("lacks {} ({want} per {})", e.symbol(), target.text()),
            ));
        }
    }
    Ok(())
}
