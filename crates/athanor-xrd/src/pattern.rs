//! A powder pattern, measured or simulated: 2θ values, intensities, optional standard
//! uncertainties and what is known about how it was recorded. Construction validates.

use serde::{Deserialize, Serialize};

/// Why a set of columns is not a powder pattern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PatternError {
    #[error("a pattern needs at least one point; none were given")]
    Empty,
    #[error("{column} has {found} values but 2θ has {expected}")]
    LengthMismatch {
        column: &'static str,
        expected: usize,
        found: usize,
    },
    #[error("{column} value at point {index} is {value}, not a finite number")]
    NotFinite {
        column: &'static str,
        index: usize,
        value: f64,
    },
    #[error("2θ must increase strictly: point {index} is {value}° after {previous}°")]
    NotIncreasing {
        index: usize,
        previous: f64,
        value: f64,
    },
    #[error("standard uncertainty at point {index} is {value}; it must not be negative")]
    NegativeSigma { index: usize, value: f64 },
    #[error(
        "2θ value {value}° at point {index} lies outside [-180°, 180°]: not an angle in degrees"
    )]
    AngleOutOfRange { index: usize, value: f64 },
    #[error("grid from {start}° to {end}° in steps of {step}° is not a valid 2θ grid: {reason}")]
    BadGrid {
        start: f64,
        end: f64,
        step: f64,
        reason: &'static str,
    },
}

/// What is known about the radiation and the sample, as read from a file or set by a simulation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PatternMeta {
    /// The (Kα1 or monochromatic) wavelength in Å, when known.
    pub wavelength: Option<f64>,
    /// The Kα2 wavelength in Å, when known.
    pub wavelength_alpha2: Option<f64>,
    /// Intensity ratio I(Kα2)/I(Kα1), when known.
    pub alpha2_ratio: Option<f64>,
    /// Sample name or identifier.
    pub sample_name: Option<String>,
    /// Source, instrument and processing notes, one per entry (e.g. "anode: Cu").
    pub notes: Vec<String>,
}

/// A validated powder pattern: 2θ in degrees, strictly increasing, each in [-180°, 180°]; finite
/// intensities; optional non-negative standard uncertainties of the intensities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "PatternData")]
pub struct Pattern {
    two_theta: Vec<f64>,
    intensity: Vec<f64>,
    sigma: Option<Vec<f64>>,
    meta: PatternMeta,
}

/// The unvalidated shape of a [`Pattern`] for deserialisation.
#[derive(Debug, Deserialize)]
struct PatternData {
    two_theta: Vec<f64>,
    intensity: Vec<f64>,
    sigma: Option<Vec<f64>>,
    #[serde(default)]
    meta: PatternMeta,
}

impl TryFrom<PatternData> for Pattern {
    type Error = PatternError;
    fn try_from(data: PatternData) -> Result<Self, Self::Error> {
        Ok(Pattern::new(data.two_theta, data.intensity, data.sigma)?.with_meta(data.meta))
    }
}

impl Pattern {
    /// A pattern from its columns, checked: equal lengths, at least one point, finite values,
    /// 2θ strictly increasing inside [-180°, 180°], uncertainties not negative.
    pub fn new(
        two_theta: Vec<f64>,
        intensity: Vec<f64>,
        sigma: Option<Vec<f64>>,
    ) -> Result<Self, PatternError> {
        if two_theta.is_empty() {
            return Err(PatternError::Empty);
        }
        let n = two_theta.len();
        check_length("intensity", n, intensity.len())?;
        if let Some(s) = &sigma {
            check_length("sigma", n, s.len())?;
        }
        let mut previous = f64::NEG_INFINITY;
        for (index, &value) in two_theta.iter().enumerate() {
            if !value.is_finite() {
                return Err(PatternError::NotFinite {
                    column: "2θ",
                    index,
                    value,
                });
            }
            if !(-180.0..=180.0).contains(&value) {
                return Err(PatternError::AngleOutOfRange { index, value });
            }
            if value <= previous {
                return Err(PatternError::NotIncreasing {
                    index,
                    previous,
                    value,
                });
            }
            previous = value;
        }
        check_finite("intensity", &intensity)?;
        if let Some(s) = &sigma {
            check_finite("sigma", s)?;
            if let Some((index, &value)) = s.iter().enumerate().find(|(_, v)| **v < 0.0) {
                return Err(PatternError::NegativeSigma { index, value });
            }
        }
        Ok(Self {
            two_theta,
            intensity,
            sigma,
            meta: PatternMeta::default(),
        })
    }

    /// The same pattern with this metadata.
    pub fn with_meta(mut self, meta: PatternMeta) -> Self {
        self.meta = meta;
        self
    }

    /// 2θ values in degrees, strictly increasing.
    pub fn two_theta(&self) -> &[f64] {
        &self.two_theta
    }

    /// Intensities, one per 2θ value.
    pub fn intensity(&self) -> &[f64] {
        &self.intensity
    }

    /// Standard uncertainties of the intensities, when known.
    pub fn sigma(&self) -> Option<&[f64]> {
        self.sigma.as_deref()
    }

    pub fn meta(&self) -> &PatternMeta {
        &self.meta
    }

    pub fn meta_mut(&mut self) -> &mut PatternMeta {
        &mut self.meta
    }

    /// Number of points (at least one).
    pub fn len(&self) -> usize {
        self.two_theta.len()
    }

    /// Always false: a pattern has at least one point.
    pub fn is_empty(&self) -> bool {
        self.two_theta.is_empty()
    }

