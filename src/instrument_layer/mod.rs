//! The instrument layer inside the daemon: instruments from `config/instruments/` registered in
//! the store, the MQTT broker (embedded unless an external one is configured), the MQTT driver
//! with its telemetry ingest and the commands a restart takes over, serial furnaces polled for
//! status and telemetry, and telemetry downsampling.

pub mod clock;
pub mod housekeeping;
pub mod serial;
pub mod status;

use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use athanor_core::{InstrumentLimits, NewInstrument};
use athanor_drivers::instrument::config::load_dir;
use athanor_drivers::instrument::{InstrumentConfig, InstrumentSet, Transport};
use athanor_drivers::mqtt::{
    BrokerChoice, EmbeddedBroker, IngestConfig, MqttDriver, MqttHandle, TelemetryIngest,
};
use athanor_store::{Store, StoreError};

use athanor_sim::serve::{BrokerAddr, BrokerChoice as LabBroker, LabFiles, SimLab, SimOptions};
use athanor_sim::{SimClock, World};

use crate::config::Config;
use clock::DaemonClock;

/// A simulated lab for the daemon to host in-process (`athanor serve --sim WORLD`).
#[derive(Debug, Clone)]
pub struct HostedLab {
    pub world: std::path::PathBuf,
    pub lab: std::path::PathBuf,
    pub speed: f64,
    pub seed: u64,
}

/// The running instrument layer. Stop it with [`InstrumentLayer::stop`] after cancelling the
/// shutdown token it was started with.
#[derive(Debug)]
pub struct InstrumentLayer {
    broker: Option<EmbeddedBroker>,
    mqtt: MqttHandle,
    ingest: TelemetryIngest,
    tasks: Vec<JoinHandle<()>>,
    sim: Option<SimLab>,
}

/// Reads the instrument directory; a directory that does not exist means no instruments.
pub fn load_instruments(dir: &Path) -> anyhow::Result<InstrumentSet> {
    if !dir.is_dir() {
        tracing::warn!(dir = %dir.display(), "instrument directory not found: no instruments configured (set instruments.dir)");
        return Ok(InstrumentSet::default());
    }
    load_dir(dir).with_context(|| format!("instrument directory {}", dir.display()))
}

/// The store's record of a configured instrument.
pub fn to_record(c: &InstrumentConfig) -> anyhow::Result<NewInstrument> {
    let transport = match &c.transport {
        Some(t) => serde_json::to_value(t)?,
        None => serde_json::json!({ "kind": "none" }),
    };
    Ok(NewInstrument {
        id: c.id.clone(),
        name: c.name.clone(),
        class: c.class,
        transport,
        // The operator-facing copy of the limits the store holds room for; the drivers
        // enforce the file's full set.
        limits: InstrumentLimits {
            max_temperature_c: c.limits.max_temperature_c,
            max_ramp_c_per_min: c.limits.max_ramp_c_per_min,
            min_two_theta: c.limits.min_two_theta,
            max_two_theta: c.limits.max_two_theta,
        },
    })
}

/// Registers every configured instrument the store does not know yet.
pub async fn register_configured(store: &Store, set: &InstrumentSet) -> anyhow::Result<()> {
    for c in set.instruments.values() {
        match store.register_instrument(to_record(c)?, "config").await {
            Ok(_) => tracing::info!(instrument = %c.id, file = %c.source, "instrument registered"),
            Err(StoreError::Conflict(_)) => {}
            Err(e) => return Err(e).with_context(|| format!("registering {}", c.id)),
        }
    }
    Ok(())
}

/// How long start-up waits for the broker to confirm the daemon's subscriptions.
const SUBSCRIBE_WAIT: Duration = Duration::from_secs(10);

