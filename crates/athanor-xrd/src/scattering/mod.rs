//! X-ray atomic scattering factors f(s) = f0(s) + f′ + i f″, s = sin θ / λ, from a choice of
//! tables: Waasmaier–Kirfel (atoms and ions) with Chantler's anomalous dispersion, the default;
//! or pymatgen's, for patterns that agree with pymatgen.

mod pymatgen_table;
mod waasmaier_kirfel_table;

use serde::{Deserialize, Serialize};

use crate::element::Element;
use crate::simulate::SimulationError;
use pymatgen_table::PYMATGEN_COEFFICIENTS;
use waasmaier_kirfel_table::{DISPERSION, DISPERSION_LINES, WAASMAIER_KIRFEL};

/// Which table of atomic scattering factors to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScatteringTable {
    /// Waasmaier & Kirfel (1995) 5-Gaussian + constant fits for neutral atoms and ions (the ion
    /// is used when the site's oxidation state names one), with Chantler's f′, f″ at the named
    /// tube lines.
    #[default]
    WaasmaierKirfel,
    /// pymatgen's coefficients and formula, f = Z − 41.78214 s² Σᵢ aᵢ exp(−bᵢ s²), for patterns
    /// that agree with pymatgen's XRDCalculator. Neutral atoms, no anomalous dispersion.
    Pymatgen,
}

impl ScatteringTable {
    /// Every table, for listing.
    pub const ALL: [ScatteringTable; 2] =
        [ScatteringTable::WaasmaierKirfel, ScatteringTable::Pymatgen];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ScatteringTable::WaasmaierKirfel => "waasmaier-kirfel",
            ScatteringTable::Pymatgen => "pymatgen",
        }
    }

    /// Parses a table name as [`ScatteringTable::name`] writes it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The charge whose form factor this table uses for an atom in this oxidation state: the
    /// ion's when the table has it (integral states only), otherwise the neutral atom's (0).
    pub fn charge_used(self, element: Element, oxidation_state: Option<f64>) -> i8 {
        match (self, oxidation_state) {
            (ScatteringTable::WaasmaierKirfel, Some(q)) if q.fract() == 0.0 && q.abs() <= 8.0 => {
                // Checked: a small whole number.
                let q = q as i8;
                if WAASMAIER_KIRFEL
                    .iter()
                    .any(|(z, c, ..)| *z == element.z() && *c == q)
                {
                    q
                } else {
                    0
                }
            }
            _ => 0,
        }
    }

    /// The scattering factor of an atom (`charge` 0) or ion from this table, without dispersion.
    pub fn form_factor(self, element: Element, charge: i8) -> Result<FormFactor, SimulationError> {
        let missing = SimulationError::NoScatteringFactor {
            element: element.symbol(),
            table: self.name(),
        };
        match self {
            ScatteringTable::Pymatgen => PYMATGEN_COEFFICIENTS
                .iter()
                .find(|(z, _)| *z == element.z())
                .map(|(_, c)| FormFactor::Pymatgen {
                    z: f64::from(element.z()),
                    coefficients: *c,
                })
                .ok_or(missing),
            ScatteringTable::WaasmaierKirfel => WAASMAIER_KIRFEL
                .iter()
                .find(|(z, q, ..)| *z == element.z() && *q == charge)
                .map(|(_, _, a, b, c)| FormFactor::WaasmaierKirfel {
                    a: *a,
                    b: *b,
                    c: *c,
                })
                .ok_or(missing),
        }
    }

    /// Anomalous-dispersion terms (f′, f″) of an element at a wavelength in Å. Tabulated for
    /// the named tube lines (Cu, Mo, Cr, Fe, Co, Ag: Kα, Kα1, Kα2, Kβ1) and Z ≤ 92; (0, 0) for
    /// any other wavelength or element, and always for the pymatgen table.
    pub fn dispersion(self, element: Element, wavelength: f64) -> (f64, f64) {
        if self == ScatteringTable::Pymatgen {
            return (0.0, 0.0);
        }
        let Some(column) = DISPERSION_LINES
            .iter()
            .position(|(_, l)| (l - wavelength).abs() <= 1e-6)
        else {
            return (0.0, 0.0);
        };
        DISPERSION
            .get(usize::from(element.z()) - 1)
            .map_or((0.0, 0.0), |row| (row[column][0], row[column][1]))
    }

    /// Whether f′, f″ are tabulated at this wavelength.
    pub fn has_dispersion_at(self, wavelength: f64) -> bool {
        self != ScatteringTable::Pymatgen
            && DISPERSION_LINES
                .iter()
                .any(|(_, l)| (l - wavelength).abs() <= 1e-6)
    }
}

/// The normal scattering factor f0 of one atom or ion, ready to evaluate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FormFactor {
    Pymatgen { z: f64, coefficients: [[f64; 2]; 4] },
    WaasmaierKirfel { a: [f64; 5], b: [f64; 5], c: f64 },
}

