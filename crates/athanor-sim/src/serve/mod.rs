//! The simulated lab on the wire: each furnace controller on a pty speaking Modbus RTU, each
//! MQTT instrument as a controller on a broker (an external one, or one the lab runs itself so
//! that it can restart it as a fault), the lab clock ticking the furnaces' thermal models, and
//! the action log written to a JSON-lines file. [`SimLab::start`] is what `athanor sim` and a
//! daemon hosting the lab in-process both call.

pub mod mqtt;
pub mod serial;

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_serial::{SerialPort, SerialStream};
use tokio_util::sync::CancellationToken;

use athanor_core::{InstrumentClass, InstrumentId};
use athanor_drivers::eurotherm::RegisterMap;
use athanor_drivers::instrument::{InstrumentConfig, Limits, Parity, SerialSettings, Transport};
use athanor_drivers::mqtt::broker::BrokerSettings;
use athanor_drivers::mqtt::EmbeddedBroker;
use athanor_xrd::profile::InstrumentProfile;

use crate::clock::SimClock;
use crate::lab::{FurnaceBuild, Lab, LabSpec};
use crate::thermal::FurnaceSpec;
use crate::world::World;

pub use mqtt::{BrokerAddr, HostRequest};

/// Why the lab cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{file}: {message}")]
    File { file: String, message: String },
    #[error("serial line of {furnace}: {message}")]
    Serial { furnace: String, message: String },
    #[error("broker: {0}")]
    Broker(String),
}

fn file_error(file: &Path, message: impl Into<String>) -> SimError {
    SimError::File {
        file: file.display().to_string(),
        message: message.into(),
    }
}

/// Which broker the lab's MQTT instruments use.
#[derive(Debug, Clone)]
pub enum BrokerChoice {
    /// A broker that runs already (the daemon's embedded one, Mosquitto).
    External(BrokerAddr),
    /// A broker the lab runs itself on this loopback address (port 0: any free port).
    Hosted(SocketAddr),
}

/// How to start the lab.
#[derive(Debug, Clone)]
pub struct SimOptions {
    pub speed: f64,
    pub seed: u64,
    pub broker: BrokerChoice,
    /// Append every executed action here (JSON lines).
    pub action_log: Option<PathBuf>,
}

/// A lab file and everything it refers to, read and checked.
#[derive(Debug, Clone)]
pub struct LabFiles {
    pub spec: LabSpec,
    pub furnaces: Vec<(FurnaceBuild, String, toml::Table)>,
    pub profile: Option<InstrumentProfile>,
}

impl LabFiles {
    /// Reads a lab file and the model and profile files it names (relative to it).
    pub fn read(path: &Path) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| file_error(path, e.to_string()))?;
        let spec = crate::lab::spec::parse(&text).map_err(|m| file_error(path, m))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut furnaces = Vec::new();
        for (i, f) in spec.furnaces.iter().enumerate() {
            let model_path = dir.join(&f.model_file);
            let model_text = std::fs::read_to_string(&model_path).map_err(|e| {
                file_error(
                    path,
                    format!("furnaces[{i}].model_file: {}: {e}", model_path.display()),
                )
            })?;
            let map = RegisterMap::from_model_toml(&model_text)
                .map_err(|e| file_error(&model_path, e.to_string()))?;
            let table: toml::Table =
                toml::from_str(&model_text).map_err(|e| file_error(&model_path, e.to_string()))?;
            let model = table
                .get("model")
                .and_then(|m| m.as_str())
                .unwrap_or("simulated")
                .to_owned();
            let register_map = match table.get("register_map") {
                Some(toml::Value::Table(t)) => t.clone(),
                _ => return Err(file_error(&model_path, "no [register_map]")),
            };
            InstrumentId::parse(&f.id)
                .map_err(|e| file_error(path, format!("furnaces[{i}].id: {e}")))?;
            furnaces.push((
                FurnaceBuild {
                    id: f.id.clone(),
                    map,
                    unit: f.unit_id,
                    spec: FurnaceSpec {
                        plant: f.plant,
                        pid: f.pid,
                        alarm_c: f.alarm_c,
                        ..FurnaceSpec::default()
                    },
                },
                model,
                register_map,
            ));
        }
        let profile = match &spec.diffractometer {
            None => None,
            Some(d) => Some(match InstrumentProfile::builtin(&d.profile) {
                Ok(p) => p,
                Err(_) => {
                    let p = dir.join(&d.profile);
                    let t = std::fs::read_to_string(&p).map_err(|e| {
                        file_error(
                            path,
                            format!("diffractometer.profile: {}: {e}", p.display()),
                        )
                    })?;
                    InstrumentProfile::from_toml(&t).map_err(|e| file_error(&p, e.to_string()))?
                }
            }),
        };
        for (what, id) in spec
            .diffractometer
            .iter()
            .map(|d| ("diffractometer.id", &d.id))
            .chain(
                spec.deposition_tool
                    .iter()
                    .map(|d| ("deposition_tool.id", &d.id)),
            )
            .chain(
                spec.sample_handler
                    .iter()
                    .map(|d| ("sample_handler.id", &d.id)),
            )
        {
            InstrumentId::parse(id).map_err(|e| file_error(path, format!("{what}: {e}")))?;
        }
        Ok(Self {
            spec,
            furnaces,
            profile,
        })
    }
}

