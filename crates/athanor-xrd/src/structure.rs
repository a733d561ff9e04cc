//! Crystal structures: a lattice and the atoms of its full unit cell, with composition helpers
//! (cell contents, reduced formula as pymatgen writes it, formula units per cell).

use serde::{Deserialize, Serialize};

use crate::element::Element;
use crate::lattice::Lattice;

/// One atom (or partially occupied atom) of the unit cell. Disordered positions hold one `Site`
/// per species, each with its own occupancy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Site {
    /// The label of the CIF site it was generated from.
    pub label: String,
    pub element: Element,
    /// Formal oxidation state, when the CIF gives one.
    pub oxidation_state: Option<f64>,
    /// Fractional coordinates in [0, 1].
    pub frac: [f64; 3],
    /// Site occupancy (1 for a fully occupied site).
    pub occupancy: f64,
    /// Isotropic displacement parameter B in Å², when the CIF gives one (Uiso, Biso, or the
    /// equivalent isotropic value of anisotropic Uij/Bij).
    pub b_iso: Option<f64>,
}

/// A space group as the source named it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpaceGroup {
    /// Hermann–Mauguin symbol (e.g. "F d -3 m:2", "P 63 m c").
    pub symbol: Option<String>,
    /// International Tables number.
    pub number: Option<u16>,
}

/// A crystal structure: its lattice and every atom of the unit cell.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Structure {
    /// Name of the source (the CIF data block code).
    pub name: String,
    pub lattice: Lattice,
    pub sites: Vec<Site>,
    pub space_group: SpaceGroup,
    /// Formula units per cell as stated by the source, if it states it.
    pub z_declared: Option<u32>,
}

/// Amount of each element, in order of increasing electronegativity (pymatgen's order).
pub type Composition = Vec<(Element, f64)>;

/// Amounts closer than this to an integer count as that integer (pymatgen's amount tolerance).
const AMOUNT_TOLERANCE: f64 = 1e-8;

impl Structure {
    /// Occupancy-weighted number of atoms of each element in the cell, ordered by Pauling
    /// electronegativity then symbol (elements without one last), as pymatgen orders formulas.
    pub fn cell_composition(&self) -> Composition {
        let mut amounts: Vec<(Element, f64)> = Vec::new();
        for site in &self.sites {
            match amounts.iter_mut().find(|(e, _)| *e == site.element) {
                Some((_, n)) => *n += site.occupancy,
                None => amounts.push((site.element, site.occupancy)),
            }
        }
        amounts.retain(|(_, n)| n.abs() > AMOUNT_TOLERANCE);
        amounts.sort_by(|(a, _), (b, _)| {
            let xa = a.electronegativity().unwrap_or(f64::INFINITY);
            let xb = b.electronegativity().unwrap_or(f64::INFINITY);
            xa.total_cmp(&xb).then_with(|| a.symbol().cmp(b.symbol()))
        });
        amounts
    }

    /// The number of distinct atomic positions (a disordered position counts once).
    pub fn position_count(&self) -> usize {
        let mut seen: Vec<[f64; 3]> = Vec::new();
        for site in &self.sites {
            if !seen
                .iter()
                .any(|p| crate::symmetry::same_position(*p, site.frac, 1e-8))
            {
                seen.push(site.frac);
            }
        }
        seen.len()
    }

    /// Formula units per cell: the greatest common divisor of the integral cell amounts, or the
    /// declared Z when the amounts are not integral.
    pub fn formula_units(&self) -> Option<u32> {
        let comp = nearly_integral(self.cell_composition());
        match integral_amounts(&comp) {
            Some(counts) => {
                let g = counts.iter().copied().reduce(gcd)?;
                // A formula kept unreduced ("Li2O2") holds two of the GCD's units.
                let plain = reduced_integral_formula(&comp);
                let g = if special_formula(&plain).is_some() && g % 2 == 0 {
                    g / 2
                } else {
                    g
                };
                u32::try_from(g).ok()
            }
            None => self.z_declared,
        }
    }

