//! The thin I/O loop around the tracker: one task polls rumqttc's event loop, another feeds what
//! arrives to the [`Tracker`] and the telemetry ingest, records every state change through a
//! [`CommandJournal`] before publishing what follows from it, and fires the tracker's timers.
//!
//! The loop never blocks on publishing (it queues with `try_publish` and retries), so the two
//! tasks cannot wait on each other. A lost broker connection is reported as
//! [`DriverEvent::Disconnected`]; rumqttc reconnects with the same persistent session, and on
//! every (re)connection the tracker re-sends and queries what is in flight.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use rumqttc::{
    AsyncClient, ClientError, Event, EventLoop, MqttOptions, NetworkOptions, Packet, QoS,
    SubscribeFilter, TlsConfiguration, Transport,
};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use athanor_core::{Command, CommandId, InstrumentId};
use athanor_store::{Store, TelemetryRecord};

use super::config::MqttConfig;
use super::ingest::IngestSender;
use super::messages::{decode_inbound, Inbound, ProgressMsg, StatusMsg, MAX_PAYLOAD_BYTES};
use super::topics;
use super::tracker::{Action, Alarm, CommandOutcome, OutboundCommand, Publish, Record, Tracker};
use super::MqttError;

/// Where the driver reads the time. Tests substitute their own; the simulated lab's clock runs
/// faster than the wall clock.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> DateTime<Utc>;
    /// How long to sleep on the wall clock for `d` to pass on this clock.
    fn wall(&self, d: Duration) -> Duration {
        d
    }
}

/// The system's wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// Where the driver records command state changes, durably, before it goes on.
pub trait CommandJournal: Send + Sync + 'static {
    fn record(&self, r: &Record) -> impl Future<Output = Result<(), MqttError>> + Send;
}

impl CommandJournal for Store {
    async fn record(&self, r: &Record) -> Result<(), MqttError> {
        self.apply_command_action(r.command_id, r.action, r.result.clone(), "mqtt")
            .await
            .map(|_| ())
            .map_err(|e| MqttError::Journal(e.to_string()))
    }
}

/// What the driver reports to the rest of the daemon.
#[derive(Debug, Clone, PartialEq)]
pub enum DriverEvent {
    Connected {
        session_present: bool,
    },
    /// The broker confirmed the daemon's subscriptions: from now on nothing controllers
    /// publish is missed.
    Subscribed,
    /// The broker connection is lost; the driver keeps trying to reconnect.
    Disconnected {
        error: String,
    },
    Progress {
        instrument: InstrumentId,
        progress: ProgressMsg,
    },
    Finished {
        command_id: CommandId,
        instrument: InstrumentId,
        outcome: CommandOutcome,
    },
    Alarm(Alarm),
    Status {
        instrument: InstrumentId,
        status: StatusMsg,
    },
    /// A message that is not part of the contract (bad topic, bad JSON, wrong version).
    Malformed {
        topic: String,
        error: String,
    },
    /// The driver stopped because it could not record a state change.
    Stopped {
        error: String,
    },
}

enum Request {
    Submit(
        OutboundCommand,
        oneshot::Sender<Result<oneshot::Receiver<CommandOutcome>, MqttError>>,
    ),
    Restore(Vec<Command>, oneshot::Sender<()>),
}

/// The daemon's handle on a running driver.
#[derive(Debug)]
pub struct MqttHandle {
    requests: mpsc::Sender<Request>,
    events: broadcast::Sender<DriverEvent>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Request::Submit(c, _) => write!(f, "Submit({})", c.id),
            Request::Restore(v, _) => write!(f, "Restore({} commands)", v.len()),
        }
    }
}

impl MqttHandle {
    /// Sends a command that the store holds as `pending`. Returns once `sent` is recorded and the
    /// message is queued for the broker; the receiver yields the command's outcome.
    pub async fn submit(
        &self,
        cmd: OutboundCommand,
    ) -> Result<oneshot::Receiver<CommandOutcome>, MqttError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(Request::Submit(cmd, tx))
            .await
            .map_err(|_| MqttError::Stopped)?;
        rx.await.map_err(|_| MqttError::Stopped)?
    }

    /// Takes over the unfinished commands found in the store after a restart.
    pub async fn restore(&self, commands: Vec<Command>) -> Result<(), MqttError> {
        let (tx, rx) = oneshot::channel();
        self.requests
            .send(Request::Restore(commands, tx))
            .await
            .map_err(|_| MqttError::Stopped)?;
        rx.await.map_err(|_| MqttError::Stopped)
    }

    /// Events from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<DriverEvent> {
        self.events.subscribe()
    }

    /// Waits for the driver to stop (after its shutdown token is cancelled).
    pub async fn join(self) {
        let _ = self.task.await;
    }
}

