//! The search space of a campaign: the synthesis parameters a planner may choose, with their bounds.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::ValidationError;

/// One parameter a planner chooses. Temperatures are in °C and times in minutes so that every
/// record, limit and API value uses the same units.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum Parameter {
    /// A real number in [low, high], with an optional unit for display.
    Continuous {
        name: String,
        low: f64,
        high: f64,
        #[serde(default)]
        unit: Option<String>,
    },
    /// An integer in [low, high].
    Integer { name: String, low: i64, high: i64 },
    /// One of a list of labels.
    Categorical { name: String, choices: Vec<String> },
    /// A set of `size` precursors chosen from `precursors` (size 0 means any non-empty subset).
    PrecursorSet {
        name: String,
        precursors: Vec<String>,
        #[serde(default)]
        size: usize,
    },
    /// A temperature in °C in [low, high].
    Temperature { name: String, low: f64, high: f64 },
    /// A duration in minutes in [low, high].
    Time { name: String, low: f64, high: f64 },
}

impl Parameter {
    pub fn name(&self) -> &str {
        match self {
            Parameter::Continuous { name, .. }
            | Parameter::Integer { name, .. }
            | Parameter::Categorical { name, .. }
            | Parameter::PrecursorSet { name, .. }
            | Parameter::Temperature { name, .. }
            | Parameter::Time { name, .. } => name,
        }
    }

    fn validate(&self) -> Result<(), ValidationError> {
        validate_name(self.name())?;
        let real_range = |low: f64, high: f64| {
            if !(low.is_finite() && high.is_finite()) {
                Err(ValidationError::new("low", "bounds must be finite numbers"))
            } else if low > high {
                Err(ValidationError::new(
                    "high",
                    format!("must be at least low ({low})"),
                ))
            } else {
                Ok(())
            }
        };
        match self {
            Parameter::Continuous { low, high, .. } => real_range(*low, *high),
            Parameter::Temperature { low, high, .. } => {
                real_range(*low, *high)?;
                if *low < -273.15 {
                    return Err(ValidationError::new("low", "is below absolute zero (°C)"));
                }
                Ok(())
            }
            Parameter::Time { low, high, .. } => {
                real_range(*low, *high)?;
                if *low < 0.0 {
                    return Err(ValidationError::new("low", "a duration cannot be negative"));
                }
                Ok(())
            }
            Parameter::Integer { low, high, .. } if low > high => Err(ValidationError::new(
                "high",
                format!("must be at least low ({low})"),
            )),
            Parameter::Integer { .. } => Ok(()),
            Parameter::Categorical { choices, .. } => non_empty_unique("choices", choices),
            Parameter::PrecursorSet {
                precursors, size, ..
            } => {
                non_empty_unique("precursors", precursors)?;
                if *size > precursors.len() {
                    return Err(ValidationError::new(
                        "size",
                        format!("cannot choose {size} of {} precursors", precursors.len()),
                    ));
                }
                Ok(())
            }
        }
    }
}

/// The whole search space: a non-empty list of uniquely named parameters.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchSpace {
    pub parameters: Vec<Parameter>,
}

impl SearchSpace {
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.parameters.is_empty() {
            return Err(ValidationError::new(
                "parameters",
                "must list at least one parameter",
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, p) in self.parameters.iter().enumerate() {
            p.validate()
                .map_err(|e| e.under(&format!("parameters[{i}]")))?;
            if !seen.insert(p.name()) {
                return Err(ValidationError::new(
                    format!("parameters[{i}].name"),
                    format!("`{}` is used twice", p.name()),
                ));
            }
        }
        Ok(())
    }

    pub fn get(&self, name: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.name() == name)
    }
}

/// Names of parameters, phases and instruments: printable, 1–100 characters, no control characters.
pub fn validate_name(name: &str) -> Result<(), ValidationError> {
    if name.trim().is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        Err(ValidationError::new(
            "name",
            "must be 1–100 printable characters",
        ))
    } else {
        Ok(())
    }
}

fn non_empty_unique(field: &str, items: &[String]) -> Result<(), ValidationError> {
    if items.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, item) in items.iter().enumerate() {
        validate_name(item).map_err(|_| {
            ValidationError::new(
                format!("{field}[{i}]"),
                "must be 1–100 printable characters",
            )
        })?;
        if !seen.insert(item) {
            return Err(ValidationError::new(
                format!("{field}[{i}]"),
                format!("`{item}` is listed twice"),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp(low: f64, high: f64) -> Parameter {
        Parameter::Temperature {
            name: "T".into(),
            low,
            high,
        }
    }

    #[test]
    fn inverted_bounds_name_the_field() {
        let space = SearchSpace {
            parameters: vec![temp(900.0, 600.0)],
        };
        let err = space.validate().unwrap_err();
        assert_eq!(err.field, "parameters[0].high");
    }

    #[test]
    fn duplicate_names_are_rejected() {
        let space = SearchSpace {
            parameters: vec![temp(600.0, 900.0), temp(100.0, 200.0)],
        };
        assert_eq!(space.validate().unwrap_err().field, "parameters[1].name");
    }

    #[test]
    fn precursor_set_size_must_fit() {
        let p = Parameter::PrecursorSet {
            name: "p".into(),
            precursors: vec!["BaCO3".into()],
            size: 2,
        };
        let err = SearchSpace {
            parameters: vec![p],
        }
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "parameters[0].size");
    }

    #[test]
    fn tagged_json_round_trips() {
        let json = r#"{"parameters":[{"type":"temperature","name":"T","low":600,"high":950},
            {"type":"categorical","name":"atmosphere","choices":["air","O2"]}]}"#;
        let space: SearchSpace = serde_json::from_str(json).unwrap();
        space.validate().unwrap();
        assert_eq!(
            space.get("atmosphere").map(Parameter::name),
            Some("atmosphere")
        );
    }
}
