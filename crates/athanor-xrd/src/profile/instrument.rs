//! A diffractometer's line-profile description (radiation, Caglioti/TCH widths, zero shift,
//! goniometer radius), read from the `[profile]` table of an instrument TOML file.

use serde::{Deserialize, Serialize};

use super::error::ProfileError;

/// The instrument part of a simulated pattern. Widths follow Thompson–Cox–Hastings with all
/// angles in degrees 2θ: Gaussian FWHM² = U tan²θ + V tanθ + W + P/cos²θ (deg²), Lorentzian
/// FWHM = X tanθ + Y/cosθ (deg).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InstrumentProfile {
    /// The instrument's id from the file (top-level `id`), when loaded from one.
    #[serde(skip)]
    pub id: Option<String>,
    /// Kα1 (or monochromatic) wavelength, Å.
    pub wavelength_angstrom: f64,
    /// Kα2 wavelength, Å; absent for monochromatic radiation.
    #[serde(default)]
    pub wavelength_alpha2_angstrom: Option<f64>,
    /// Intensity ratio I(Kα2)/I(Kα1); 0 without Kα2.
    #[serde(default)]
    pub alpha2_ratio: f64,
    /// Caglioti U, deg².
    pub u: f64,
    /// Caglioti V, deg².
    pub v: f64,
    /// Caglioti W, deg².
    pub w: f64,
    /// Scherrer-like Gaussian term P, deg² (multiplies 1/cos²θ).
    #[serde(default)]
    pub p: f64,
    /// Lorentzian X, deg (multiplies tanθ).
    #[serde(default)]
    pub x: f64,
    /// Lorentzian Y, deg (multiplies 1/cosθ).
    #[serde(default)]
    pub y: f64,
    /// Zero shift added to every peak position, degrees 2θ.
    #[serde(default)]
    pub zero_shift_deg: f64,
    /// Goniometer radius R in mm, for the sample-displacement shift.
    #[serde(default = "default_radius")]
    pub goniometer_radius_mm: f64,
}

fn default_radius() -> f64 {
    240.0
}

/// The parts of an instrument file the profile layer reads; every other key is ignored.
#[derive(Debug, Deserialize)]
struct InstrumentFile {
    id: Option<String>,
    class: Option<String>,
    profile: Option<InstrumentProfile>,
}

/// Built-in profiles: the instrument files shipped in `config/instruments/`.
const BUILTINS: [(&str, &str); 3] = [
    (
        "bragg-brentano-cu",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/instruments/bragg-brentano-cu.toml"
        )),
    ),
    (
        "bragg-brentano-mo",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/instruments/bragg-brentano-mo.toml"
        )),
    ),
    (
        "synchrotron-11bm",
        include_str!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/instruments/synchrotron-11bm.toml"
        )),
    ),
];

impl InstrumentProfile {
    /// Reads the `[profile]` table of an instrument file. Top-level `class`, when present, must
    /// be `"diffractometer"`; other tables and keys (transport, limits, …) are ignored.
    pub fn from_toml(text: &str) -> Result<Self, ProfileError> {
        let file: InstrumentFile = toml::from_str(text).map_err(|e| ProfileError::Toml {
            message: e.to_string(),
        })?;
        if let Some(class) = file.class {
            if class != "diffractometer" {
                return Err(ProfileError::NotADiffractometer { class });
            }
        }
        let mut profile = file.profile.ok_or(ProfileError::MissingProfile)?;
        profile.id = file.id;
        profile.validate()?;
        Ok(profile)
    }

