//! Shared helpers of the MQTT tests: brokers (embedded, the CI Mosquitto, a private Mosquitto
//! that a test can restart), the paho-mqtt controller in Python, a Rust controller built on the
//! ledger with fault switches, and a daemon-side driver on a fresh database.
#![allow(dead_code, clippy::unwrap_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use athanor_core::{InstrumentClass, InstrumentId, NewInstrument};
use athanor_drivers::mqtt::client::{MqttDriver, SystemClock};
use athanor_drivers::mqtt::config::{BrokerChoice, MqttConfig};
use athanor_drivers::mqtt::ingest::IngestSender;
use athanor_drivers::mqtt::ledger::Ledger;
use athanor_drivers::mqtt::messages::{
    decode_cmd, encode, ResultMsg, ResultOutcome, StatusMsg, TelemetryMsg,
};
use athanor_drivers::mqtt::topics::{controller_filter, topic, TopicKind};
use athanor_drivers::mqtt::tracker::{Publish, TrackerConfig};
use athanor_drivers::mqtt::{DriverEvent, MqttHandle};
use athanor_store::Store;
use chrono::Utc;
use rumqttc::{AsyncClient, Event, LastWill, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

pub fn unique_id(prefix: &str) -> InstrumentId {
    let u = uuid::Uuid::new_v4().simple().to_string();
    InstrumentId::parse(&format!("{prefix}-{}", &u[..12])).unwrap()
}

fn required(var: &str) -> bool {
    std::env::var(var).is_ok_and(|v| v == "1")
}

/// The CI Mosquitto (`ATHANOR_TEST_MQTT_URL`), or None (the test then skips, unless
/// `ATHANOR_REQUIRE_MQTT=1`, when it fails).
pub fn ci_mosquitto() -> Option<(String, u16)> {
    match std::env::var("ATHANOR_TEST_MQTT_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let rest = url.strip_prefix("mqtt://").unwrap_or(&url);
            let (h, p) = rest.rsplit_once(':').unwrap_or((rest, "1883"));
            Some((h.to_owned(), p.trim_end_matches('/').parse().unwrap()))
        }
        None => {
            assert!(
                !required("ATHANOR_REQUIRE_MQTT"),
                "ATHANOR_REQUIRE_MQTT=1 but ATHANOR_TEST_MQTT_URL is unset"
            );
            eprintln!("skipped: ATHANOR_TEST_MQTT_URL is not set (mqtt://127.0.0.1:1883 for a local Mosquitto)");
            None
        }
    }
}

