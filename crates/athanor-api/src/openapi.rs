//! The OpenAPI 3 document, generated from the handlers' annotations.

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes::{
    campaigns, events, experiments, health, hypotheses, instruments, measurements, samples, tokens,
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Athanor API", description = "Operator API of the Athanor self-driving-lab daemon. Every error is an RFC 9457 problem document."),
    paths(
        health::healthz, health::readyz, health::metrics, health::openapi,
        campaigns::create, campaigns::list, campaigns::get, campaigns::pause, campaigns::resume, campaigns::abort,
        experiments::list, experiments::create, experiments::get, experiments::steps, experiments::cancel,
        hypotheses::list, hypotheses::create, hypotheses::get,
        samples::create, samples::list, samples::get,
        instruments::register, instruments::list, instruments::get, instruments::status, instruments::telemetry,
        measurements::list, measurements::get, measurements::list_analyses, measurements::get_analysis,
        events::stream,
        tokens::create, tokens::list, tokens::revoke,
    ),
    components(schemas(crate::problem::Problem, athanor_core::Event)),
    modifiers(&BearerAuth, &MergeClosedAllOf),
    tags(
        (name = "campaigns", description = "Goals, search spaces, budgets and their lifecycle"),
        (name = "experiments", description = "Planned syntheses and their steps"),
        (name = "hypotheses", description = "Falsifiable statements and their beliefs"),
        (name = "samples", description = "Physical samples"),
        (name = "instruments", description = "Lab instruments"),
        (name = "measurements", description = "Raw data and the engine's analyses"),
        (name = "events", description = "The event log as server-sent events"),
        (name = "tokens", description = "API tokens (admin)"),
        (name = "operations", description = "Health, readiness, metrics"),
    )
)]
#[derive(Debug)]
pub struct ApiDoc;

#[derive(Debug)]
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// Rewrites `allOf` compositions that include a closed object (`additionalProperties: false`)
/// into one object schema.
///
/// utoipa renders a `#[serde(flatten)]` field as `allOf: [Inner, {own fields}]`. When `Inner`
/// denies unknown fields (a request type such as `NewCampaign` flattened into the stored
/// `Campaign`), `allOf` makes every answer invalid: the closed member forbids the other
/// members' properties. Merging the members' properties and required lists states what the
/// serialized record really is.
#[derive(Debug)]
struct MergeClosedAllOf;

impl Modify for MergeClosedAllOf {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let Ok(mut doc) = serde_json::to_value(&*openapi) else {
            return;
        };
        let components = doc
            .pointer("/components/schemas")
            .cloned()
            .unwrap_or_default();
        if !merge_closed_all_of(&mut doc, &components) {
            return;
        }
        match serde_json::from_value(doc) {
            Ok(merged) => *openapi = merged,
            Err(e) => tracing::error!(error = %e, "could not rebuild the OpenAPI document"),
        }
    }
}

/// Merges every closed `allOf` under `node`; true when anything changed.
fn merge_closed_all_of(node: &mut serde_json::Value, components: &serde_json::Value) -> bool {
    use serde_json::{Map, Value};
    let mut changed = false;
    match node {
        Value::Array(items) => {
            for item in items {
                changed |= merge_closed_all_of(item, components);
            }
        }
        Value::Object(map) => {
            for value in map.values_mut() {
                changed |= merge_closed_all_of(value, components);
            }
            let Some(Value::Array(members)) = map.get("allOf") else {
                return changed;
            };
            let resolved: Option<Vec<&Value>> = members
                .iter()
                .map(|m| match m.get("$ref").and_then(Value::as_str) {
                    Some(r) => r
                        .strip_prefix("#/components/schemas/")
                        .and_then(|name| components.get(name)),
                    None => Some(m),
                })
                .collect();
            let Some(resolved) = resolved else {
                return changed;
            };
            let is_plain_object = |m: &&Value| {
                m.get("type").and_then(Value::as_str) == Some("object")
                    && ["allOf", "oneOf", "anyOf"]
                        .iter()
                        .all(|k| m.get(k).is_none())
            };
            let closed = |m: &&Value| m.get("additionalProperties") == Some(&Value::Bool(false));
            if !resolved.iter().all(is_plain_object) || !resolved.iter().any(closed) {
                return changed;
            }
            let mut properties = Map::new();
            let mut required: Vec<Value> = Vec::new();
            for member in &resolved {
                if let Some(Value::Object(props)) = member.get("properties") {
                    properties.extend(props.clone());
                }
                if let Some(Value::Array(req)) = member.get("required") {
                    for r in req {
                        if !required.contains(r) {
                            required.push(r.clone());
                        }
                    }
                }
            }
            let mut merged = Map::new();
            merged.insert("type".into(), Value::from("object"));
            if let Some(d) = map
                .get("description")
                .or_else(|| resolved.iter().find_map(|m| m.get("description")))
            {
                merged.insert("description".into(), d.clone());
            }
            merged.insert("required".into(), Value::Array(required));
            merged.insert("properties".into(), Value::Object(properties));
            if resolved.iter().all(closed) {
                merged.insert("additionalProperties".into(), Value::Bool(false));
            }
            *map = merged;
            changed = true;
        }
        _ => {}
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flattened_closed_types_become_one_object() {
        let doc = serde_json::to_value(ApiDoc::openapi()).unwrap();
        let campaign = &doc["components"]["schemas"]["Campaign"];
        assert!(campaign.get("allOf").is_none(), "{campaign}");
        assert_eq!(campaign["type"], "object");
        for field in ["id", "state", "name", "goal", "limits", "created_at"] {
            assert!(campaign["properties"].get(field).is_some(), "{field}");
        }
        // The request type stays closed; the open token answer stays an allOf.
        assert_eq!(
            doc["components"]["schemas"]["NewCampaign"]["additionalProperties"],
            false
        );
        assert!(doc["components"]["schemas"]["IssuedTokenInfo"]
            .get("allOf")
            .is_some());
    }
}