/// Builds and starts the driver.
#[derive(Debug)]
pub struct MqttDriver;

/// The rumqttc options the daemon connects with.
pub fn client_options(config: &MqttConfig) -> Result<MqttOptions, MqttError> {
    let (host, port) = config.connect_addr();
    let mut o = MqttOptions::new(config.client_id.clone(), host, port);
    o.set_keep_alive(config.keep_alive)
        .set_clean_session(false)
        .set_max_packet_size(MAX_PAYLOAD_BYTES + 64 * 1024, MAX_PAYLOAD_BYTES + 64 * 1024)
        .set_inflight(200);
    if let Some(c) = &config.credentials {
        o.set_credentials(c.username.clone(), c.password.expose().to_owned());
    }
    if config.uses_tls() {
        let read = |key: &str, p: &std::path::Path| {
            std::fs::read(p).map_err(|e| MqttError::config(key, format!("{}: {e}", p.display())))
        };
        let tls = config.tls.clone().unwrap_or_default();
        let client_auth = match (&tls.cert_file, &tls.key_file) {
            (Some(c), Some(k)) => Some((read("tls.cert_file", c)?, read("tls.key_file", k)?)),
            _ => None,
        };
        let transport = match &tls.ca_file {
            Some(ca) => Transport::tls_with_config(TlsConfiguration::Simple {
                ca: read("tls.ca_file", ca)?,
                alpn: None,
                client_auth,
            }),
            None if client_auth.is_none() => Transport::tls_with_default_config(),
            None => {
                return Err(MqttError::config(
                    "tls.ca_file",
                    "a client certificate needs the CA that signs the broker's certificate",
                ))
            }
        };
        o.set_transport(transport);
    }
    Ok(o)
}

impl MqttDriver {
    /// Connects with `config` and runs until `shutdown` is cancelled. `ingest` receives telemetry
    /// (dropped when None). The receiver returned with the handle sees every event from the
    /// start (the first connection included); [`MqttHandle::subscribe`] sees those after it.
    pub fn spawn<J: CommandJournal, C: Clock>(
        config: &MqttConfig,
        journal: J,
        ingest: Option<IngestSender>,
        clock: C,
        shutdown: CancellationToken,
    ) -> Result<(MqttHandle, broadcast::Receiver<DriverEvent>), MqttError> {
        let options = client_options(config)?;
        let (client, mut eventloop) = AsyncClient::new(options, 4096);
        // Small packets (PUBACKs, commands) go out at once: with Nagle's algorithm on either
        // side, a broker's QoS 1 window to the daemon stalls on delayed ACKs (about 200 msg/s
        // from Mosquitto instead of tens of thousands).
        let mut network = NetworkOptions::new();
        network.set_tcp_nodelay(true);
        eventloop.set_network_options(network);
        let (events, first) = broadcast::channel(4096);
        let (requests, requests_rx) = mpsc::channel(64);
        let (incoming_tx, incoming_rx) = mpsc::channel(8192);
        let poller = tokio::spawn(poll(eventloop, incoming_tx, shutdown.clone()));
        let state = Loop {
            client,
            tracker: Tracker::new(config.tracker),
            journal,
            ingest,
            clock: Arc::new(clock),
            events: events.clone(),
            outbox: VecDeque::new(),
            waiters: HashMap::new(),
        };
        let task = tokio::spawn(state.run(incoming_rx, requests_rx, shutdown, poller));
        Ok((
            MqttHandle {
                requests,
                events,
                task,
            },
            first,
        ))
    }
}

/// What the poller hands to the loop.
enum Incoming {
    Event(Event),
    Error(String),
}

