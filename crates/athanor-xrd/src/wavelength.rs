//! X-ray wavelengths: named tube lines (Cu, Co, Mo, Cr, Fe, Ag; Kα, Kα1, Kα2, Kβ1) or any number
//! in ångström, and the Kα1/Kα2 doublet a profile is drawn with.
//!
//! The line wavelengths are pymatgen's (`pymatgen.analysis.diffraction.xrd.WAVELENGTHS`), so that
//! a pattern named "CuKa" here and there uses the same 1.54184 Å.

use serde::{Deserialize, Serialize};

use crate::simulate::SimulationError;

/// Default Kα2/Kα1 intensity ratio.
pub const DEFAULT_KA2_RATIO: f64 = 0.5;

/// (anode, Kα, Kα2, Kα1, Kβ1) in Å, as in pymatgen.
const LINES: [(&str, f64, f64, f64, f64); 6] = [
    ("Cu", 1.54184, 1.54439, 1.54056, 1.39222),
    ("Mo", 0.71073, 0.71359, 0.70930, 0.63229),
    ("Cr", 2.29100, 2.29361, 2.28970, 2.08487),
    ("Fe", 1.93735, 1.93998, 1.93604, 1.75661),
    ("Co", 1.79026, 1.79285, 1.78896, 1.63079),
    ("Ag", 0.560885, 0.563813, 0.559421, 0.497082),
];

/// Which line of an anode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Line {
    /// The intensity-weighted Kα mean (one wavelength standing for the doublet).
    Ka,
    Ka1,
    Ka2,
    Kb1,
}

/// A radiation: a named tube line or a plain wavelength.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Radiation {
    /// The name as written by [`Radiation::parse`] ("CuKa", "MoKa1") or the number ("1.5406").
    pub name: String,
    /// The single wavelength a stick pattern uses, Å.
    pub wavelength: f64,
    /// For an unresolved Kα: the Kα1 and Kα2 wavelengths, Å.
    pub doublet: Option<(f64, f64)>,
}

impl Radiation {
    /// Reads "CuKa", "CuKa1", "CuKa2", "CuKb1" (also "Cu", "CuKα", any case) or a wavelength in Å
    /// such as "1.5406".
    pub fn parse(text: &str) -> Result<Self, SimulationError> {
        let t = text.trim();
        if let Ok(x) = t.parse::<f64>() {
            return Self::from_wavelength(x);
        }
        let normalized = t.replace('α', "a").replace('β', "b");
        let lower = normalized.to_ascii_lowercase();
        for (anode, ka, ka2, ka1, kb1) in LINES {
            let a = anode.to_ascii_lowercase();
            let Some(rest) = lower.strip_prefix(&a) else {
                continue;
            };
            let (line, wavelength) = match rest {
                "" | "ka" => (Line::Ka, ka),
                "ka1" => (Line::Ka1, ka1),
                "ka2" => (Line::Ka2, ka2),
                "kb" | "kb1" => (Line::Kb1, kb1),
                _ => continue,
            };
            let suffix = match line {
                Line::Ka => "Ka",
                Line::Ka1 => "Ka1",
                Line::Ka2 => "Ka2",
                Line::Kb1 => "Kb1",
            };
            return Ok(Self {
                name: format!("{anode}{suffix}"),
                wavelength,
                doublet: (line == Line::Ka).then_some((ka1, ka2)),
            });
        }
        Err(SimulationError::UnknownRadiation(text.to_string()))
    }

    /// A single wavelength in Å (must be positive and finite).
    pub fn from_wavelength(wavelength: f64) -> Result<Self, SimulationError> {
        if !(wavelength.is_finite() && wavelength > 0.0) {
            return Err(SimulationError::BadWavelength(wavelength));
        }
        Ok(Self {
            name: format!("{wavelength}"),
            wavelength,
            doublet: None,
        })
    }

    /// The lines a profile is drawn with: (wavelength, relative intensity). An unresolved Kα
    /// becomes Kα1 (weight 1) and Kα2 (weight `ka2_ratio`); anything else is one line of weight 1.
    pub fn lines(&self, ka2_ratio: f64) -> Vec<(f64, f64)> {
        match self.doublet {
            Some((ka1, ka2)) if ka2_ratio > 0.0 => vec![(ka1, 1.0), (ka2, ka2_ratio)],
            Some((ka1, _)) => vec![(ka1, 1.0)],
            None => vec![(self.wavelength, 1.0)],
        }
    }

    /// Names of all built-in lines, for help texts.
    pub fn names() -> Vec<String> {
        LINES
            .iter()
            .flat_map(|(a, ..)| ["Ka", "Ka1", "Ka2", "Kb1"].map(|l| format!("{a}{l}")))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn named_lines_use_pymatgens_values() {
        let cu = Radiation::parse("CuKa").unwrap();
        assert_eq!(cu.wavelength, 1.54184);
        assert_eq!(cu.doublet, Some((1.54056, 1.54439)));
        assert_eq!(Radiation::parse("cukα1").unwrap().wavelength, 1.54056);
        assert_eq!(Radiation::parse("MoKa2").unwrap().wavelength, 0.71359);
        assert_eq!(Radiation::parse("Ag").unwrap().wavelength, 0.560885);
        assert_eq!(Radiation::parse("CoKb1").unwrap().name, "CoKb1");
        assert_eq!(Radiation::names().len(), 24);
    }

    #[test]
    fn numbers_are_wavelengths_in_angstrom() {
        let r = Radiation::parse(" 1.5406 ").unwrap();
        assert_eq!(r.wavelength, 1.5406);
        assert_eq!(r.lines(0.5), vec![(1.5406, 1.0)]);
        assert!(Radiation::parse("-1").is_err());
        assert!(Radiation::parse("0").is_err());
        assert!(Radiation::parse("NaN").is_err());
        assert!(Radiation::parse("XyKa").is_err());
        assert!(Radiation::parse("CuKa3").is_err());
    }

    #[test]
    fn doublets_carry_the_ka2_ratio() {
        let cu = Radiation::parse("Cu").unwrap();
        assert_eq!(
            cu.lines(DEFAULT_KA2_RATIO),
            vec![(1.54056, 1.0), (1.54439, 0.5)]
        );
        assert_eq!(cu.lines(0.0), vec![(1.54056, 1.0)]);
    }
}