    /// The reduced formula, e.g. "LiMn2O4" for a spinel cell of Li8Mn16O32, written as pymatgen's
    /// `Composition.reduced_formula` writes it (including its polyanion brackets). A cell whose
    /// amounts are not integral is divided by its declared Z when there is one (e.g.
    /// "Li1.333Ti1.667O4"); otherwise the cell amounts are written as they are. Amounts within
    /// 1e-4 (relative) of integers count as integers: three O sites of occupancy 0.33333 make
    /// one O, not 0.99999.
    pub fn reduced_formula(&self) -> String {
        let comp = nearly_integral(self.cell_composition());
        if integral_amounts(&comp).is_some() {
            let formula = reduced_integral_formula(&comp);
            return match special_formula(&formula) {
                Some(special) => special.to_string(),
                None => formula,
            };
        }
        let divisor = self.z_declared.filter(|z| *z > 0).map_or(1.0, f64::from);
        comp.iter()
            .map(|(e, n)| format!("{}{}", e.symbol(), format_amount(n / divisor, false)))
            .collect()
    }
}

/// Formulas pymatgen does not reduce completely (peroxides, diatomic elements): "LiO" is
/// written "Li2O2" (`Composition.special_formulas`).
fn special_formula(formula: &str) -> Option<&'static str> {
    const SPECIAL: [(&str, &str); 11] = [
        ("LiO", "Li2O2"),
        ("NaO", "Na2O2"),
        ("KO", "K2O2"),
        ("HO", "H2O2"),
        ("CsO", "Cs2O2"),
        ("RbO", "Rb2O2"),
        ("O", "O2"),
        ("N", "N2"),
        ("F", "F2"),
        ("Cl", "Cl2"),
        ("H", "H2"),
    ];
    SPECIAL
        .iter()
        .find(|(plain, _)| *plain == formula)
        .map(|(_, special)| *special)
}

/// The composition with amounts rounded to integers when every amount is within 1e-4
/// (relative) of a positive integer; otherwise unchanged.
fn nearly_integral(comp: Composition) -> Composition {
    let close = comp.iter().all(|(_, n)| {
        let r = n.round();
        r >= 1.0 && (n - r).abs() <= 1e-4 * r
    });
    if close {
        comp.into_iter().map(|(e, n)| (e, n.round())).collect()
    } else {
        comp
    }
}