/// Polls rumqttc until shutdown; after a connection error, waits before the next attempt
/// (rumqttc reconnects on the next poll).
async fn poll(mut eventloop: EventLoop, tx: mpsc::Sender<Incoming>, shutdown: CancellationToken) {
    let mut backoff = Duration::from_millis(100);
    loop {
        let next = tokio::select! {
            _ = shutdown.cancelled() => break,
            e = eventloop.poll() => e,
        };
        let item = match next {
            Ok(e) => {
                if matches!(e, Event::Incoming(Packet::ConnAck(_))) {
                    backoff = Duration::from_millis(100);
                }
                Incoming::Event(e)
            }
            Err(e) => Incoming::Error(e.to_string()),
        };
        let failed = matches!(item, Incoming::Error(_));
        if tx.send(item).await.is_err() {
            break;
        }
        if failed {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(Duration::from_secs(5));
        }
    }
    // Let a queued DISCONNECT go out (the loop sends it on shutdown).
    let _ = tokio::time::timeout(Duration::from_millis(200), async {
        while let Ok(e) = eventloop.poll().await {
            if matches!(e, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                break;
            }
        }
    })
    .await;
}

struct Loop<J, C> {
    client: AsyncClient,
    tracker: Tracker,
    journal: J,
    ingest: Option<IngestSender>,
    clock: Arc<C>,
    events: broadcast::Sender<DriverEvent>,
    outbox: VecDeque<Publish>,
    waiters: HashMap<CommandId, oneshot::Sender<CommandOutcome>>,
}

impl<J: CommandJournal, C: Clock> Loop<J, C> {
    async fn run(
        mut self,
        mut incoming: mpsc::Receiver<Incoming>,
        mut requests: mpsc::Receiver<Request>,
        shutdown: CancellationToken,
        poller: JoinHandle<()>,
    ) {
        let mut connected = false;
        let mut retry_outbox = tokio::time::interval(Duration::from_millis(20));
        loop {
            self.flush();
            let wait = self.tracker.next_due().map(|due| {
                let left = (due - self.clock.now()).to_std().unwrap_or(Duration::ZERO);
                self.clock.wall(left)
            });
            let timer = async {
                match wait {
                    Some(d) => tokio::time::sleep(d).await,
                    None => std::future::pending().await,
                }
            };
            let result = tokio::select! {
                biased;
                _ = shutdown.cancelled() => break,
                item = incoming.recv() => match item {
                    None => break,
                    Some(Incoming::Event(e)) => self.on_event(e, &mut connected).await,
                    Some(Incoming::Error(error)) => {
                        if connected {
                            tracing::warn!(%error, "MQTT broker connection lost");
                            let _ = self.events.send(DriverEvent::Disconnected { error });
                        }
                        connected = false;
                        Ok(())
                    }
                },
                req = requests.recv() => match req {
                    None => break,
                    Some(r) => self.on_request(r).await,
                },
                _ = timer => {
                    let actions = self.tracker.on_tick(self.clock.now());
                    self.execute(actions).await
                },
                _ = retry_outbox.tick(), if !self.outbox.is_empty() => Ok(()),
            };
            if let Err(e) = result {
                tracing::error!(error = %e, "MQTT driver stops: a command state change could not be recorded");
                let _ = self.events.send(DriverEvent::Stopped {
                    error: e.to_string(),
                });
                break;
            }
        }
        let _ = self.client.try_disconnect();
        shutdown.cancel();
        let _ = poller.await;
    }

    /// Queues what waits in the outbox until rumqttc's request channel is full.
    fn flush(&mut self) {
        while let Some(p) = self.outbox.front() {
            match self.client.try_publish(
                p.topic.clone(),
                QoS::AtLeastOnce,
                false,
                p.payload.clone(),
            ) {
                Ok(()) => {
                    self.outbox.pop_front();
                }
                Err(ClientError::TryRequest(_)) | Err(ClientError::Request(_)) => break,
            }
        }
    }

