//! Roles of API tokens: viewer < operator < admin.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a token may do. Ordered: a higher role may do everything a lower one may.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Reads everything.
    Viewer,
    /// Also changes campaigns, experiments, samples and hypotheses.
    Operator,
    /// Also administers tokens and instruments.
    Admin,
}
crate::states::snake_case_names!(Role { Viewer => "viewer", Operator => "operator", Admin => "admin" });

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_are_ordered() {
        assert!(Role::Viewer < Role::Operator && Role::Operator < Role::Admin);
    }
}
