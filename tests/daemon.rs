//! The real `athanor` binary end to end: token creation, serving on port 0, graceful SIGTERM,
//! a restart on the same data directory with nothing lost, MQTT controllers, and the simulated
//! lab hosted in the daemon or run beside it with `athanor sim`.
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
    spawn_daemon(
        data_dir,
        &["--mqtt-listen", "127.0.0.1:0"],
        &[("ATHANOR_INSTRUMENTS_DIR", instruments.to_str().unwrap())],
    )
}

/// Starts `athanor serve` on a free HTTP port with extra flags and environment.
fn spawn_daemon(data_dir: &Path, extra: &[&str], envs: &[(&str, &str)]) -> Daemon {
    let mut child = Command::new(BIN)
        .args([
            "serve",
            "--data-dir",
            data_dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
            "--log-json",
        ])
        .args(extra)
        .env_remove("ATHANOR_CONFIG")
        .env_remove("RUST_LOG")
        .envs(envs.iter().copied())
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

/// The shipped lab file with an absolute model path and no pty link (tests run side by side).
fn test_lab(dir: &Path) -> String {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(repo.join("config/sim/lab.toml"))
        .unwrap()
        .replace(
            "../instruments/eurotherm-3216.toml",
            repo.join("config/instruments/eurotherm-3216.toml")
                .to_str()
                .unwrap(),
        )
        .replace("link = \"data/sim/furnace-1.tty\"\n", "");
    let path = dir.join("lab.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_owned()
}

/// The simulated lab's four instruments answer through the daemon: the furnace is polled over
/// its pty (telemetry stored), the MQTT controllers report idle.
fn assert_sim_instruments_answer(addr: &str, token: &str) {
    let reading = eventually(Duration::from_secs(30), || {
        let (status, body) = http(
            "GET",
            addr,
            "/api/v1/instruments/furnace-1/status",
            Some(token),
            None,
        );
        assert_eq!(status, 200, "{body}");
        body["latest_telemetry"]["values"]["pv_c"].as_f64()
    });
    assert!(
        (15.0..40.0).contains(&reading),
        "a cold furnace reads {reading} °C"
    );
    for (id, class) in [
        ("xrd-1", "diffractometer"),
        ("handler-1", "sample_handler"),
        ("sputter-1", "deposition_tool"),
    ] {
        let seen = eventually(Duration::from_secs(30), || {
            let (_, body) = http(
                "GET",
                addr,
                &format!("/api/v1/instruments/{id}/status"),
                Some(token),
                None,
            );
            (body["instrument"]["state"] == "idle").then_some(body)
        });
        assert_eq!(seen["instrument"]["class"], class, "{seen}");
    }
}

#[test]
fn the_daemon_hosts_the_simulated_lab_in_process() {
    let dir = tempfile::tempdir().unwrap();
    let lab = test_lab(dir.path());
    let token = create_token(dir.path().to_str().unwrap(), "viewer", "sim");
    let d = spawn_daemon(
        dir.path(),
        &[
            "--mqtt-listen",
            "127.0.0.1:0",
            "--sim",
            "config/worlds/ybco.toml",
            "--lab",
            &lab,
            "--speed",
            "100",
            "--seed",
            "3",
        ],
        &[],
    );
    assert_sim_instruments_answer(&d.addr, &token);
    assert!(terminate(d.child).success());
    assert!(
        dir.path().join("sim-actions.jsonl").exists(),
        "the lab's action log is in the data directory"
    );
}

#[test]
fn athanor_sim_runs_the_lab_beside_a_daemon() {
    let dir = tempfile::tempdir().unwrap();
    let lab = test_lab(dir.path());
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let instruments = dir.path().join("instruments");
    let mut sim = Command::new(BIN)
        .args([
            "sim",
            "--world",
            "config/worlds/limnti.toml",
            "--lab",
            &lab,
            "--seed",
            "4",
        ])
        .args(["--host-broker", &format!("127.0.0.1:{port}")])
        .args(["--instruments-out", instruments.to_str().unwrap()])
        .args([
            "--action-log",
            dir.path().join("actions.jsonl").to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = sim.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut printed = Vec::new();
    while !printed
        .iter()
        .any(|l: &String| l.starts_with("instrument files for the daemon"))
    {
        printed.push(
            rx.recv_timeout(Duration::from_secs(60))
                .expect("athanor sim reports its instruments"),
        );
    }
    assert!(
        printed
            .iter()
            .any(|l| l.starts_with("furnace furnace-1: Modbus RTU on /dev/")),
        "{printed:?}"
    );
    assert!(instruments.join("furnace-1.toml").exists());
    let token = create_token(dir.path().to_str().unwrap(), "viewer", "sim");
    let url = format!("mqtt://127.0.0.1:{port}");
    let d = spawn_daemon(
        dir.path(),
        &[],
        &[
            ("ATHANOR_INSTRUMENTS_DIR", instruments.to_str().unwrap()),
            ("ATHANOR_MQTT_URL", &url),
        ],
    );
    assert_sim_instruments_answer(&d.addr, &token);
    assert!(terminate(d.child).success());
    assert!(terminate(sim).success());
    let rest: Vec<String> = rx.try_iter().collect();
    assert!(rest.iter().any(|l| l == "stopped"), "{rest:?}");
}