impl FormFactor {
    /// f0 at s² = (sin θ / λ)² in Å⁻².
    pub fn f0(&self, s2: f64) -> f64 {
        match self {
            FormFactor::Pymatgen { z, coefficients } => {
                let sum: f64 = coefficients.iter().map(|[a, b]| a * (-b * s2).exp()).sum();
                z - 41.78214 * s2 * sum
            }
            FormFactor::WaasmaierKirfel { a, b, c } => {
                c + a
                    .iter()
                    .zip(b)
                    .map(|(a, b)| a * (-b * s2).exp())
                    .sum::<f64>()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn el(s: &str) -> Element {
        Element::from_symbol(s).unwrap()
    }

    #[test]
    fn forward_scattering_equals_the_electron_count() {
        for s in ["H", "O", "Si", "Mn", "Ba", "U"] {
            let z = f64::from(el(s).z());
            let f = ScatteringTable::Pymatgen.form_factor(el(s), 0).unwrap();
            assert!((f.f0(0.0) - z).abs() < 1e-12, "{s}");
            // The Waasmaier–Kirfel fits reproduce Z at s = 0 to about 0.01 electron.
            let f = ScatteringTable::WaasmaierKirfel
                .form_factor(el(s), 0)
                .unwrap();
            assert!((f.f0(0.0) - z).abs() < 0.02, "{s}: {}", f.f0(0.0));
        }
        // Ions: Mn3+ has 22 electrons, O2- 10.
        let mn3 = ScatteringTable::WaasmaierKirfel
            .form_factor(el("Mn"), 3)
            .unwrap();
        assert!((mn3.f0(0.0) - 22.0).abs() < 0.02);
        let o2 = ScatteringTable::WaasmaierKirfel
            .form_factor(el("O"), -2)
            .unwrap();
        assert!((o2.f0(0.0) - 10.0).abs() < 0.05);
    }

    #[test]
    fn pymatgen_coefficients_reproduce_its_formula() {
        // O in pymatgen's table: [[0.455, 23.78], [0.917, 7.622], [0.472, 2.144], [0.138, 0.296]].
        let f = ScatteringTable::Pymatgen.form_factor(el("O"), 0).unwrap();
        let s2: f64 = 0.25 * 0.25;
        let sum = 0.455 * (-23.78 * s2).exp()
            + 0.917 * (-7.622 * s2).exp()
            + 0.472 * (-2.144 * s2).exp()
            + 0.138 * (-0.296 * s2).exp();
        assert!((f.f0(s2) - (8.0 - 41.78214 * s2 * sum)).abs() < 1e-12);
        assert!(f.f0(0.1) < f.f0(0.01));
    }

    #[test]
    fn waasmaier_kirfel_matches_xraydb() {
        // xraydb 4.5.8 `f0('O', q)` at q = 0.25, 0.5, 1.0 Å⁻¹ and `f0('Mn3+', 0.5)`.
        let o = ScatteringTable::WaasmaierKirfel
            .form_factor(el("O"), 0)
            .unwrap();
        for (s, expect) in [
            (0.25, 4.808134535638467),
            (0.5, 2.337907345110727),
            (1.0, 1.377020199273148),
        ] {
            assert!((o.f0(s * s) - expect).abs() < 1e-9, "O at {s}");
        }
        let mn3 = ScatteringTable::WaasmaierKirfel
            .form_factor(el("Mn"), 3)
            .unwrap();
        assert!((mn3.f0(0.25) - 10.826730246516485).abs() < 1e-9);
    }

    #[test]
    fn anomalous_dispersion_at_tube_lines() {
        let wk = ScatteringTable::WaasmaierKirfel;
        // Chantler (via xraydb) at Cu Kα1: Cu f′ = −1.9935, f″ = 0.5828; International Tables
        // C, Table 4.2.6.8, list −2.019 and 0.589.
        let (f1, f2) = wk.dispersion(el("Cu"), 1.54056);
        assert!(
            (f1 + 1.9935).abs() < 1e-3 && (f2 - 0.5828).abs() < 1e-3,
            "{f1} {f2}"
        );
        // Fe fluoresces under Cu Kα: large f″ (ITC: 3.204).
        let (_, f2) = wk.dispersion(el("Fe"), 1.54184);
        assert!((f2 - 3.18).abs() < 0.05, "{f2}");
        assert_eq!(wk.dispersion(el("Cu"), 1.5), (0.0, 0.0));
        assert_eq!(
            ScatteringTable::Pymatgen.dispersion(el("Cu"), 1.54056),
            (0.0, 0.0)
        );
        assert!(wk.has_dispersion_at(0.70930));
    }

    #[test]
    fn ions_are_used_only_when_tabulated() {
        let wk = ScatteringTable::WaasmaierKirfel;
        assert_eq!(wk.charge_used(el("Mn"), Some(3.0)), 3);
        assert_eq!(wk.charge_used(el("O"), Some(-2.0)), -2);
        assert_eq!(wk.charge_used(el("Fe"), Some(2.5)), 0);
        assert_eq!(wk.charge_used(el("Mn"), Some(7.0)), 0);
        assert_eq!(
            ScatteringTable::Pymatgen.charge_used(el("Mn"), Some(3.0)),
            0
        );
    }

    #[test]
    fn elements_beyond_the_tables_are_reported() {
        let err = ScatteringTable::Pymatgen
            .form_factor(el("Og"), 0)
            .unwrap_err();
        assert!(err.to_string().contains("Og"));
        assert!(ScatteringTable::WaasmaierKirfel
            .form_factor(el("Es"), 0)
            .is_err());
    }
}