/// The amounts as integers, if all are integral within the amount tolerance.
fn integral_amounts(comp: &Composition) -> Option<Vec<u64>> {
    comp.iter()
        .map(|(_, n)| {
            let r = n.round();
            ((n - r).abs() < AMOUNT_TOLERANCE && (0.0..1e15).contains(&r)).then_some(r as u64)
        })
        .collect()
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// pymatgen's `reduce_formula`: divide by the GCD; when the two most electronegative of three
/// or more elements differ by less than 1.65 in electronegativity they form a polyanion, written
/// in brackets with its own multiplier when that multiplier is not 1.
fn reduced_integral_formula(comp: &Composition) -> String {
    let counts: Vec<(Element, u64)> = comp
        .iter()
        .map(|(e, n)| (*e, n.round() as u64))
        .filter(|(_, n)| *n > 0)
        .collect();
    reduce(&counts).0
}

fn reduce(counts: &[(Element, u64)]) -> (String, u64) {
    let factor = counts
        .iter()
        .map(|(_, n)| *n)
        .reduce(gcd)
        .unwrap_or(1)
        .max(1);
    let mut poly = String::new();
    let mut body = counts;
    if counts.len() >= 3 {
        let (e2, n2) = counts[counts.len() - 2];
        let (e1, n1) = counts[counts.len() - 1];
        let x1 = e1.electronegativity().unwrap_or(f64::NAN);
        let x2 = e2.electronegativity().unwrap_or(f64::NAN);
        if x1 - x2 < 1.65 {
            let (form, poly_factor) = reduce(&[(e2, n2 / factor), (e1, n1 / factor)]);
            if poly_factor != 1 {
                poly = format!("({form}){poly_factor}");
                body = &counts[..counts.len() - 2];
            }
        }
    }
    let mut out = String::new();
    for (e, n) in body {
        out.push_str(e.symbol());
        // Exact: both are integers below 2^53.
        out.push_str(&format_amount((*n / factor) as f64, true));
    }
    out.push_str(&poly);
    (out, factor)
}

/// pymatgen's `formula_double_format`: "" for one (when ones are omitted), an integer when within
/// 1e-8 of one, otherwise the value rounded to 8 decimals.
fn format_amount(x: f64, omit_one: bool) -> String {
    if omit_one && (x - 1.0).abs() <= 1e-8 {
        return String::new();
    }
    let r = x.round();
    if (x - r).abs() <= 1e-8 {
        return format!("{r:.0}");
    }
    let rounded = (x * 1e8).round() / 1e8;
    let s = format!("{rounded:.8}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn structure(contents: &[(&str, usize, f64)], z: Option<u32>) -> Structure {
        let mut sites = Vec::new();
        for (symbol, count, occupancy) in contents {
            for i in 0..*count {
                sites.push(Site {
                    label: (*symbol).to_string(),
                    element: Element::from_symbol(symbol).unwrap(),
                    oxidation_state: None,
                    frac: [i as f64 / 64.0, 0.0, 0.0],
                    occupancy: *occupancy,
                    b_iso: None,
                });
            }
        }
        Structure {
            name: "t".into(),
            lattice: Lattice::new(5.0, 5.0, 5.0, 90.0, 90.0, 90.0).unwrap(),
            sites,
            space_group: SpaceGroup {
                symbol: None,
                number: None,
            },
            z_declared: z,
        }
    }

    #[test]
    fn formulas_reduce_like_pymatgen() {
        let spinel = structure(&[("O", 32, 1.0), ("Mn", 16, 1.0), ("Li", 8, 1.0)], None);
        assert_eq!(spinel.reduced_formula(), "LiMn2O4");
        assert_eq!(spinel.formula_units(), Some(8));
        let olivine = structure(
            &[
                ("Li", 4, 1.0),
                ("Fe", 4, 1.0),
                ("P", 4, 1.0),
                ("O", 16, 1.0),
            ],
            None,
        );
        assert_eq!(olivine.reduced_formula(), "LiFePO4");
        // Expected strings are pymatgen's Composition(...).reduced_formula for the same amounts.
        let nitrate = structure(&[("Ba", 1, 1.0), ("N", 2, 1.0), ("O", 6, 1.0)], None);
        assert_eq!(nitrate.reduced_formula(), "Ba(NO3)2");
        let phosphate = structure(&[("Ca", 3, 1.0), ("P", 2, 1.0), ("O", 8, 1.0)], None);
        assert_eq!(phosphate.reduced_formula(), "Ca3(PO4)2");
        let oxalate = structure(&[("Na", 2, 1.0), ("C", 2, 1.0), ("O", 4, 1.0)], None);
        assert_eq!(oxalate.reduced_formula(), "NaCO2");
        let peroxide = structure(&[("Li", 4, 1.0), ("O", 4, 1.0)], None);
        assert_eq!(peroxide.reduced_formula(), "Li2O2");
        assert_eq!(peroxide.formula_units(), Some(2));
        let y211 = structure(
            &[("Y", 2, 1.0), ("Ba", 1, 1.0), ("Cu", 1, 1.0), ("O", 5, 1.0)],
            None,
        );
        assert_eq!(y211.reduced_formula(), "BaY2CuO5");
    }

    #[test]
    fn partial_occupancy_divides_by_declared_z() {
        let s = structure(&[("Li", 8, 0.3), ("Mn", 16, 1.0), ("O", 32, 1.0)], Some(8));
        assert_eq!(s.reduced_formula(), "Li0.3Mn2O4");
        assert_eq!(s.formula_units(), Some(8));
        // Three split O sites of occupancy 0.33333 per O atom (AMCSD's LiMn2O4).
        let s = structure(&[("Li", 8, 1.0), ("Mn", 16, 1.0), ("O", 96, 0.33333)], None);
        assert_eq!(s.reduced_formula(), "LiMn2O4");
        assert_eq!(s.formula_units(), Some(8));
        let s = structure(&[("Li", 3, 0.5), ("O", 2, 1.0)], None);
        assert_eq!(s.reduced_formula(), "Li1.5O2");
        assert_eq!(s.formula_units(), None);
    }
}
