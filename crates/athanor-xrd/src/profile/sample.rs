//! What the specimen adds to a pattern, separate from the instrument: scale, crystallite size
//! (Scherrer) and microstrain broadening, March–Dollase preferred orientation, displacement.

use serde::{Deserialize, Serialize};

use super::error::ProfileError;
use crate::lattice::Lattice;

/// Sample effects of one phase. The default changes nothing: scale 1, no broadening, random
/// orientation, no displacement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SampleEffects {
    /// Multiplies every integrated intensity.
    pub scale: f64,
    /// Mean crystallite size L in nm: Lorentzian FWHM K·λ/(L cosθ) (radians of 2θ).
    pub crystallite_size_nm: Option<f64>,
    /// Scherrer constant K.
    pub scherrer_k: f64,
    /// Microstrain ε (dimensionless, e.g. 1e-3): Lorentzian FWHM 4 ε tanθ (radians of 2θ).
    pub microstrain: f64,
    /// March–Dollase preferred orientation, if any.
    pub preferred_orientation: Option<MarchDollase>,
    /// Specimen displacement s in mm from the focusing circle: Δ2θ = −2 s cosθ / R (radians).
    pub displacement_mm: f64,
}

impl Default for SampleEffects {
    fn default() -> Self {
        Self {
            scale: 1.0,
            crystallite_size_nm: None,
            scherrer_k: 0.9,
            microstrain: 0.0,
            preferred_orientation: None,
            displacement_mm: 0.0,
        }
    }
}

/// March–Dollase texture: P(α) = (r² cos²α + sin²α / r)^(−3/2), α the angle between a plane
/// normal and the preferred-orientation axis. r = 1 is a random powder; r < 1 enhances
/// reflections from planes normal to the axis (platelets), r > 1 suppresses them (needles).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarchDollase {
    /// The axis as a plane normal in Miller-index coordinates (reciprocal lattice), e.g. [0,0,1].
    pub axis: [f64; 3],
    /// The March–Dollase parameter r > 0.
    pub r: f64,
}

impl MarchDollase {
    /// P for a plane normal at angle α (cos α given) to the axis.
    pub fn factor(&self, cos_alpha: f64) -> f64 {
        let c2 = cos_alpha * cos_alpha;
        let s2 = (1.0 - c2).max(0.0);
        (self.r * self.r * c2 + s2 / self.r).powf(-1.5)
    }

    /// The mean of P over `planes` (the symmetry-equivalent planes of one reflection); 1 for
    /// an empty list.
    pub fn mean_factor(&self, lattice: &Lattice, planes: &[[i32; 3]]) -> f64 {
        self.weighted_mean_factor(lattice, planes, &[])
    }

    /// The mean of P over `planes`, each weighted by the matching entry of `weights` (e.g. the
    /// multiplicity of the family a representative stands for); equal weights when `weights`
    /// does not have one entry per plane or sums to zero. 1 for an empty list.
    pub fn weighted_mean_factor(
        &self,
        lattice: &Lattice,
        planes: &[[i32; 3]],
        weights: &[u32],
    ) -> f64 {
        if planes.is_empty() {
            return 1.0;
        }
        let use_weights = weights.len() == planes.len() && weights.iter().any(|&w| w > 0);
        let mut sum = 0.0;
        let mut total = 0.0;
        for (i, h) in planes.iter().enumerate() {
            let w = if use_weights {
                f64::from(weights[i])
            } else {
                1.0
            };
            let cos = lattice.cos_angle_between_normals(h.map(f64::from), self.axis);
            sum += w * self.factor(cos);
            total += w;
        }
        sum / total
    }
}

impl SampleEffects {
    /// Checks ranges: scale finite and ≥ 0, size > 0, K > 0, strain finite and ≥ 0, finite
    /// displacement, texture axis not zero and r > 0.
    pub fn validate(&self) -> Result<(), ProfileError> {
        let bad = |name, value, expected| {
            Err(ProfileError::BadParameter {
                name,
                value,
                expected,
            })
        };
        if !(self.scale.is_finite() && self.scale >= 0.0) {
            return bad("scale", self.scale, "must be a finite number ≥ 0");
        }
        if let Some(size) = self.crystallite_size_nm {
            if !(size.is_finite() && size > 0.0) {
                return bad("crystallite_size_nm", size, "must be a positive length");
            }
        }
        if !(self.scherrer_k.is_finite() && self.scherrer_k > 0.0) {
            return bad("scherrer_k", self.scherrer_k, "must be positive");
        }
        if !(self.microstrain.is_finite() && self.microstrain >= 0.0) {
            return bad(
                "microstrain",
                self.microstrain,
                "must be a finite number ≥ 0",
            );
        }
        if !self.displacement_mm.is_finite() {
            return bad("displacement_mm", self.displacement_mm, "must be finite");
        }
        if let Some(po) = &self.preferred_orientation {
            if !(po.r.is_finite() && po.r > 0.0) {
                return bad("preferred_orientation.r", po.r, "must be positive");
            }
            let norm2: f64 = po.axis.iter().map(|a| a * a).sum();
            if !(norm2.is_finite() && norm2 > 0.0) {
                return bad(
                    "preferred_orientation.axis",
                    norm2.sqrt(),
                    "must be a finite, non-zero direction",
                );
            }
        }
        Ok(())
    }