    async fn on_event(&mut self, e: Event, connected: &mut bool) -> Result<(), MqttError> {
        match e {
            Event::Incoming(Packet::ConnAck(ack)) => {
                *connected = true;
                let filters = topics::daemon_filters()
                    .into_iter()
                    .map(|f| SubscribeFilter::new(f, QoS::AtLeastOnce));
                if let Err(e) = self.client.try_subscribe_many(filters) {
                    tracing::warn!(error = %e, "could not queue the subscriptions");
                }
                let _ = self.events.send(DriverEvent::Connected {
                    session_present: ack.session_present,
                });
                let actions = self.tracker.on_connected(self.clock.now());
                self.execute(actions).await
            }
            Event::Incoming(Packet::SubAck(_)) => {
                let _ = self.events.send(DriverEvent::Subscribed);
                Ok(())
            }
            Event::Incoming(Packet::Publish(p)) => {
                let (instrument, kind) = match topics::parse(&p.topic) {
                    Ok(x) => x,
                    Err(e) => {
                        self.malformed(&p.topic, e);
                        return Ok(());
                    }
                };
                match decode_inbound(kind, &p.payload) {
                    Err(e) => {
                        self.malformed(&p.topic, e);
                        Ok(())
                    }
                    Ok(Inbound::Telemetry(t)) => {
                        if let Some(ingest) = &self.ingest {
                            let record = TelemetryRecord::reading(
                                instrument,
                                t.at,
                                t.seq,
                                serde_json::Value::Object(t.values),
                                self.clock.now(),
                            );
                            if ingest.send(record).await.is_err() {
                                tracing::warn!("telemetry ingest has stopped; reading dropped");
                            }
                        }
                        Ok(())
                    }
                    Ok(msg) => {
                        let actions = self.tracker.on_message(&instrument, msg, self.clock.now());
                        self.execute(actions).await
                    }
                }
            }
            _ => Ok(()),
        }
    }

    fn malformed(&self, topic: &str, e: MqttError) {
        tracing::warn!(topic, error = %e, "message outside the contract dropped");
        let _ = self.events.send(DriverEvent::Malformed {
            topic: topic.to_owned(),
            error: e.to_string(),
        });
    }

    async fn on_request(&mut self, r: Request) -> Result<(), MqttError> {
        match r {
            Request::Submit(cmd, reply) => {
                let id = cmd.id;
                match self.tracker.submit(cmd, self.clock.now()) {
                    Err(e) => {
                        let _ = reply.send(Err(e));
                        Ok(())
                    }
                    Ok(actions) => {
                        let (tx, rx) = oneshot::channel();
                        self.waiters.insert(id, tx);
                        let r = self.execute(actions).await;
                        let _ = reply.send(match &r {
                            Ok(()) => Ok(rx),
                            Err(e) => Err(MqttError::Journal(e.to_string())),
                        });
                        r
                    }
                }
            }
            Request::Restore(commands, reply) => {
                let now = self.clock.now();
                let mut result = Ok(());
                for c in &commands {
                    let actions = self.tracker.restore(c, now);
                    result = self.execute(actions).await;
                    if result.is_err() {
                        break;
                    }
                }
                let _ = reply.send(());
                result
            }
        }
    }

    /// Carries out the tracker's actions in order; a state change is recorded (with retries)
    /// before anything after it happens.
    async fn execute(&mut self, actions: Vec<Action>) -> Result<(), MqttError> {
        for a in actions {
            match a {
                Action::Record(r) => {
                    let mut attempt = 0;
                    loop {
                        attempt += 1;
                        match self.journal.record(&r).await {
                            Ok(()) => break,
                            Err(e) if attempt < 3 => {
                                tracing::warn!(error = %e, command = %r.command_id, "retrying a command state change");
                                tokio::time::sleep(Duration::from_millis(50 * attempt)).await;
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
                Action::Publish(p) => self.outbox.push_back(p),
                Action::Progress {
                    instrument,
                    progress,
                } => {
                    let _ = self.events.send(DriverEvent::Progress {
                        instrument,
                        progress,
                    });
                }
                Action::Finished {
                    command_id,
                    instrument,
                    outcome,
                } => {
                    if let Some(w) = self.waiters.remove(&command_id) {
                        let _ = w.send(outcome.clone());
                    }
                    let _ = self.events.send(DriverEvent::Finished {
                        command_id,
                        instrument,
                        outcome,
                    });
                }
                Action::Alarm(alarm) => {
                    tracing::warn!(kind = ?alarm.kind, instrument = %alarm.instrument, "{}", alarm.message);
                    let _ = self.events.send(DriverEvent::Alarm(alarm));
                }
                Action::Status { instrument, status } => {
                    let _ = self.events.send(DriverEvent::Status { instrument, status });
                }
            }
        }
        self.flush();
        Ok(())
    }
}