/// One furnace's serial line.
#[derive(Debug, Clone)]
pub struct SimFurnace {
    pub id: String,
    /// The device path the daemon opens (the pty's slave end, or the link to it).
    pub port: String,
}

/// The running lab.
#[derive(Debug)]
pub struct SimLab {
    pub lab: Arc<Mutex<Lab>>,
    pub clock: SimClock,
    pub furnaces: Vec<SimFurnace>,
    /// Where MQTT controllers connect.
    pub broker: BrokerAddr,
    instruments: Vec<InstrumentConfig>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    hosted: Arc<tokio::sync::Mutex<Option<EmbeddedBroker>>>,
    /// The ptys' slave ends, held open so the lines never hang up between daemon reconnects.
    _held: Vec<SerialStream>,
    links: Vec<PathBuf>,
}

impl SimLab {
    /// Starts the lab in `world` with `files`, on `clock`.
    pub async fn start(
        world: World,
        files: LabFiles,
        options: SimOptions,
        clock: SimClock,
    ) -> Result<Self, SimError> {
        let spec = files.spec.clone();
        let lab = Lab::new(
            Arc::new(world),
            &spec,
            files.furnaces.iter().map(|(f, _, _)| f.clone()).collect(),
            files.profile.clone(),
            options.seed,
            clock.elapsed_s(),
        );
        let lab = Arc::new(Mutex::new(lab));
        let shutdown = CancellationToken::new();
        let mut tasks = Vec::new();
        let mut held = Vec::new();
        let mut links = Vec::new();
        let mut furnaces = Vec::new();
        let mut instruments = Vec::new();

        for ((build, model, register_map), file) in files.furnaces.iter().zip(&spec.furnaces) {
            let (master, slave) = SerialStream::pair().map_err(|e| SimError::Serial {
                furnace: build.id.clone(),
                message: format!("cannot open a pty: {e}"),
            })?;
            let pts = slave.name().ok_or_else(|| SimError::Serial {
                furnace: build.id.clone(),
                message: "the pty has no name".into(),
            })?;
            let port = match &file.link {
                Some(link) => {
                    let link = PathBuf::from(link);
                    if let Some(dir) = link.parent().filter(|d| !d.as_os_str().is_empty()) {
                        let _ = std::fs::create_dir_all(dir);
                    }
                    let _ = std::fs::remove_file(&link);
                    std::os::unix::fs::symlink(&pts, &link).map_err(|e| SimError::Serial {
                        furnace: build.id.clone(),
                        message: format!("cannot link {} to {pts}: {e}", link.display()),
                    })?;
                    links.push(link.clone());
                    link.display().to_string()
                }
                None => pts.clone(),
            };
            tracing::info!(furnace = %build.id, %port, pty = %pts, "simulated furnace controller on a serial line");
            held.push(slave);
            tasks.push(tokio::spawn(serial::serve_furnace(
                lab.clone(),
                build.id.clone(),
                master,
                clock,
                shutdown.child_token(),
            )));
            instruments.push(furnace_config(build, model, register_map, file, &port)?);
            furnaces.push(SimFurnace {
                id: build.id.clone(),
                port,
            });
        }

        let hosted = Arc::new(tokio::sync::Mutex::new(None));
        let broker = match &options.broker {
            BrokerChoice::External(a) => a.clone(),
            BrokerChoice::Hosted(addr) => {
                let b = EmbeddedBroker::start(BrokerSettings {
                    listen: *addr,
                    ..BrokerSettings::loopback(addr.port())
                })
                .await
                .map_err(|e| SimError::Broker(e.to_string()))?;
                let a = b.local_addr();
                *hosted.lock().await = Some(b);
                BrokerAddr {
                    host: a.ip().to_string(),
                    port: a.port(),
                    credentials: None,
                }
            }
        };
        let (host_tx, host_rx) = mpsc::channel(8);
        if matches!(options.broker, BrokerChoice::Hosted(_)) {
            tasks.push(tokio::spawn(restart_on_request(
                hosted.clone(),
                host_rx,
                clock,
                shutdown.child_token(),
            )));
        }
        let mqtt_instruments = lab
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .mqtt_instruments();
        for (id, class) in mqtt_instruments {
            let iid = InstrumentId::parse(&id).map_err(|e| SimError::Broker(e.to_string()))?;
            instruments.push(mqtt_config(&iid, class));
            tasks.push(tokio::spawn(mqtt::run_controller(
                lab.clone(),
                iid,
                broker.clone(),
                clock,
                matches!(options.broker, BrokerChoice::Hosted(_)).then(|| host_tx.clone()),
                shutdown.child_token(),
            )));
        }
        tasks.push(tokio::spawn(tick(
            lab.clone(),
            clock,
            options.action_log.clone(),
            shutdown.child_token(),
        )));
        Ok(Self {
            lab,
            clock,
            furnaces,
            broker,
            instruments,
            shutdown,
            tasks,
            hosted,
            _held: held,
            links,
        })
    }

