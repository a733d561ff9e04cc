//! The film model: sources, crystallisation, and phase-diagram regions that tile the plane.

use athanor_xrd::Element;

use super::{celsius, non_negative, positive, Names};
use crate::world::error::WorldError;
use crate::world::formula::Formula;
use crate::world::model::{Crystallisation, Film, Region};
use crate::world::spec::{FilmSpec, RegionPhaseSpec};

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

pub(super) fn film(spec: &FilmSpec, names: &Names<'_>) -> Result<Film, WorldError> {
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
