//! An instrument's hard limits from its config file, and the checks a command passes (against the
//! instrument's limits and, when given, the campaign's) before anything is sent.

use athanor_core::{InstrumentLimits, SafetyLimits};
use serde::{Deserialize, Serialize};

/// Hard limits of one instrument (`[limits]` in its file). A limit that is absent is not checked
/// here; the driver's own physical range (e.g. the controller's set-point range) still applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    pub max_temperature_c: Option<f64>,
    pub min_temperature_c: Option<f64>,
    pub max_ramp_c_per_min: Option<f64>,
    /// Longest program, dwell or run, in minutes.
    pub max_duration_min: Option<f64>,
    pub min_two_theta: Option<f64>,
    pub max_two_theta: Option<f64>,
    pub max_source_power_w: Option<f64>,
    pub max_chamber_pressure_pa: Option<f64>,
    pub max_gas_flow_sccm: Option<f64>,
    pub max_substrate_temperature_c: Option<f64>,
}

/// A command refused because a value passes a limit; names the limit.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} = {value} passes {origin} limit {limit} = {allowed}")]
pub struct LimitViolation {
    /// The limit's name as in the config file (`max_temperature_c`).
    pub limit: &'static str,
    /// Whose limit: `instrument` or `campaign`.
    pub origin: &'static str,
    /// What was asked for (`set point`, `segment 2 target`).
    pub what: String,
    pub value: f64,
    pub allowed: f64,
}

impl Limits {
    /// The subset the store and the API know (`athanor_core::InstrumentLimits`).
    pub fn to_core(&self) -> InstrumentLimits {
        InstrumentLimits {
            max_temperature_c: self.max_temperature_c,
            max_ramp_c_per_min: self.max_ramp_c_per_min,
            min_two_theta: self.min_two_theta,
            max_two_theta: self.max_two_theta,
        }
    }

    /// Checks that each limit given is a finite number and that ranges are ordered.
    pub fn validate(&self) -> Result<(), String> {
        let all = [
            ("max_temperature_c", self.max_temperature_c),
            ("min_temperature_c", self.min_temperature_c),
            ("max_ramp_c_per_min", self.max_ramp_c_per_min),
            ("max_duration_min", self.max_duration_min),
            ("min_two_theta", self.min_two_theta),
            ("max_two_theta", self.max_two_theta),
            ("max_source_power_w", self.max_source_power_w),
            ("max_chamber_pressure_pa", self.max_chamber_pressure_pa),
            ("max_gas_flow_sccm", self.max_gas_flow_sccm),
            (
                "max_substrate_temperature_c",
                self.max_substrate_temperature_c,
            ),
        ];
        for (name, v) in all {
            if let Some(x) = v {
                if !x.is_finite() {
                    return Err(format!("limits.{name} must be a finite number"));
                }
                if name.starts_with("max_") && name != "max_two_theta" && x <= 0.0 {
                    return Err(format!("limits.{name} must be positive"));
                }
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_temperature_c, self.max_temperature_c) {
            if lo >= hi {
                return Err("limits.min_temperature_c must be below max_temperature_c".into());
            }
        }
        if let (Some(lo), Some(hi)) = (self.min_two_theta, self.max_two_theta) {
            if !(0.0 <= lo && lo < hi && hi < 180.0) {
                return Err("2θ limits must satisfy 0 ≤ min < max < 180".into());
            }
        }
        Ok(())
    }
}

/// Collects the checks of one command against the instrument's and the campaign's limits.
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    pub instrument: &'a Limits,
    pub campaign: Option<&'a SafetyLimits>,
}

impl<'a> Checker<'a> {
    pub fn new(instrument: &'a Limits, campaign: Option<&'a SafetyLimits>) -> Self {
        Self {
            instrument,
            campaign,
        }
    }

    fn at_most(
        limit: &'static str,
        origin: &'static str,
        what: &str,
        value: f64,
        allowed: Option<f64>,
    ) -> Result<(), LimitViolation> {
        match allowed {
            Some(a) if value > a => Err(LimitViolation {
                limit,
                origin,
                what: what.to_string(),
                value,
                allowed: a,
            }),
            _ => Ok(()),
        }
    }

    fn finite(what: &str, value: f64) -> Result<(), LimitViolation> {
        if value.is_finite() {
            Ok(())
        } else {
            Err(LimitViolation {
                limit: "finite",
                origin: "instrument",
                what: what.to_string(),
                value,
                allowed: f64::MAX,
            })
        }
    }