    /// Lorentzian FWHM in degrees 2θ from size and strain at Bragg angle θ (radians) for
    /// wavelength λ (Å).
    pub fn lorentzian_fwhm_deg(&self, theta: f64, wavelength: f64) -> f64 {
        let size = self
            .crystallite_size_nm
            .map(|l| self.scherrer_k * wavelength / (10.0 * l * theta.cos()))
            .unwrap_or(0.0);
        let strain = 4.0 * self.microstrain * theta.tan();
        (size + strain).to_degrees()
    }

    /// Peak shift in degrees 2θ from specimen displacement at Bragg angle θ (radians).
    pub fn displacement_shift_deg(&self, theta: f64, goniometer_radius_mm: f64) -> f64 {
        (-2.0 * self.displacement_mm * theta.cos() / goniometer_radius_mm).to_degrees()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn march_dollase_closed_forms() {
        let md = MarchDollase {
            axis: [0.0, 0.0, 1.0],
            r: 0.7,
        };
        // Along the axis P = r^-3, perpendicular P = r^(3/2).
        assert!((md.factor(1.0) - 0.7f64.powi(-3)).abs() < 1e-12);
        assert!((md.factor(0.0) - 0.7f64.powf(1.5)).abs() < 1e-12);
        let random = MarchDollase { r: 1.0, ..md };
        for c in [0.0, 0.3, 0.9, 1.0] {
            assert!((random.factor(c) - 1.0).abs() < 1e-15);
        }
    }

    #[test]
    fn march_dollase_is_normalised_over_the_sphere() {
        // ∫₀¹ P(cos α) d(cos α) = 1 for any r: texture redistributes, it does not add intensity.
        for r in [0.5, 0.8, 1.3, 2.0] {
            let md = MarchDollase {
                axis: [0.0, 0.0, 1.0],
                r,
            };
            let n = 200_000;
            let h = 1.0 / n as f64;
            let integral: f64 = (0..n).map(|i| md.factor((i as f64 + 0.5) * h) * h).sum();
            assert!((integral - 1.0).abs() < 1e-6, "r = {r}: {integral}");
        }
    }

    #[test]
    fn mean_over_planes_uses_the_lattice_angles() {
        let cubic = Lattice::new(4.0, 4.0, 4.0, 90.0, 90.0, 90.0).unwrap();
        let md = MarchDollase {
            axis: [0.0, 0.0, 1.0],
            r: 0.6,
        };
        // {100} family: two planes along the axis, four perpendicular.
        let planes = [
            [1, 0, 0],
            [-1, 0, 0],
            [0, 1, 0],
            [0, -1, 0],
            [0, 0, 1],
            [0, 0, -1],
        ];
        let expected = (2.0 * md.factor(1.0) + 4.0 * md.factor(0.0)) / 6.0;
        assert!((md.mean_factor(&cubic, &planes) - expected).abs() < 1e-12);
        // Representatives of two families weighted by their multiplicities 2 and 4.
        let weighted = md.weighted_mean_factor(&cubic, &[[0, 0, 1], [1, 0, 0]], &[2, 4]);
        assert!((weighted - expected).abs() < 1e-12);
        // Mismatched weights fall back to equal weights.
        let equal = md.weighted_mean_factor(&cubic, &[[0, 0, 1], [1, 0, 0]], &[2]);
        assert!((equal - (md.factor(1.0) + md.factor(0.0)) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn validation_names_the_parameter() {
        let bad = SampleEffects {
            crystallite_size_nm: Some(0.0),
            ..SampleEffects::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(ProfileError::BadParameter {
                name: "crystallite_size_nm",
                ..
            })
        ));
        let bad = SampleEffects {
            preferred_orientation: Some(MarchDollase {
                axis: [0.0; 3],
                r: 1.0,
            }),
            ..SampleEffects::default()
        };
        assert!(bad.validate().is_err());
        assert!(SampleEffects::default().validate().is_ok());
    }
}
