//! Benchmark: telemetry ingest from simulated controllers into the store at QoS 1, through the
//! embedded broker and through Mosquitto. Not a test: it prints rates and losses.
//!
//! ```sh
//! cargo bench -p athanor-drivers --bench mqtt_ingest -- [embedded|mosquitto|both] \
//!     [--controllers 50] [--messages 4000] [--rate 0]
//! ```
//!
//! Each controller is its own rumqttc client publishing `telemetry` messages (QoS 1) as fast as
//! its in-flight window allows, or at `--rate` messages per second in total when given. The
//! daemon's real driver receives them and its ingest writes them in batches to a fresh SQLite
//! file (or to PostgreSQL when `ATHANOR_BENCH_DATABASE_URL` names one). The rate is stored
//! readings over the time from the first publish to the last reading committed; loss is what
//! was published and not stored. "mosquitto" starts a private Mosquitto (from PATH or /usr/sbin)
//! with the queue limits of deploy/mosquitto/mosquitto.conf, or uses `ATHANOR_BENCH_MQTT_URL`.
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::io::Write;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use athanor_drivers::mqtt::broker::{BrokerSettings, EmbeddedBroker};
use athanor_drivers::mqtt::client::{MqttDriver, SystemClock};
use athanor_drivers::mqtt::config::{BrokerChoice, MqttConfig};
use athanor_drivers::mqtt::ingest::{IngestConfig, TelemetryIngest};
use athanor_drivers::mqtt::messages::{encode, TelemetryMsg};
use athanor_drivers::mqtt::topics::{topic, TopicKind};
use athanor_drivers::mqtt::DriverEvent;
use athanor_store::{ConnectOptions, Store};
use chrono::Utc;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Clone, Copy)]
struct Params {
    controllers: usize,
    messages: u64,
    rate: u64,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct PrivateMosquitto {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for PrivateMosquitto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_mosquitto() -> (u16, PrivateMosquitto) {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let conf = dir.path().join("mosquitto.conf");
    let mut f = std::fs::File::create(&conf).unwrap();
    // As deploy/mosquitto/mosquitto.conf, without persistence (nothing to restart here).
    writeln!(
        f,
        "listener {port} 127.0.0.1\nallow_anonymous true\nmax_queued_messages 10000\nlog_dest none"
    )
    .unwrap();
    let bin = ["/usr/sbin/mosquitto", "/usr/bin/mosquitto"]
        .into_iter()
        .find(|p| std::path::Path::new(p).exists())
        .unwrap_or("mosquitto");
    let child = Command::new(bin)
        .arg("-c")
        .arg(&conf)
        .stdout(Stdio::null())
        .spawn()
        .expect("mosquitto");
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    (port, PrivateMosquitto { child, _dir: dir })
}

async fn store() -> (Store, Option<tempfile::TempDir>) {
    match std::env::var("ATHANOR_BENCH_DATABASE_URL")
        .ok()
        .filter(|u| !u.is_empty())
    {
        Some(url) => {
            let s = Store::connect(&ConnectOptions {
                url,
                ..ConnectOptions::default()
            })
            .await
            .unwrap();
            (s, None)
        }
        None => {
            let dir = tempfile::tempdir().unwrap();
            let s = Store::connect(&ConnectOptions {
                data_dir: dir.path().to_owned(),
                ..ConnectOptions::default()
            })
            .await
            .unwrap();
            (s, Some(dir))
        }
    }
}

async fn run(label: &str, port: u16, p: Params) {
    let (store, _dir) = store().await;
    let ingest = TelemetryIngest::spawn(store.clone(), IngestConfig::default());
    let mut config = MqttConfig::from_toml_str("", None).unwrap();
    config.broker = BrokerChoice::External {
        host: "127.0.0.1".into(),
        port,
        tls: false,
    };
    config.client_id = format!("athanor-bench-{}", uuid::Uuid::new_v4().simple());
    let shutdown = CancellationToken::new();
    let (handle, mut events) = MqttDriver::spawn(
        &config,
        store.clone(),
        Some(ingest.sender()),
        SystemClock,
        shutdown.clone(),
    )
    .unwrap();
    while !matches!(events.recv().await, Ok(DriverEvent::Connected { .. })) {}
    tokio::time::sleep(Duration::from_millis(500)).await; // SUBACK before the first reading
    let disconnects = Arc::new(AtomicU64::new(0));
    let d2 = disconnects.clone();
    tokio::spawn(async move {
        while let Ok(e) = events.recv().await {
            if let DriverEvent::Disconnected { error } = e {
                if d2.fetch_add(1, Ordering::Relaxed) == 0 {
                    println!("  daemon lost its broker connection: {error}");
                }
            }
        }
    });

    let run_id = &uuid::Uuid::new_v4().simple().to_string()[..8];
    let total = p.controllers as u64 * p.messages;
    let published = Arc::new(AtomicU64::new(0));
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..p.controllers {
        let id = athanor_core::InstrumentId::parse(&format!("bench-{run_id}-{c:03}")).unwrap();
        let published = published.clone();
        tasks.push(tokio::spawn(async move {
            let mut o = MqttOptions::new(id.as_str(), "127.0.0.1", port);
            o.set_inflight(100).set_keep_alive(Duration::from_secs(30));
            let (client, mut eventloop) = AsyncClient::new(o, 1000);
            let mut network = rumqttc::NetworkOptions::new();
            network.set_tcp_nodelay(true);
            eventloop.set_network_options(network);
            let t = topic(&id, TopicKind::Telemetry);
            let acked = Arc::new(AtomicU64::new(0));
            let acked2 = acked.clone();
            let poller = tokio::spawn(async move {
                while let Ok(e) = eventloop.poll().await {
                    if let Event::Incoming(Packet::PubAck(_)) = e {
                        acked2.fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
            let per = if p.rate > 0 {
                Some(Duration::from_secs_f64(
                    p.controllers as f64 / p.rate as f64,
                ))
            } else {
                None
            };
            let t0 = Instant::now();
            for seq in 0..p.messages {
                if let Some(per) = per {
                    let due = t0 + per.mul_f64(seq as f64);
                    tokio::time::sleep_until(due.into()).await;
                }
                let mut values = serde_json::Map::new();
                values.insert(
                    "temperature_c".into(),
                    serde_json::json!(600.0 + (seq % 100) as f64 * 0.1),
                );
                values.insert("setpoint_c".into(), serde_json::json!(650.0));
                let payload = encode(&TelemetryMsg {
                    at: Utc::now(),
                    seq,
                    values,
                });
                client
                    .publish(t.clone(), QoS::AtLeastOnce, false, payload)
                    .await
                    .unwrap();
                published.fetch_add(1, Ordering::Relaxed);
            }
            while acked.load(Ordering::Relaxed) < p.messages {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = client.disconnect().await;
            poller.abort();
        }));
    }
    let publish_end;
    {
        for t in tasks {
            t.await.unwrap();
        }
        publish_end = start.elapsed();
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    while ingest.stats().stored + ingest.stats().duplicates < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let elapsed = start.elapsed();
    shutdown.cancel();
    handle.join().await;
    let stats = ingest.close().await;
    let counted = store.telemetry_count(None).await.unwrap();
    let rate = stats.stored as f64 / elapsed.as_secs_f64();
    println!(
        "{label:<10} controllers {:>3}  published {total:>7} (publishers done in {:.2} s)  stored {:>7} in {:.2} s  = {rate:>8.0} msg/s  lost {}  duplicates {}  seq gaps {}  batches {} (mean {:.0} rows)  rows counted in the store {counted}  disconnects {}",
        p.controllers,
        publish_end.as_secs_f64(),
        stats.stored,
        elapsed.as_secs_f64(),
        total.saturating_sub(stats.stored),
        stats.duplicates,
        stats.seq_gaps,
        stats.batches,
        stats.received as f64 / stats.batches.max(1) as f64,
        disconnects.load(Ordering::Relaxed),
    );
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let mut which = "both".to_owned();
    let mut p = Params {
        controllers: 50,
        messages: 4000,
        rate: 0,
    };
    let mut i = 0;
    while i < args.len() {
        let val = |i: usize| {
            args.get(i + 1)
                .and_then(|v| v.parse::<u64>().ok())
                .expect("a number")
        };
        match args[i].as_str() {
            "--controllers" => {
                p.controllers = val(i) as usize;
                i += 1;
            }
            "--messages" => {
                p.messages = val(i);
                i += 1;
            }
            "--rate" => {
                p.rate = val(i);
                i += 1;
            }
            w @ ("embedded" | "mosquitto" | "both") => which = w.to_owned(),
            other => panic!("unknown argument {other}"),
        }
        i += 1;
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        if which == "embedded" || which == "both" {
            let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
                .await
                .unwrap();
            run("embedded", broker.local_addr().port(), p).await;
            broker.shutdown();
        }
        if which == "mosquitto" || which == "both" {
            match std::env::var("ATHANOR_BENCH_MQTT_URL")
                .ok()
                .filter(|u| !u.is_empty())
            {
                Some(url) => {
                    let port = url
                        .rsplit(':')
                        .next()
                        .and_then(|s| s.trim_end_matches('/').parse().ok())
                        .expect("mqtt://127.0.0.1:PORT");
                    run("mosquitto", port, p).await;
                }
                None => {
                    let (port, _m) = start_mosquitto();
                    run("mosquitto", port, p).await;
                }
            }
        }
    });
}
