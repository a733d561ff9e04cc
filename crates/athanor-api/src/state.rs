//! What every handler shares: the store, the auth mode, limits, metrics and the shutdown signal.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use athanor_store::Store;

use crate::metrics::Metrics;

/// Whether requests must carry a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthMode {
    /// Every route but health, readiness and metrics needs a token with a sufficient role.
    Required,
    /// No token needed; every caller acts as an admin named `anonymous`. Allowed only on a
    /// loopback listener (checked where the server starts).
    Disabled,
}

/// Shared state of the HTTP server.
#[derive(Debug, Clone)]
pub struct AppState {
    pub store: Store,
    pub auth: AuthMode,
    pub max_body_bytes: usize,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the server shuts down, so that long-lived streams end and let it finish.
    pub shutdown: CancellationToken,
}

impl AppState {
    pub fn new(
        store: Store,
        auth: AuthMode,
        max_body_bytes: usize,
        shutdown: CancellationToken,
    ) -> Self {
        Self {
            store,
            auth,
            max_body_bytes,
            metrics: Arc::new(Metrics::default()),
            shutdown,
        }
    }
}
