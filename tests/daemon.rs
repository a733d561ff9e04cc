//! The real `athanor` binary end to end: token creation, serving on port 0, graceful SIGTERM,
//! and a restart on the same data directory with nothing lost.
#![allow(clippy::unwrap_used)]

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_athanor");

fn athanor(args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env_remove("ATHANOR_CONFIG")
        .output()
        .unwrap()
}

/// Starts `athanor serve` and returns the child with the address it logged.
fn serve(data_dir: &Path) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--log-json",
        ])
        .env_remove("ATHANOR_CONFIG")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
                if let Some(addr) = v["fields"]["addr"].as_str() {
                    let _ = tx.send(addr.to_owned());
                }
            }
        }
    });
    let addr = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve logs the address it listens on");
    (child, addr)
}

fn terminate(mut child: Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            Instant::now() < deadline,
            "the daemon did not stop within 30 s of SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn http(
    method: &str,
    addr: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&serde_json::Value>,
) -> (u16, serde_json::Value) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = reqwest::Client::new();
        let mut req = client.request(method.parse().unwrap(), format!("http://{addr}{path}"));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(serde_json::Value::Null))
    })
}

#[test]
fn token_serve_sigterm_restart() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();

    let out = athanor(&[
        "token",
        "create",
        "--data-dir",
        d,
        "--role",
        "operator",
        "--name",
        "alice",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let token = stdout.lines().last().unwrap().trim().to_owned();
    assert!(
        token.starts_with("ath_"),
        "the token is the last line: {stdout}"
    );
    let again = athanor(&[
        "token",
        "create",
        "--data-dir",
        d,
        "--role",
        "viewer",
        "--name",
        "alice",
    ]);
    assert!(
        !again.status.success(),
        "a second token named alice is refused"
    );

    let (child, addr) = serve(dir.path());
    assert_eq!(http("GET", &addr, "/healthz", None, None).0, 200);
    assert_eq!(http("GET", &addr, "/api/v1/campaigns", None, None).0, 401);
    let campaign = serde_json::json!({
        "name": "survives restarts",
        "goal": {"type": "phase_pure", "target_phase": "LiMn2O4", "min_weight_fraction": 0.9},
        "search_space": {"parameters": [{"type": "temperature", "name": "T", "low": 500, "high": 900}]},
        "budget": {"max_experiments": 10},
        "planner": {"kind": "random"},
        "limits": {"max_temperature_c": 1000, "max_ramp_c_per_min": 5}
    });
    let (status, created) = http(
        "POST",
        &addr,
        "/api/v1/campaigns",
        Some(&token),
        Some(&campaign),
    );
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap().to_owned();
    let status = terminate(child);
    assert!(status.success(), "SIGTERM is a clean shutdown: {status:?}");

    let (child, addr) = serve(dir.path());
    let (status, back) = http(
        "GET",
        &addr,
        &format!("/api/v1/campaigns/{id}"),
        Some(&token),
        None,
    );
    assert_eq!(status, 200);
    assert_eq!(back["name"], "survives restarts");
    assert!(terminate(child).success());
}

#[test]
fn migrate_reports_an_up_to_date_schema_and_bad_config_names_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let out = athanor(&["migrate", "--data-dir", d]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    let out = Command::new(BIN)
        .args(["migrate", "--data-dir", d])
        .env("ATHANOR_SERVER_MAX_BODY_BYTES", "lots")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("server.max_body_bytes"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