/// Waits until the broker has confirmed the daemon's subscriptions, so that the API does not
/// come up while controllers' messages would still be missed; returns the events seen
/// meanwhile. An unreachable broker is not fatal: the driver keeps reconnecting.
async fn await_subscriptions(
    events: &mut tokio::sync::broadcast::Receiver<athanor_drivers::mqtt::DriverEvent>,
) -> Vec<athanor_drivers::mqtt::DriverEvent> {
    use athanor_drivers::mqtt::DriverEvent;
    let mut seen = Vec::new();
    let wait = async {
        loop {
            match events.recv().await {
                Ok(DriverEvent::Subscribed) => return,
                Ok(other) => seen.push(other),
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    };
    if tokio::time::timeout(SUBSCRIBE_WAIT, wait).await.is_err() {
        tracing::warn!(
            "the MQTT broker has not confirmed the daemon's subscriptions within {SUBSCRIBE_WAIT:?}; going on (the driver keeps reconnecting)"
        );
    }
    seen
}

impl InstrumentLayer {
    /// Starts everything; fails with the reason when the broker cannot listen or the
    /// configuration is unusable.
    pub async fn start(
        config: &Config,
        store: &Store,
        shutdown: &CancellationToken,
        hosted: Option<&HostedLab>,
    ) -> anyhow::Result<Self> {
        // A hosted lab brings its own instruments and its clock; the configured ones are not
        // used beside it (they would share ids such as furnace-1 with different lines).
        let (lab_parts, clock) = match hosted {
            Some(h) => {
                let text = std::fs::read_to_string(&h.world)
                    .with_context(|| format!("world file {}", h.world.display()))?;
                let world = World::from_toml(&text)
                    .with_context(|| format!("world file {}", h.world.display()))?;
                let files = LabFiles::read(&h.lab)?;
                let clock = SimClock::new(h.speed);
                (Some((world, files)), DaemonClock::Lab(clock))
            }
            None => (None, DaemonClock::Wall),
        };
        let mut set = if lab_parts.is_some() {
            InstrumentSet::default()
        } else {
            load_instruments(&config.instruments.dir)?
        };

        let mut mqtt = config.mqtt()?;
        let broker = match mqtt.embedded_broker_settings() {
            Some(settings) => {
                let b = EmbeddedBroker::start(settings).await.context(
                    "the embedded MQTT broker cannot start (set mqtt.listen or --mqtt-listen to a free port, or mqtt.url to use an external broker)",
                )?;
                if let BrokerChoice::Embedded { listen, .. } = &mut mqtt.broker {
                    *listen = b.local_addr();
                }
                Some(b)
            }
            None => None,
        };
        let broker_addr = mqtt.connect_addr();
        tracing::info!(host = %broker_addr.0, port = broker_addr.1, embedded = broker.is_some(), "MQTT broker for instrument controllers");

        let sim = match (lab_parts, hosted, clock) {
            (Some((world, files)), Some(h), DaemonClock::Lab(lab_clock)) => {
                let lab = SimLab::start(
                    world,
                    files,
                    SimOptions {
                        speed: h.speed,
                        seed: h.seed,
                        broker: LabBroker::External(BrokerAddr {
                            host: broker_addr.0.clone(),
                            port: broker_addr.1,
                            credentials: None,
                        }),
                        action_log: Some(config.storage.data_dir.join("sim-actions.jsonl")),
                    },
                    lab_clock,
                )
                .await
                .context("the simulated lab cannot start")?;
                for c in lab.instrument_configs() {
                    set.instruments.insert(c.id.as_str().to_owned(), c.clone());
                }
                tracing::info!(world = %h.world.display(), speed = h.speed, seed = h.seed, "hosting the simulated lab");
                Some(lab)
            }
            _ => None,
        };
        register_configured(store, &set).await?;
        mqtt.tracker = mqtt.tracker.scaled(clock.speed());

        let ingest = TelemetryIngest::spawn(store.clone(), IngestConfig::default());
        let (handle, mut events) = MqttDriver::spawn(
            &mqtt,
            store.clone(),
            Some(ingest.sender()),
            clock,
            shutdown.child_token(),
        )?;
        let backlog = await_subscriptions(&mut events).await;
        let mut tasks = vec![tokio::spawn(status::follow(
            store.clone(),
            backlog,
            events,
            shutdown.clone(),
        ))];

        // Commands a previous run left unfinished: the MQTT driver asks their controllers what
        // became of them (never re-sending a command that may have run).
        let unfinished: Vec<_> = store
            .list_unfinished_commands(None)
            .await?
            .into_iter()
            .filter(|c| {
                !set.instruments
                    .get(c.instrument_id.as_str())
                    .is_some_and(|i| matches!(i.transport, Some(Transport::Serial(_))))
            })
            .collect();
        if !unfinished.is_empty() {
            tracing::info!(count = unfinished.len(), "taking over unfinished commands");
            handle.restore(unfinished).await?;
        }

        let every = Duration::from_secs(config.instruments.poll_interval_secs);
        for c in set
            .instruments
            .values()
            .filter(|c| serial::is_serial_furnace(c))
        {
            tasks.push(tokio::spawn(serial::poll_furnace(
                c.clone(),
                store.clone(),
                ingest.sender(),
                every,
                clock,
                shutdown.clone(),
            )));
        }
        tasks.push(tokio::spawn(housekeeping::downsample_periodically(
            store.clone(),
            config.telemetry.clone(),
            shutdown.clone(),
        )));
        Ok(Self {
            broker,
            mqtt: handle,
            ingest,
            tasks,
            sim,
        })
    }

    /// Waits for the layer's tasks to end (cancel the shutdown token first), stores the
    /// telemetry still queued, and stops the embedded broker.
    pub async fn stop(self) {
        self.mqtt.join().await;
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(sim) = self.sim {
            sim.stop().await;
        }
        let stats = self.ingest.close().await;
        tracing::info!(
            stored = stats.stored,
            lost = stats.lost,
            "telemetry ingest closed"
        );
        if let Some(b) = self.broker {
            let _ = tokio::task::spawn_blocking(move || b.shutdown()).await;
        }
    }
}
