//! A simulated lab with the daemon's real drivers in front of it: the lab hosts its own broker
//! (so that it can restart it), the daemon's MQTT driver runs on a fresh SQLite store with the
//! lab's clock, and the Eurotherm driver opens the furnace's pty like a serial port.

#![allow(dead_code, clippy::unwrap_used)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use athanor_core::{InstrumentId, NewInstrument};
use athanor_drivers::eurotherm::EurothermFurnace;
use athanor_drivers::instrument::Furnace as _;
use athanor_drivers::instrument::{FurnaceProgram, InstrumentConfig, ProgramState, Segment};
use athanor_drivers::modbus::serial;
use athanor_drivers::mqtt::client::MqttDriver;
use athanor_drivers::mqtt::config::{BrokerChoice as DaemonBroker, MqttConfig};
use athanor_drivers::mqtt::{CommandOutcome, MqttHandle, OutboundCommand, TrackerConfig};
use athanor_sim::serve::{BrokerChoice, LabFiles, SimLab, SimOptions};
use athanor_sim::{SimClock, World};
use athanor_store::testing::TestDb;
use serde_json::{json, Value};
use tokio_serial::SerialStream;
use tokio_util::sync::CancellationToken;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn world(name: &str) -> World {
    let text = std::fs::read_to_string(repo().join(format!("config/worlds/{name}.toml"))).unwrap();
    World::from_toml(&text).unwrap()
}

/// The shipped lab file with `faults` (TOML) appended and no pty link (tests run side by side).
pub fn lab_files(faults: &str) -> LabFiles {
    let shipped = std::fs::read_to_string(repo().join("config/sim/lab.toml")).unwrap();
    let text = format!(
        "{}\n{faults}\n",
        shipped.replace("link = \"data/sim/furnace-1.tty\"\n", "")
    );
    let path = repo()
        .join("config/sim")
        .join(format!(".test-lab-{}.toml", uuid::Uuid::new_v4().simple()));
    std::fs::write(&path, text).unwrap();
    let files = LabFiles::read(&path);
    let _ = std::fs::remove_file(&path);
    files.unwrap()
}

pub struct Rig {
    pub lab: SimLab,
    pub db: TestDb,
    pub mqtt: MqttHandle,
    pub shutdown: CancellationToken,
    pub clock: SimClock,
}

/// Timers of the daemon's tracker for tests, on the wall clock.
pub fn test_tracker() -> TrackerConfig {
    TrackerConfig {
        ack_timeout: Duration::from_millis(800),
        max_resends: 5,
        result_timeout: Duration::from_secs(3),
        query_interval: Duration::from_millis(500),
        max_queries: 8,
        chunk_timeout: Duration::from_secs(2),
        start_window: Duration::from_secs(20),
        clock_skew: Duration::from_millis(200),
        keep_finished: Duration::from_secs(120),
    }
}

impl Rig {
    pub async fn start(world_name: &str, faults: &str, speed: f64, seed: u64) -> Self {
        Self::start_with(world_name, faults, speed, seed, test_tracker()).await
    }

    pub async fn start_with(
        world_name: &str,
        faults: &str,
        speed: f64,
        seed: u64,
        tracker: TrackerConfig,
    ) -> Self {
        let clock = SimClock::new(speed);
        let lab = SimLab::start(
            world(world_name),
            lab_files(faults),
            SimOptions {
                speed,
                seed,
                broker: BrokerChoice::Hosted(SocketAddr::from(([127, 0, 0, 1], 0))),
                action_log: None,
            },
            clock,
        )
        .await
        .unwrap();
        let db = TestDb::new("sqlite").await.unwrap();
        for c in lab.instrument_configs() {
            db.store
                .register_instrument(
                    NewInstrument {
                        id: c.id.clone(),
                        name: c.name.clone(),
                        class: c.class,
                        transport: json!({"kind": "sim"}),
                        limits: c.limits.to_core(),
                    },
                    "test",
                )
                .await
                .unwrap();
        }
        let mut config = MqttConfig::from_toml_str("", None).unwrap();
        config.broker = DaemonBroker::External {
            host: lab.broker.host.clone(),
            port: lab.broker.port,
            tls: false,
        };
        config.client_id = format!("daemon-{}", uuid::Uuid::new_v4().simple());
        config.keep_alive = Duration::from_secs(5);
        config.tracker = tracker.scaled(speed);
        let shutdown = CancellationToken::new();
        let (mqtt, mut events) =
            MqttDriver::spawn(&config, db.store.clone(), None, clock, shutdown.clone()).unwrap();
        tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                if let Ok(athanor_drivers::mqtt::DriverEvent::Subscribed) = events.recv().await {
                    return;
                }
            }
        })
        .await
        .expect("the daemon's subscriptions were confirmed");
        Self {
            lab,
            db,
            mqtt,
            shutdown,
            clock,
        }
    }

    pub fn config(&self, id: &str) -> InstrumentConfig {
        self.lab
            .instrument_configs()
            .iter()
            .find(|c| c.id.as_str() == id)
            .cloned()
            .unwrap()
    }

    /// Sends one command through the daemon's driver and waits for its outcome.
    pub async fn command(&self, instrument: &str, action: &str, params: Value) -> CommandOutcome {
        let id = InstrumentId::parse(instrument).unwrap();
        let cmd = self
            .db
            .store
            .create_command(&id, None, action, params, None, "test")
            .await
            .unwrap();
        let rx = self.mqtt.submit(OutboundCommand::from(&cmd)).await.unwrap();
        tokio::time::timeout(Duration::from_secs(60), rx)
            .await
            .expect("the command ended in time")
            .expect("the driver kept the command")
    }

    /// The real Eurotherm driver on the furnace's serial line.
    pub fn furnace_driver(&self, id: &str) -> EurothermFurnace<SerialStream> {
        let c = self.config(id);
        let Some(athanor_drivers::instrument::Transport::Serial(s)) = &c.transport else {
            panic!("{id} is not on a serial line");
        };
        let line = serial::open(s).unwrap();
        EurothermFurnace::from_config(&c, line).unwrap()
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        self.mqtt.join().await;
        self.lab.stop().await;
        self.db.cleanup().await;
    }
}

/// Ramp to `peak_c` at `ramp`, hold `hours`, cool to 25 °C at `cool`.
pub fn program(peak_c: f64, ramp: f64, hours: f64, cool: f64) -> FurnaceProgram {
    FurnaceProgram {
        segments: vec![
            Segment {
                target_c: peak_c,
                ramp_c_per_min: ramp,
                dwell_min: hours * 60.0,
            },
            Segment {
                target_c: 25.0,
                ramp_c_per_min: cool,
                dwell_min: 0.0,
            },
        ],
        atmosphere: None,
    }
}

/// Loads and runs `program` with the driver and waits (on the wall clock) until the controller
/// says complete.
pub async fn fire(f: &mut EurothermFurnace<SerialStream>, program: &FurnaceProgram) {
    if f.program_state().await.unwrap() == ProgramState::Complete {
        f.abort().await.unwrap();
    }
    f.load_program(program).await.unwrap();
    f.run_program().await.unwrap();
    tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            tokio::time::sleep(Duration::from_millis(50)).await;
            match f.program_state().await {
                Ok(ProgramState::Complete) => return,
                Ok(_) => {}
                Err(e)
                    if e.is_line_dead()
                        || matches!(e, athanor_drivers::eurotherm::EurothermError::Modbus(_)) => {}
                Err(e) => panic!("{e}"),
            }
        }
    })
    .await
    .expect("the program completed");
}