    /// First and last 2θ in degrees.
    pub fn range(&self) -> (f64, f64) {
        let first = self.two_theta.first().copied().unwrap_or(f64::NAN);
        let last = self.two_theta.last().copied().unwrap_or(f64::NAN);
        (first, last)
    }

    /// The common 2θ step when every step equals the mean step within `tolerance` degrees.
    pub fn uniform_step(&self, tolerance: f64) -> Option<f64> {
        if self.len() < 2 {
            return None;
        }
        let (first, last) = self.range();
        let mean = (last - first) / (self.len() - 1) as f64;
        self.two_theta
            .windows(2)
            .all(|w| ((w[1] - w[0]) - mean).abs() <= tolerance)
            .then_some(mean)
    }

    /// The columns and metadata, giving up the validation guarantee.
    pub fn into_parts(self) -> (Vec<f64>, Vec<f64>, Option<Vec<f64>>, PatternMeta) {
        (self.two_theta, self.intensity, self.sigma, self.meta)
    }
}

/// An evenly spaced 2θ grid from `start` to `end` (inclusive, within a hundredth of a step)
/// in steps of `step` degrees. Points are computed as `start + i·step`, so no error accumulates.
pub fn uniform_grid(start: f64, end: f64, step: f64) -> Result<Vec<f64>, PatternError> {
    let bad = |reason| PatternError::BadGrid {
        start,
        end,
        step,
        reason,
    };
    if !(start.is_finite() && end.is_finite() && step.is_finite()) {
        return Err(bad("all three numbers must be finite"));
    }
    if step <= 0.0 {
        return Err(bad("the step must be positive"));
    }
    if !(start > 0.0 && end < 180.0 && end >= start) {
        return Err(bad("need 0 < start <= end < 180"));
    }
    let intervals = ((end - start) / step + 0.01).floor();
    if intervals > 10_000_000.0 {
        return Err(bad("more than ten million points"));
    }
    let n = intervals as usize + 1;
    Ok((0..n).map(|i| start + i as f64 * step).collect())
}

fn check_length(column: &'static str, expected: usize, found: usize) -> Result<(), PatternError> {
    if expected == found {
        Ok(())
    } else {
        Err(PatternError::LengthMismatch {
            column,
            expected,
            found,
        })
    }
}

fn check_finite(column: &'static str, values: &[f64]) -> Result<(), PatternError> {
    match values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        Some((index, &value)) => Err(PatternError::NotFinite {
            column,
            index,
            value,
        }),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_pattern_keeps_its_columns() {
        let p = Pattern::new(vec![10.0, 10.5, 11.0], vec![1.0, -2.0, 3.0], None).unwrap();
        assert_eq!(p.len(), 3);
        assert_eq!(p.range(), (10.0, 11.0));
        assert!((p.uniform_step(1e-9).unwrap() - 0.5).abs() < 1e-12);
        assert_eq!(p.intensity(), &[1.0, -2.0, 3.0]);
        assert!(p.sigma().is_none());
    }

    #[test]
    fn invalid_columns_are_named() {
        assert_eq!(Pattern::new(vec![], vec![], None), Err(PatternError::Empty));
        assert!(matches!(
            Pattern::new(vec![10.0, 11.0], vec![1.0], None),
            Err(PatternError::LengthMismatch {
                column: "intensity",
                expected: 2,
                found: 1
            })
        ));
        assert!(matches!(
            Pattern::new(vec![10.0, 11.0], vec![1.0, 2.0], Some(vec![1.0])),
            Err(PatternError::LengthMismatch {
                column: "sigma",
                ..
            })
        ));
        assert!(matches!(
            Pattern::new(vec![10.0, 10.0], vec![1.0, 2.0], None),
            Err(PatternError::NotIncreasing { index: 1, .. })
        ));
        assert!(matches!(
            Pattern::new(vec![10.0, f64::NAN], vec![1.0, 2.0], None),
            Err(PatternError::NotFinite {
                column: "2θ",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            Pattern::new(vec![10.0, 11.0], vec![1.0, f64::INFINITY], None),
            Err(PatternError::NotFinite {
                column: "intensity",
                index: 1,
                ..
            })
        ));
        assert!(matches!(
            Pattern::new(vec![10.0, 11.0], vec![1.0, 2.0], Some(vec![1.0, -0.5])),
            Err(PatternError::NegativeSigma { index: 1, .. })
        ));
        assert!(matches!(
            Pattern::new(vec![-181.0, 11.0], vec![1.0, 2.0], None),
            Err(PatternError::AngleOutOfRange { index: 0, .. })
        ));
    }

    #[test]
    fn uniform_grid_has_the_expected_points() {
        let g = uniform_grid(10.0, 100.0, 0.01).unwrap();
        assert_eq!(g.len(), 9001);
        assert!((g[9000] - 100.0).abs() < 1e-9);
        assert!((g[4500] - 55.0).abs() < 1e-9);
        assert!(uniform_grid(10.0, 100.0, 0.0).is_err());
        assert!(uniform_grid(100.0, 10.0, 0.1).is_err());
        assert!(uniform_grid(10.0, f64::NAN, 0.1).is_err());
    }

    #[test]
    fn serde_round_trip_validates() {
        let p = Pattern::new(vec![10.0, 11.0], vec![1.0, 2.0], Some(vec![0.5, 0.5])).unwrap();
        let json = serde_json::to_string(&p).unwrap();
        let back: Pattern = serde_json::from_str(&json).unwrap();
        assert_eq!(back, p);
        let bad = r#"{"two_theta":[11.0,10.0],"intensity":[1.0,2.0],"sigma":null}"#;
        assert!(serde_json::from_str::<Pattern>(bad).is_err());
    }
}
