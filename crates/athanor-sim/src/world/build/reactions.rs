//! Reactions and volatility: species resolved, elements balanced, windows and barriers.

use std::collections::BTreeMap;

use athanor_xrd::Element;

use super::{celsius, non_negative, positive, Names, Species};
use crate::world::error::WorldError;
use crate::world::kinetics::bep_barrier;
use crate::world::model::{PhaseId, Process};
use crate::world::spec::{KineticsSpec, ReactionSpec, VolatilitySpec};

/// Largest element imbalance a reaction may have (moles per mole of reaction).
const BALANCE_TOLERANCE: f64 = 1e-6;

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

pub(super) fn reaction(
    spec: &ReactionSpec,
    key: &str,
    names: &Names<'_>,
    kinetics: &KineticsSpec,
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

pub(super) fn volatility(
    spec: &VolatilitySpec,
    key: &str,
    names: &Names<'_>,
) -> Result<Process, WorldError> {
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
