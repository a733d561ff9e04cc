//! Typed identifiers: a campaign id can never be passed where an experiment id is meant.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::error::ValidationError;

macro_rules! uuid_id {
    ($(#[$doc:meta] $name:ident),+ $(,)?) => {$(
        #[$doc]
        ///
        /// UUIDv7, so that ids sort by creation time (pagination cursors rely on it).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        #[schema(value_type = String, format = Uuid)]
        pub struct $name(pub Uuid);

        impl $name {
            /// A fresh, time-ordered id.
            pub fn new() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl Default for $name {
            fn default() -> Self {
                Self::new()
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    )+};
}

uuid_id!(
    /// Identifies a campaign.
    CampaignId,
    /// Identifies a hypothesis.
    HypothesisId,
    /// Identifies an experiment.
    ExperimentId,
    /// Identifies a physical sample.
    SampleId,
    /// Identifies one step of an experiment.
    StepId,
    /// Identifies one command sent to an instrument; a replay with the same id is not executed twice.
    CommandId,
    /// Identifies a measurement.
    MeasurementId,
    /// Identifies an analysis.
    AnalysisId,
    /// Identifies an API token.
    TokenId,
);

/// An instrument's id: a short slug chosen by the lab (`furnace-1`, `xrd-a`), used in MQTT topics
/// and config file names, so limited to `[a-z0-9][a-z0-9_-]{0,62}`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, pattern = "^[a-z0-9][a-z0-9_-]{0,62}$")]
pub struct InstrumentId(String);

impl InstrumentId {
    pub fn parse(s: &str) -> Result<Self, ValidationError> {
        let ok_first = s
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        let ok_rest = s
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if ok_first && ok_rest && s.len() <= 63 {
            Ok(Self(s.to_owned()))
        } else {
            Err(ValidationError::new(
                "id",
                "must be 1–63 characters of a-z, 0-9, '-' or '_', starting with a letter or digit",
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for InstrumentId {
    type Error = ValidationError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<InstrumentId> for String {
    fn from(id: InstrumentId) -> String {
        id.0
    }
}

impl std::fmt::Display for InstrumentId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instrument_ids_are_slugs() {
        assert!(InstrumentId::parse("furnace-1").is_ok());
        assert!(InstrumentId::parse("xrd_a").is_ok());
        for bad in ["", "Furnace", "-x", "a/b", "a+b", &"x".repeat(64)] {
            assert!(InstrumentId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn new_ids_sort_by_creation() {
        let a = CampaignId::new();
        let b = CampaignId::new();
        assert!(a < b);
    }
}
