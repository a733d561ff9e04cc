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
        instruments::register, instruments::list, instruments::get,
        measurements::list, measurements::get, measurements::list_analyses, measurements::get_analysis,
        events::stream,
        tokens::create, tokens::list, tokens::revoke,
    ),
    components(schemas(crate::problem::Problem)),
    modifiers(&BearerAuth),
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
