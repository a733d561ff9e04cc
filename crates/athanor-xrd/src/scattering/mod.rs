//! X-ray atomic scattering factors f(s), s = sin θ / λ, from a choice of tables.

mod pymatgen_table;

use serde::{Deserialize, Serialize};

use crate::element::Element;
use crate::simulate::SimulationError;
use pymatgen_table::PYMATGEN_COEFFICIENTS;

/// Which table of atomic scattering factors to use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum ScatteringTable {
    /// pymatgen's coefficients and formula, f = Z − 41.78214 s² Σᵢ aᵢ exp(−bᵢ s²), for patterns
    /// that agree with pymatgen's XRDCalculator. Neutral atoms, no anomalous dispersion.
    #[default]
    Pymatgen,
}

impl ScatteringTable {
    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            ScatteringTable::Pymatgen => "pymatgen",
        }
    }

    /// Every table, for listing.
    pub const ALL: [ScatteringTable; 1] = [ScatteringTable::Pymatgen];

    /// Parses a table name as [`ScatteringTable::name`] writes it.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.name().eq_ignore_ascii_case(name))
    }

    /// The scattering factor of an element from this table.
    pub fn form_factor(self, element: Element) -> Result<FormFactor, SimulationError> {
        match self {
            ScatteringTable::Pymatgen => PYMATGEN_COEFFICIENTS
                .iter()
                .find(|(z, _)| *z == element.z())
                .map(|(_, c)| FormFactor::Pymatgen {
                    z: f64::from(element.z()),
                    coefficients: *c,
                })
                .ok_or(SimulationError::NoScatteringFactor {
                    element: element.symbol(),
                    table: self.name(),
                }),
        }
    }
}

/// The scattering factor of one element, ready to evaluate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum FormFactor {
    Pymatgen { z: f64, coefficients: [[f64; 2]; 4] },
}

impl FormFactor {
    /// f at s² = (sin θ / λ)² in Å⁻² (real part; the dispersion terms are separate).
    pub fn f0(&self, s2: f64) -> f64 {
        match self {
            FormFactor::Pymatgen { z, coefficients } => {
                let sum: f64 = coefficients.iter().map(|[a, b]| a * (-b * s2).exp()).sum();
                z - 41.78214 * s2 * sum
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
            let f = ScatteringTable::Pymatgen.form_factor(el(s)).unwrap();
            assert!((f.f0(0.0) - f64::from(el(s).z())).abs() < 1e-12, "{s}");
        }
    }

    #[test]
    fn pymatgen_coefficients_reproduce_its_formula() {
        // O in pymatgen's table: [[0.455, 23.78], [0.917, 7.622], [0.472, 2.144], [0.138, 0.296]].
        let f = ScatteringTable::Pymatgen.form_factor(el("O")).unwrap();
        let s2: f64 = 0.25 * 0.25;
        let sum = 0.455 * (-23.78 * s2).exp()
            + 0.917 * (-7.622 * s2).exp()
            + 0.472 * (-2.144 * s2).exp()
            + 0.138 * (-0.296 * s2).exp();
        assert!((f.f0(s2) - (8.0 - 41.78214 * s2 * sum)).abs() < 1e-12);
        // f falls with angle.
        assert!(f.f0(0.1) < f.f0(0.01));
    }

    #[test]
    fn elements_beyond_the_table_are_reported() {
        let err = ScatteringTable::Pymatgen.form_factor(el("Og")).unwrap_err();
        assert!(err.to_string().contains("Og"));
    }
}