    /// The daemon's instrument configuration for this lab (serial furnaces at their ports, MQTT
    /// controllers by id).
    pub fn instrument_configs(&self) -> &[InstrumentConfig] {
        &self.instruments
    }

    /// Runs `f` on the lab's state (tests read the truth and the action log this way).
    pub fn with_lab<T>(&self, f: impl FnOnce(&mut Lab) -> T) -> T {
        let mut lab = self.lab.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut lab)
    }

    /// Stops every controller (they publish `offline` first) and the hosted broker.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(b) = self.hosted.lock().await.take() {
            let _ = tokio::task::spawn_blocking(move || b.shutdown()).await;
        }
        for l in &self.links {
            let _ = std::fs::remove_file(l);
        }
    }
}

fn furnace_config(
    build: &FurnaceBuild,
    model: &str,
    register_map: &toml::Table,
    file: &crate::lab::spec::FurnaceSpecFile,
    port: &str,
) -> Result<InstrumentConfig, SimError> {
    let id = InstrumentId::parse(&build.id).map_err(|e| SimError::Serial {
        furnace: build.id.clone(),
        message: e.to_string(),
    })?;
    Ok(InstrumentConfig {
        id,
        class: InstrumentClass::Furnace,
        name: format!("Simulated furnace {} ({model})", build.id),
        description: Some("athanor-sim: thermal model behind a simulated controller".into()),
        transport: Some(Transport::Serial(SerialSettings {
            port: port.to_owned(),
            baud: 9600,
            parity: Parity::None,
            data_bits: 8,
            stop_bits: 1,
            unit_id: build.unit,
            timeout_ms: 500,
            retries: 2,
            backoff_ms: 100,
        })),
        limits: Limits {
            max_temperature_c: Some(file.max_temperature_c),
            min_temperature_c: Some(0.0),
            max_ramp_c_per_min: Some(file.max_ramp_c_per_min),
            max_duration_min: Some(file.max_duration_min),
            ..Limits::default()
        },
        model: Some(model.to_owned()),
        register_map: Some(register_map.clone()),
        profile: None,
        source: "simulated lab".into(),
    })
}

fn mqtt_config(id: &InstrumentId, class: InstrumentClass) -> InstrumentConfig {
    InstrumentConfig {
        id: id.clone(),
        class,
        name: format!("Simulated {id}"),
        description: Some("athanor-sim: MQTT controller over the simulated lab".into()),
        transport: Some(Transport::Mqtt(toml::Table::new())),
        limits: Limits::default(),
        model: None,
        register_map: None,
        profile: None,
        source: "simulated lab".into(),
    }
}

/// Advances the furnaces' thermal models on the lab clock (so a furnace heats whether or not
/// the daemon polls it) and appends new actions to the log file.
async fn tick(
    lab: Arc<Mutex<Lab>>,
    clock: SimClock,
    log: Option<PathBuf>,
    shutdown: CancellationToken,
) {
    let mut written = 0usize;
    let mut file = log.and_then(|p| {
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(
                |e| tracing::warn!(file = %p.display(), error = %e, "cannot open the action log"),
            )
            .ok()
    });
    let mut every = tokio::time::interval(Duration::from_millis(50));
    loop {
        let stop = tokio::select! {
            _ = shutdown.cancelled() => true,
            _ = every.tick() => false,
        };
        let fresh: Vec<String> = {
            let mut lab = lab.lock().unwrap_or_else(|p| p.into_inner());
            lab.advance_to(clock.elapsed_s());
            let new = lab.log().since(written);
            written += new.len();
            new.iter()
                .filter_map(|a| serde_json::to_string(a).ok())
                .collect()
        };
        if let Some(f) = file.as_mut() {
            for line in fresh {
                let _ = writeln!(f, "{line}");
            }
            let _ = f.flush();
        }
        if stop {
            return;
        }
    }
}

/// Restarts the hosted broker when a controller's fault asks for it.
async fn restart_on_request(
    hosted: Arc<tokio::sync::Mutex<Option<EmbeddedBroker>>>,
    mut requests: mpsc::Receiver<HostRequest>,
    clock: SimClock,
    shutdown: CancellationToken,
) {
    loop {
        let req = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = requests.recv() => match r { Some(r) => r, None => return },
        };
        let HostRequest::RestartBroker { down_s } = req;
        let Some(b) = hosted.lock().await.take() else {
            continue;
        };
        let addr = b.local_addr();
        tracing::warn!(%addr, "fault: restarting the hosted MQTT broker");
        let _ = tokio::task::spawn_blocking(move || b.shutdown()).await;
        tokio::time::sleep(clock.wall_for(down_s).max(Duration::from_millis(200))).await;
        for _ in 0..50 {
            match EmbeddedBroker::start(BrokerSettings::loopback(addr.port())).await {
                Ok(b) => {
                    *hosted.lock().await = Some(b);
                    break;
                }
                Err(e) => {
                    tracing::debug!(error = %e, "the broker's port is not free yet");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }
}
