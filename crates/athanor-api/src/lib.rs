//! Athanor's operator REST API: axum routes under `/api/v1`, bearer-token auth with roles,
//! RFC 9457 problem answers, an OpenAPI 3 document generated from the code, server-sent events
//! and Prometheus metrics.
//!
//! Invariants: every mutation is one store call (one transaction) recorded with the caller's
//! token name; every error answer is `application/problem+json`; handlers hold no lock across
//! an `.await`.

pub mod auth;
pub mod extract;
pub mod metrics;
pub mod openapi;
pub mod problem;
mod responses;
pub mod routes;
pub mod state;

use std::time::{Duration, Instant};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::{get, post};
use axum::Router;
use tokio::net::TcpListener;
use tower_http::timeout::TimeoutLayer;

pub use problem::{ApiError, Problem};
pub use state::{AppState, AuthMode};

use crate::metrics::{RequestLabels, RouteLabels};
use crate::routes::{
    campaigns, events, experiments, health, hypotheses, instruments, measurements, samples, tokens,
};

/// Every route of the daemon.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/campaigns", post(campaigns::create).get(campaigns::list))
        .route("/campaigns/{id}", get(campaigns::get))
        .route("/campaigns/{id}/pause", post(campaigns::pause))
        .route("/campaigns/{id}/resume", post(campaigns::resume))
        .route("/campaigns/{id}/abort", post(campaigns::abort))
        .route(
            "/campaigns/{id}/experiments",
            get(experiments::list).post(experiments::create),
        )
        .route(
            "/campaigns/{id}/hypotheses",
            get(hypotheses::list).post(hypotheses::create),
        )
        .route("/experiments/{id}", get(experiments::get))
        .route("/experiments/{id}/steps", get(experiments::steps))
        .route("/experiments/{id}/cancel", post(experiments::cancel))
        .route("/hypotheses/{id}", get(hypotheses::get))
        .route("/samples", post(samples::create).get(samples::list))
        .route("/samples/{id}", get(samples::get))
        .route(
            "/instruments",
            post(instruments::register).get(instruments::list),
        )
        .route("/instruments/{id}", get(instruments::get))
        .route("/instruments/{id}/status", get(instruments::status))
        .route("/instruments/{id}/telemetry", get(instruments::telemetry))
        .route("/measurements", get(measurements::list))
        .route("/measurements/{id}", get(measurements::get))
        .route("/analyses", get(measurements::list_analyses))
        .route("/analyses/{id}", get(measurements::get_analysis))
        .route("/events", get(events::stream))
        .route("/tokens", post(tokens::create).get(tokens::list))
        .route("/tokens/{id}/revoke", post(tokens::revoke))
        .route("/openapi.json", get(health::openapi));
    let max_body = state.max_body_bytes;
    Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .nest("/api/v1", api)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            record_metrics,
        ))
        .layer(DefaultBodyLimit::max(max_body))
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::not_found("no such route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        "method-not-allowed",
        "Method not allowed",
        "this route does not take that method",
    )
}

async fn record_metrics(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Clients may send any method name; only the standard ones become label values, so that
    // made-up methods cannot grow the metrics without bound.
    let method = match *req.method() {
        Method::GET
        | Method::HEAD
        | Method::POST
        | Method::PUT
        | Method::PATCH
        | Method::DELETE
        | Method::OPTIONS
        | Method::TRACE
        | Method::CONNECT => req.method().as_str().to_owned(),
        _ => "OTHER".to_owned(),
    };
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(req).await;
    let status = response.status().as_u16();
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status,
        })
        .inc();
    state
        .metrics
        .latency
        .get_or_create(&RouteLabels { method, route })
        .observe(started.elapsed().as_secs_f64());
    response
}

/// Serves until `state.shutdown` is cancelled, then lets in-flight requests finish and ends
/// every event stream. Requests that take longer than `request_timeout` are answered 408.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    request_timeout: Duration,
) -> std::io::Result<()> {
    let shutdown = state.shutdown.clone();
    let app = router(state).layer(TimeoutLayer::with_status_code(
        axum::http::StatusCode::REQUEST_TIMEOUT,
        request_timeout,
    ));
    axum::serve(listener, app)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}
