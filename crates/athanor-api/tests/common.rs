//! Test harness: a real server on 127.0.0.1:0 with its own fresh database and one token per role.
#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::time::Duration;

use athanor_api::{AppState, AuthMode};
use athanor_core::Role;
use athanor_store::testing::TestDb;
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

#[derive(Debug)]
pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub db: TestDb,
    pub viewer: String,
    pub operator: String,
    pub admin: String,
    pub shutdown: CancellationToken,
    pub server: tokio::task::JoinHandle<std::io::Result<()>>,
}

pub const MAX_BODY: usize = 64 * 1024;

impl TestApp {
    pub async fn spawn() -> Self {
        Self::spawn_on(TestDb::sqlite().await.unwrap(), AuthMode::Required).await
    }

    pub async fn spawn_on(db: TestDb, auth: AuthMode) -> Self {
        let viewer = db
            .store
            .create_token(&format!("viewer-{}", uuid()), Role::Viewer, "test")
            .await
            .unwrap()
            .token;
        let operator = db
            .store
            .create_token(&format!("operator-{}", uuid()), Role::Operator, "test")
            .await
            .unwrap()
            .token;
        let admin = db
            .store
            .create_token(&format!("admin-{}", uuid()), Role::Admin, "test")
            .await
            .unwrap()
            .token;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = CancellationToken::new();
        let state = AppState::new(db.store.clone(), auth, MAX_BODY, shutdown.clone());
        let server = tokio::spawn(athanor_api::serve(listener, state, Duration::from_secs(30)));
        Self {
            addr,
            client: reqwest::Client::new(),
            db,
            viewer,
            operator,
            admin,
            shutdown,
            server,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(self) -> TestDb {
        self.shutdown.cancel();
        self.server.await.unwrap().unwrap();
        self.db
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> reqwest::Response {
        self.client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn get(&self, path: &str, token: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_campaign(&self, name: &str) -> Value {
        let r = self
            .post("/api/v1/campaigns", &self.operator, &campaign_json(name))
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        r.json().await.unwrap()
    }
}

pub fn uuid() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_owned()
}

pub fn campaign_json(name: &str) -> Value {
    json!({
        "name": name,
        "goal": {"type": "phase_pure", "target_phase": "YBa2Cu3O7", "min_weight_fraction": 0.9},
        "search_space": {"parameters": [{"type": "temperature", "name": "T", "low": 600, "high": 950}]},
        "budget": {"max_experiments": 20},
        "planner": {"kind": "random", "seed": 1},
        "limits": {"max_temperature_c": 1000, "max_ramp_c_per_min": 10}
    })
}

/// Asserts an RFC 9457 answer with this status (and field, when given); returns the body.
pub async fn assert_problem(r: reqwest::Response, status: u16, field: Option<&str>) -> Value {
    assert_eq!(r.status().as_u16(), status, "status");
    let ct = r
        .headers()
        .get("content-type")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(ct, "application/problem+json");
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["status"], status);
    assert!(
        body["title"].is_string() && body["detail"].is_string() && body["type"].is_string(),
        "{body}"
    );
    if let Some(f) = field {
        assert_eq!(body["field"], f, "{body}");
    }
    body
}
