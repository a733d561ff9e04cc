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

/// A daemon started by a test, with the addresses it logged.
struct Daemon {
    child: Child,
    /// The HTTP API.
    addr: String,
    /// The embedded MQTT broker's port.
    mqtt_port: u16,
}

/// Starts `athanor serve` on free ports (HTTP and the embedded MQTT broker), with the
/// instrument files of `instruments` (none when the directory does not exist).
fn serve_with(data_dir: &Path, instruments: &Path) -> Daemon {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--mqtt-listen",
            "127.0.0.1:0",
            "--log-json",
        ])
        .env_remove("ATHANOR_CONFIG")
        .env_remove("RUST_LOG")
        .env("ATHANOR_INSTRUMENTS_DIR", instruments)
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut mqtt_port = None;
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) else {
                continue;
            };
            let message = v["fields"]["message"].as_str().unwrap_or("");
            if message.starts_with("MQTT broker for instrument controllers") {
                mqtt_port = v["fields"]["port"].as_u64();
            }
            if message.starts_with("listening on http://") {
                if let Some(addr) = v["fields"]["addr"].as_str() {
                    let _ = tx.send((addr.to_owned(), mqtt_port));
                }
            }
        }
    });
    let (addr, mqtt_port) = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("serve logs the address it listens on");
    Daemon {
        child,
        addr,
        mqtt_port: u16::try_from(mqtt_port.expect("serve logs the MQTT broker's port")).unwrap(),
    }
}

/// Starts `athanor serve` with no instruments; returns the child and the HTTP address.
fn serve(data_dir: &Path) -> (Child, String) {
    let d = serve_with(data_dir, &data_dir.join("no-instruments"));
    (d.child, d.addr)
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

/// Token creation through the CLI: the last line printed.
fn create_token(data_dir: &str, role: &str, name: &str) -> String {
    let out = athanor(&[
        "token",
        "create",
        "--data-dir",
        data_dir,
        "--role",
        role,
        "--name",
        name,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_owned()
}

/// Polls `check` until it returns Some, for at most `within` (the daemon works on its own clock).
fn eventually<T>(within: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + within;
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            Instant::now() < deadline,
            "condition not reached within {within:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn an_mqtt_controller_on_the_embedded_broker_reports_status_and_telemetry() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let instruments = dir.path().join("instruments");
    std::fs::create_dir(&instruments).unwrap();
    std::fs::write(
        instruments.join("xrd-1.toml"),
        "id = \"xrd-1\"\nclass = \"diffractometer\"\nname = \"Powder XRD 1\"\n[transport]\nkind = \"mqtt\"\n[limits]\nmin_two_theta = 5.0\nmax_two_theta = 120.0\n",
    )
    .unwrap();
    let token = create_token(d, "viewer", "watcher");
    let daemon = serve_with(dir.path(), &instruments);
    let (status, inst) = http(
        "GET",
        &daemon.addr,
        "/api/v1/instruments/xrd-1",
        Some(&token),
        None,
    );
    assert_eq!(
        status, 200,
        "the configured instrument is registered at start: {inst}"
    );
    assert_eq!(inst["state"], "offline");

    // A controller (rumqttc here; the paho-mqtt controller is in athanor-drivers' tests).
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use rumqttc::{AsyncClient, Event, MqttOptions, Outgoing, QoS};
        let mut o = MqttOptions::new("xrd-1-controller", "127.0.0.1", daemon.mqtt_port);
        o.set_keep_alive(Duration::from_secs(5));
        let (client, mut events) = AsyncClient::new(o, 64);
        let base = "athanor/v1/instruments/xrd-1";
        client
            .publish(format!("{base}/status"), QoS::AtLeastOnce, true, r#"{"v": 1, "state": "idle", "controller": "test"}"#)
            .await
            .unwrap();
        for seq in 0..5 {
            let msg = format!(r#"{{"v": 1, "at": "2026-11-25T12:00:0{seq}Z", "seq": {seq}, "values": {{"tube_kv": 40, "tube_ma": {}}}}}"#, 30 + seq);
            client.publish(format!("{base}/telemetry"), QoS::AtLeastOnce, false, msg).await.unwrap();
        }
        // Drive the connection until the broker has acknowledged all six messages (QoS 1), as
        // a controller does before it says goodbye; then disconnect.
        tokio::time::timeout(Duration::from_secs(20), async {
            let mut acked = 0;
            let mut disconnecting = false;
            loop {
                match events.poll().await {
                    Ok(Event::Incoming(rumqttc::Packet::PubAck(_))) => {
                        acked += 1;
                        if acked == 6 && !disconnecting {
                            disconnecting = true;
                            client.disconnect().await.unwrap();
                        }
                    }
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => break,
                    Ok(_) => {}
                    Err(e) => panic!("controller connection failed: {e}"),
                }
            }
        })
        .await
        .unwrap();
    });

    let status = eventually(Duration::from_secs(20), || {
        let (code, s) = http(
            "GET",
            &daemon.addr,
            "/api/v1/instruments/xrd-1/status",
            Some(&token),
            None,
        );
        (code == 200 && s["instrument"]["state"] == "idle" && s["latest_telemetry"]["seq"] == 4)
            .then_some(s)
    });
    assert_eq!(status["latest_telemetry"]["values"]["tube_ma"], 34);
    let (code, page) = http(
        "GET",
        &daemon.addr,
        "/api/v1/instruments/xrd-1/telemetry?from=2026-11-25T12:00:00Z&to=2026-11-25T12:01:00Z",
        Some(&token),
        None,
    );
    assert_eq!(code, 200);
    assert_eq!(page["items"].as_array().unwrap().len(), 5);

    // The CLI reads the same store while the daemon runs.
    let out = athanor(&["instrument", "list", "--data-dir", d]);
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && listed.contains("xrd-1") && listed.contains("idle"),
        "{listed}"
    );
    let out = athanor(&[
        "instrument",
        "telemetry",
        "xrd-1",
        "--data-dir",
        d,
        "--from",
        "2026-11-25T12:00:00Z",
        "--to",
        "2026-11-25T12:01:00Z",
        "--json",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rows: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let seqs: Vec<u64> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs, [0, 1, 2, 3, 4]);
    let out = athanor(&["instrument", "status", "nope", "--data-dir", d]);
    assert!(!out.status.success(), "an unknown instrument is an error");

    assert!(terminate(daemon.child).success());
}