    /// A furnace temperature (set point, segment target).
    pub fn temperature(&self, what: &str, celsius: f64) -> Result<(), LimitViolation> {
        Self::finite(what, celsius)?;
        Self::at_most(
            "max_temperature_c",
            "instrument",
            what,
            celsius,
            self.instrument.max_temperature_c,
        )?;
        if let Some(lo) = self.instrument.min_temperature_c {
            if celsius < lo {
                return Err(LimitViolation {
                    limit: "min_temperature_c",
                    origin: "instrument",
                    what: what.to_string(),
                    value: celsius,
                    allowed: lo,
                });
            }
        }
        Self::at_most(
            "max_temperature_c",
            "campaign",
            what,
            celsius,
            self.campaign.map(|c| c.max_temperature_c),
        )
    }

    /// A ramp rate in °C/min (must be positive: a zero rate means "no limit" on a controller).
    pub fn ramp(&self, what: &str, c_per_min: f64) -> Result<(), LimitViolation> {
        Self::finite(what, c_per_min)?;
        if c_per_min <= 0.0 {
            return Err(LimitViolation {
                limit: "ramp_positive",
                origin: "instrument",
                what: what.to_string(),
                value: c_per_min,
                allowed: 0.0,
            });
        }
        Self::at_most(
            "max_ramp_c_per_min",
            "instrument",
            what,
            c_per_min,
            self.instrument.max_ramp_c_per_min,
        )?;
        Self::at_most(
            "max_ramp_c_per_min",
            "campaign",
            what,
            c_per_min,
            self.campaign.map(|c| c.max_ramp_c_per_min),
        )
    }

    /// A duration in minutes.
    pub fn duration(&self, what: &str, minutes: f64) -> Result<(), LimitViolation> {
        Self::finite(what, minutes)?;
        if minutes < 0.0 {
            return Err(LimitViolation {
                limit: "duration_non_negative",
                origin: "instrument",
                what: what.to_string(),
                value: minutes,
                allowed: 0.0,
            });
        }
        Self::at_most(
            "max_duration_min",
            "instrument",
            what,
            minutes,
            self.instrument.max_duration_min,
        )?;
        Self::at_most(
            "max_duration_min",
            "campaign",
            what,
            minutes,
            self.campaign.and_then(|c| c.max_duration_min),
        )
    }

    /// A 2θ angle in degrees.
    pub fn two_theta(&self, what: &str, deg: f64) -> Result<(), LimitViolation> {
        Self::finite(what, deg)?;
        Self::at_most(
            "max_two_theta",
            "instrument",
            what,
            deg,
            self.instrument.max_two_theta,
        )?;
        if let Some(lo) = self.instrument.min_two_theta {
            if deg < lo {
                return Err(LimitViolation {
                    limit: "min_two_theta",
                    origin: "instrument",
                    what: what.to_string(),
                    value: deg,
                    allowed: lo,
                });
            }
        }
        Ok(())
    }

    /// Any other quantity bounded by an instrument limit (`max_source_power_w`, …).
    pub fn at_most_instrument(
        &self,
        limit: &'static str,
        what: &str,
        value: f64,
        allowed: Option<f64>,
    ) -> Result<(), LimitViolation> {
        Self::finite(what, value)?;
        if value < 0.0 {
            return Err(LimitViolation {
                limit: "non_negative",
                origin: "instrument",
                what: what.to_string(),
                value,
                allowed: 0.0,
            });
        }
        Self::at_most(limit, "instrument", what, value, allowed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_the_limit() {
        let l = Limits {
            max_temperature_c: Some(1200.0),
            max_ramp_c_per_min: Some(10.0),
            ..Limits::default()
        };
        let c = Checker::new(&l, None);
        assert!(c.temperature("set point", 1200.0).is_ok());
        let e = c.temperature("set point", 1200.5).unwrap_err();
        assert_eq!(e.limit, "max_temperature_c");
        assert_eq!(e.origin, "instrument");
        assert_eq!(
            c.ramp("ramp", 12.0).unwrap_err().limit,
            "max_ramp_c_per_min"
        );
        assert_eq!(c.temperature("sp", f64::NAN).unwrap_err().limit, "finite");
        assert_eq!(c.ramp("ramp", 0.0).unwrap_err().limit, "ramp_positive");
    }

    #[test]
    fn campaign_limits_apply_too() {
        let l = Limits {
            max_temperature_c: Some(1200.0),
            ..Limits::default()
        };
        let s = SafetyLimits {
            max_temperature_c: 900.0,
            max_ramp_c_per_min: 5.0,
            max_duration_min: Some(60.0),
            allowed_atmospheres: vec![],
        };
        let c = Checker::new(&l, Some(&s));
        let e = c.temperature("set point", 950.0).unwrap_err();
        assert_eq!((e.limit, e.origin), ("max_temperature_c", "campaign"));
        assert_eq!(c.duration("dwell", 61.0).unwrap_err().origin, "campaign");
    }
}