/// The Python with paho-mqtt and jsonschema: `ATHANOR_PEERS_PYTHON`, or `.venv-peers/bin/python`
/// at the repository root. None (skip) unless `ATHANOR_REQUIRE_PEERS=1`.
pub fn peers_python() -> Option<PathBuf> {
    let py = std::env::var("ATHANOR_PEERS_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|_| repo_root().join(".venv-peers/bin/python"));
    let ok = Command::new(&py)
        .args(["-c", "import paho.mqtt.client, jsonschema"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        return Some(py);
    }
    assert!(
        !required("ATHANOR_REQUIRE_PEERS"),
        "ATHANOR_REQUIRE_PEERS=1 but {} lacks paho-mqtt/jsonschema (run scripts/mqtt_peers.sh)",
        py.display()
    );
    eprintln!(
        "skipped: no Python with paho-mqtt and jsonschema at {} (run scripts/mqtt_peers.sh)",
        py.display()
    );
    None
}

/// The daemon's configuration for a broker at host:port, with timers short enough for tests.
pub fn daemon_config(host: &str, port: u16, client_id: &str, tracker: TrackerConfig) -> MqttConfig {
    let mut c = MqttConfig::from_toml_str("", None).unwrap();
    c.broker = BrokerChoice::External {
        host: host.to_owned(),
        port,
        tls: false,
    };
    c.client_id = client_id.to_owned();
    c.keep_alive = Duration::from_secs(5);
    c.tracker = tracker;
    c
}

pub fn fast_tracker() -> TrackerConfig {
    TrackerConfig {
        ack_timeout: Duration::from_millis(500),
        max_resends: 3,
        result_timeout: Duration::from_secs(2),
        query_interval: Duration::from_millis(500),
        max_queries: 4,
        chunk_timeout: Duration::from_secs(1),
        start_window: Duration::from_secs(60),
        clock_skew: Duration::from_millis(200),
        keep_finished: Duration::from_secs(60),
    }
}

pub struct Daemon {
    pub handle: MqttHandle,
    pub events: broadcast::Receiver<DriverEvent>,
    pub shutdown: CancellationToken,
}

impl Daemon {
    pub async fn start(config: &MqttConfig, store: &Store, ingest: Option<IngestSender>) -> Self {
        let shutdown = CancellationToken::new();
        let (handle, mut events) =
            MqttDriver::spawn(config, store.clone(), ingest, SystemClock, shutdown.clone())
                .unwrap();
        wait_event(&mut events, Duration::from_secs(10), |e| {
            matches!(e, DriverEvent::Connected { .. })
        })
        .await;
        Self {
            handle,
            events,
            shutdown,
        }
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.handle.join().await;
    }
}

/// Waits for the first event that matches (panics after `timeout`).
pub async fn wait_event(
    events: &mut broadcast::Receiver<DriverEvent>,
    timeout: Duration,
    mut f: impl FnMut(&DriverEvent) -> bool,
) -> DriverEvent {
    tokio::time::timeout(timeout, async {
        loop {
            match events.recv().await {
                Ok(e) if f(&e) => return e,
                Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => panic!("driver stopped"),
            }
        }
    })
    .await
    .expect("the awaited driver event did not come in time")
}

pub async fn register(store: &Store, id: &InstrumentId) {
    store
        .register_instrument(
            NewInstrument {
                id: id.clone(),
                name: format!("test {id}"),
                class: InstrumentClass::Furnace,
                transport: json!({"kind": "mqtt"}),
                limits: Default::default(),
            },
            "test",
        )
        .await
        .unwrap();
}

/// The paho-mqtt controller (scripts/mqtt_controller.py) as a child process.
pub struct PyController {
    child: Child,
    lines: std::sync::mpsc::Receiver<serde_json::Value>,
    pub seen: Vec<serde_json::Value>,
}

impl PyController {
    pub fn start(python: &Path, port: u16, id: &InstrumentId, extra: &[&str]) -> Self {
        let mut child = Command::new(python)
            .arg(repo_root().join("scripts/mqtt_controller.py"))
            .args([
                "--broker",
                &format!("127.0.0.1:{port}"),
                "--id",
                id.as_str(),
            ])
            .args(extra)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Ok(v) = serde_json::from_str(&line) {
                    if tx.send(v).is_err() {
                        break;
                    }
                }
            }
        });
        Self {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// The first line with this event, whether it was already read (while waiting for another
    /// event: the controller's threads print in any order) or arrives within `timeout`.
    pub fn wait_for(&mut self, event: &str, timeout: Duration) -> serde_json::Value {
        if let Some(v) = self.seen.iter().find(|v| v["event"] == event) {
            return v.clone();
        }
        let end = std::time::Instant::now() + timeout;
        loop {
            let left = end.saturating_duration_since(std::time::Instant::now());
            let v = self
                .lines
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("controller never printed {event}"));
            self.seen.push(v.clone());
            if v["event"] == event {
                return v;
            }
        }
    }

    /// Everything printed so far (without waiting).
    pub fn drain(&mut self) -> &[serde_json::Value] {
        while let Ok(v) = self.lines.try_recv() {
            self.seen.push(v);
        }
        &self.seen
    }

    pub fn count(&mut self, event: &str) -> usize {
        self.drain().iter().filter(|v| v["event"] == event).count()
    }

    /// Stops it the orderly way (stdin closes: status offline, disconnect).
    pub fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }

    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PyController {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// How the Rust controller misbehaves.
#[derive(Debug, Clone, Copy, Default)]
pub struct Faults {
    /// Receive commands and never answer.
    pub silent: bool,
    /// Publish every message twice.
    pub duplicate: bool,
    /// Publish the result before the ack.
    pub result_first: bool,
}

/// A controller in Rust on the sans-io ledger, with fault switches; counts physical actions.
pub struct SimController {
    pub executed: Arc<AtomicU64>,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl SimController {
    pub async fn start(port: u16, id: &InstrumentId, run_for: Duration, faults: Faults) -> Self {
        let mut o = MqttOptions::new(id.as_str(), "127.0.0.1", port);
        o.set_clean_session(false)
            .set_keep_alive(Duration::from_secs(5))
            .set_max_packet_size(2 << 20, 2 << 20);
        let will = encode(&StatusMsg {
            state: athanor_core::InstrumentState::Offline,
            at: None,
            reason: Some("connection lost".into()),
            controller: None,
        });
        o.set_last_will(LastWill::new(
            topic(id, TopicKind::Status),
            will,
            QoS::AtLeastOnce,
            true,
        ));
        let (client, mut eventloop) = AsyncClient::new(o, 1024);
        let ledger = Arc::new(Mutex::new(Ledger::new(id.clone())));
        let executed = Arc::new(AtomicU64::new(0));
        let stop = CancellationToken::new();
        let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
        let mut ready_tx = Some(ready_tx);
        let (id2, executed2, stop2) = (id.clone(), executed.clone(), stop.clone());
        let task = tokio::spawn(async move {
            let publish = move |client: AsyncClient, ps: Vec<Publish>| async move {
                for p in ps {
                    let n = if faults.duplicate { 2 } else { 1 };
                    for _ in 0..n {
                        let _ = client
                            .publish(p.topic.clone(), QoS::AtLeastOnce, false, p.payload.clone())
                            .await;
                    }
                }
            };
            loop {
                let ev = tokio::select! {
                    _ = stop2.cancelled() => break,
                    ev = eventloop.poll() => ev,
                };
                match ev {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = client
                            .subscribe(controller_filter(&id2), QoS::AtLeastOnce)
                            .await;
                        let idle = encode(&StatusMsg {
                            state: athanor_core::InstrumentState::Idle,
                            at: Some(Utc::now()),
                            reason: None,
                            controller: Some("rust-sim".into()),
                        });
                        let _ = client
                            .publish(topic(&id2, TopicKind::Status), QoS::AtLeastOnce, true, idle)
                            .await;
                        if let Some(tx) = ready_tx.take() {
                            let _ = tx.send(());
                        }
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) if !faults.silent => {
                        let Ok(cmd) = decode_cmd(&p.payload) else {
                            continue;
                        };
                        let decision = ledger.lock().unwrap().on_cmd(cmd, Utc::now());
                        let Some(exec) = decision.execute else {
                            tokio::spawn(publish(client.clone(), decision.publish));
                            continue;
                        };
                        executed2.fetch_add(1, Ordering::SeqCst);
                        let (client, ledger) = (client.clone(), ledger.clone());
                        let ack = decision.publish;
                        tokio::spawn(async move {
                            if !faults.result_first {
                                publish(client.clone(), ack.clone()).await;
                            }
                            tokio::time::sleep(run_for).await;
                            let result = ResultMsg {
                                command_id: exec.command_id,
                                outcome: ResultOutcome::Succeeded,
                                finished_at: Some(Utc::now()),
                                replay: false,
                                data: Some(json!({"action": exec.action, "params": exec.params})),
                                error: None,
                                chunked: None,
                            };
                            let out = ledger.lock().unwrap().finish(result);
                            publish(client.clone(), out).await;
                            if faults.result_first {
                                publish(client, ack).await;
                            }
                        });
                    }
                    Ok(_) => {}
                    Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
                }
            }
        });
        tokio::time::timeout(Duration::from_secs(10), ready_rx)
            .await
            .unwrap()
            .unwrap();
        Self {
            executed,
            stop,
            task,
        }
    }

    /// Publishes telemetry readings 0..count.
    pub async fn telemetry_client(
        port: u16,
        id: &InstrumentId,
    ) -> (AsyncClient, tokio::task::JoinHandle<()>) {
        let mut o = MqttOptions::new(format!("{id}-telemetry"), "127.0.0.1", port);
        o.set_inflight(1000);
        let (client, mut eventloop) = AsyncClient::new(o, 10_000);
        let task = tokio::spawn(async move { while eventloop.poll().await.is_ok() {} });
        (client, task)
    }

    pub async fn stop(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

pub fn telemetry_payload(seq: u64) -> Vec<u8> {
    let mut values = serde_json::Map::new();
    values.insert("temperature_c".into(), json!(20.0 + seq as f64));
    encode(&TelemetryMsg {
        at: Utc::now(),
        seq,
        values,
    })
}

/// A private Mosquitto on its own port with persistence, which a test may restart.
pub struct Mosquitto {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Mosquitto {
    /// None (skip) when mosquitto is not installed, unless `ATHANOR_REQUIRE_MQTT=1`.
    pub fn start() -> Option<Self> {
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists());
        let Some(bin) = bin else {
            assert!(
                !required("ATHANOR_REQUIRE_MQTT"),
                "ATHANOR_REQUIRE_MQTT=1 but mosquitto is not installed"
            );
            eprintln!("skipped: mosquitto is not installed");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        // Started as root, Mosquitto drops to the `mosquitto` user: its persistence directory
        // must be writable by that user, and the path to it traversable.
        let is_root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.stdout.starts_with(b"0"));
        if is_root {
            let _ = Command::new("chmod").arg("0755").arg(dir.path()).status();
            let _ = Command::new("chown").arg("mosquitto:").arg(&data).status();
        }
        let port = free_port();
        let conf = dir.path().join("mosquitto.conf");
        let mut f = std::fs::File::create(&conf).unwrap();
        writeln!(f, "listener {port} 127.0.0.1\nallow_anonymous true\npersistence true\npersistence_location {}/\nautosave_interval 1\nmax_queued_messages 100000\nlog_dest none", data.display()).unwrap();
        let mut m = Self {
            port,
            dir,
            child: None,
        };
        m.child = Some(m.spawn(&bin));
        Some(m)
    }

    fn spawn(&self, bin: &Path) -> Child {
        let mut child = Command::new(bin)
            .arg("-c")
            .arg(self.dir.path().join("mosquitto.conf"))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return child;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("mosquitto did not start on port {}", self.port);
    }

    /// Stops it (SIGTERM, so that it saves its persistence file).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = Command::new("kill").arg(c.id().to_string()).status();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) {
        self.stop();
        let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .unwrap();
        self.child = Some(self.spawn(&bin));
    }
}

impl Drop for Mosquitto {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}
