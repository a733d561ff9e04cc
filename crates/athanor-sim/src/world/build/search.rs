//! The goal's search space: precursor sets that carry the goal's metals, known atmospheres,
//! sources of the film.

use std::collections::BTreeMap;

use athanor_xrd::Element;

use super::{celsius, non_negative, positive, Names};
use crate::world::error::WorldError;
use crate::world::model::{Atmosphere, Film, PhaseId, SearchSpace};
use crate::world::spec::SearchSpaceSpec;

/// Largest excess of a metal a precursor set may carry over the goal phase's proportion.
const MAX_EXCESS: f64 = 1.2;

pub(super) fn search_space(
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
