//! Phases: formulas, library structures, cells (override or Vegard), growth laws.

use athanor_xrd::{cif, library, Lattice};

use super::{formula, growth, positive};
use crate::world::error::WorldError;
use crate::world::growth::Growth;
use crate::world::model::{FilmVegard, Gas, Phase};
use crate::world::spec::{EndMemberSpec, PhaseSpec};
use crate::world::vegard;

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

pub(super) fn phase(
    name: &str,
    spec: &PhaseSpec,
    base: Growth,
    gases: &[Gas],
) -> Result<Phase, WorldError> {
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