    /// The names of the built-in profiles.
    pub fn builtin_names() -> impl Iterator<Item = &'static str> {
        BUILTINS.iter().map(|(name, _)| *name)
    }

    /// A built-in profile by name (see [`InstrumentProfile::builtin_names`]).
    pub fn builtin(name: &str) -> Result<Self, ProfileError> {
        let text = BUILTINS
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, text)| *text)
            .ok_or_else(|| ProfileError::UnknownBuiltin {
                name: name.to_string(),
                known: Self::builtin_names().collect::<Vec<_>>().join(", "),
            })?;
        Self::from_toml(text)
    }

    /// Checks that every parameter is usable: finite numbers, positive wavelengths and radius,
    /// a Kα2 ratio in [0, 1] that is zero unless a Kα2 wavelength is given.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |name, value, expected| {
            Err(ProfileError::BadParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.wavelength_angstrom.is_finite() && self.wavelength_angstrom > 0.0) {
            return bad(
                "wavelength_angstrom",
                self.wavelength_angstrom,
                "must be a positive number of ångström",
            );
        }
        if let Some(l2) = self.wavelength_alpha2_angstrom {
            if !(l2.is_finite() && l2 > 0.0) {
                return bad(
                    "wavelength_alpha2_angstrom",
                    l2,
                    "must be a positive number of ångström",
                );
            }
        }
        if !(0.0..=1.0).contains(&self.alpha2_ratio) {
            return bad("alpha2_ratio", self.alpha2_ratio, "must lie in [0, 1]");
        }
        if self.alpha2_ratio > 0.0 && self.wavelength_alpha2_angstrom.is_none() {
            return bad(
                "alpha2_ratio",
                self.alpha2_ratio,
                "is non-zero but no wavelength_alpha2_angstrom is given",
            );
        }
        for (name, value) in [
            ("u", self.u),
            ("v", self.v),
            ("w", self.w),
            ("p", self.p),
            ("x", self.x),
            ("y", self.y),
            ("zero_shift_deg", self.zero_shift_deg),
        ] {
            if !value.is_finite() {
                return bad(name, value, "must be a finite number");
            }
        }
        if !(self.goniometer_radius_mm.is_finite() && self.goniometer_radius_mm > 0.0) {
            return bad(
                "goniometer_radius_mm",
                self.goniometer_radius_mm,
                "must be a positive number of millimetres",
            );
        }
        Ok(())
    }

    /// The emission lines to render: (wavelength Å, relative intensity).
    pub(crate) fn lines(&self) -> Vec<(f64, f64)> {
        let mut lines = vec![(self.wavelength_angstrom, 1.0)];
        if let Some(l2) = self.wavelength_alpha2_angstrom {
            if self.alpha2_ratio > 0.0 {
                lines.push((l2, self.alpha2_ratio));
            }
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_load_and_validate() {
        for name in InstrumentProfile::builtin_names() {
            let p = InstrumentProfile::builtin(name).unwrap();
            assert_eq!(p.id.as_deref(), Some(name));
        }
        let cu = InstrumentProfile::builtin("bragg-brentano-cu").unwrap();
        assert_eq!(cu.wavelength_angstrom, 1.540562);
        assert_eq!(cu.wavelength_alpha2_angstrom, Some(1.544390));
        assert_eq!(cu.alpha2_ratio, 0.5);
        let sync = InstrumentProfile::builtin("synchrotron-11bm").unwrap();
        assert_eq!(sync.lines().len(), 1);
        assert!(matches!(
            InstrumentProfile::builtin("nope"),
            Err(ProfileError::UnknownBuiltin { .. })
        ));
    }

    #[test]
    fn other_sections_are_ignored_but_profile_keys_are_checked() {
        let text = r#"
            id = "xrd-1"
            class = "diffractometer"
            [transport]
            kind = "mqtt"
            [limits]
            two_theta_max = 150.0
            [profile]
            wavelength_angstrom = 1.5406
            u = 0.0
            v = 0.0
            w = 0.003
        "#;
        let p = InstrumentProfile::from_toml(text).unwrap();
        assert_eq!(p.id.as_deref(), Some("xrd-1"));
        assert_eq!((p.x, p.y, p.p, p.alpha2_ratio), (0.0, 0.0, 0.0, 0.0));
        assert_eq!(p.goniometer_radius_mm, 240.0);

        let typo = text.replace("w = 0.003", "ww = 0.003");
        assert!(matches!(
            InstrumentProfile::from_toml(&typo),
            Err(ProfileError::Toml { .. })
        ));
        let furnace = text.replace("\"diffractometer\"", "\"furnace\"");
        assert!(matches!(
            InstrumentProfile::from_toml(&furnace),
            Err(ProfileError::NotADiffractometer { .. })
        ));
        assert!(matches!(
            InstrumentProfile::from_toml("id = \"a\"\nclass = \"diffractometer\"\n"),
            Err(ProfileError::MissingProfile)
        ));
        let ratio = text.replace("w = 0.003", "w = 0.003\nalpha2_ratio = 0.5");
        assert!(matches!(
            InstrumentProfile::from_toml(&ratio),
            Err(ProfileError::BadParameter {
                name: "alpha2_ratio",
                ..
            })
        ));
        let lambda = text.replace("1.5406", "-1.0");
        assert!(matches!(
            InstrumentProfile::from_toml(&lambda),
            Err(ProfileError::BadParameter {
                name: "wavelength_angstrom",
                ..
            })
        ));
    }
}
