//! One simulated MQTT instrument controller: it follows docs/mqtt.md (persistent session with
//! its instrument id, a retained status with a last will, QoS 1 everywhere, commands through
//! the exactly-once [`Ledger`]), hands each new command to the lab ([`Lab::plan`]), waits the
//! action's lab time on the lab clock while publishing progress, and publishes the result the
//! lab gives ([`Lab::complete`]).
//!
//! Faults: `disconnect` drops the connection without a goodbye when a command arrives (the
//! broker publishes the will) and reconnects with the same session after `for_s`;
//! `stop_answering` ignores every command for `for_s`; `broker_restart` asks the host to
//! restart the broker it runs.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use rumqttc::{AsyncClient, Event, EventLoop, LastWill, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use athanor_core::{InstrumentId, InstrumentState};
use athanor_drivers::mqtt::client::Clock;
use athanor_drivers::mqtt::ledger::Ledger;
use athanor_drivers::mqtt::messages::{
    decode_cmd, encode, CmdMsg, CommandMsg, ProgressMsg, ResultError, ResultMsg, ResultOutcome,
    StatusMsg, TelemetryMsg, MAX_PAYLOAD_BYTES,
};
use athanor_drivers::mqtt::topics::{controller_filter, topic, TopicKind};
use athanor_drivers::mqtt::tracker::Publish;

use crate::clock::SimClock;
use crate::faults::fires;
use crate::lab::{Lab, Plan};

/// Where a controller connects.
#[derive(Debug, Clone)]
pub struct BrokerAddr {
    pub host: String,
    pub port: u16,
    /// User name and password, when the broker wants a login.
    pub credentials: Option<(String, String)>,
}

/// What a controller asks of the host.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HostRequest {
    /// Restart the hosted broker, down for this many lab seconds.
    RestartBroker { down_s: f64 },
}

/// A finished action, back from its task.
struct Done {
    command_id: athanor_core::CommandId,
    result: ResultMsg,
}

/// Runs the controller of `id` until `shutdown`.
pub async fn run_controller(
    lab: Arc<Mutex<Lab>>,
    id: InstrumentId,
    broker: BrokerAddr,
    clock: SimClock,
    host: Option<mpsc::Sender<HostRequest>>,
    shutdown: CancellationToken,
) {
    let status_topic = topic(&id, TopicKind::Status);
    let mut options = MqttOptions::new(id.as_str(), broker.host.clone(), broker.port);
    options
        .set_keep_alive(Duration::from_secs(5))
        .set_clean_session(false)
        .set_max_packet_size(MAX_PAYLOAD_BYTES + 64 * 1024, MAX_PAYLOAD_BYTES + 64 * 1024)
        .set_last_will(LastWill::new(
            status_topic.clone(),
            encode(&StatusMsg {
                state: InstrumentState::Offline,
                at: None,
                reason: Some("connection lost".into()),
                controller: Some(controller_name()),
            }),
            QoS::AtLeastOnce,
            true,
        ));
    if let Some((u, p)) = &broker.credentials {
        options.set_credentials(u.clone(), p.clone());
    }
    let (client, eventloop) = AsyncClient::new(options, 256);
    let mut c = Controller {
        lab,
        ledger: Ledger::new(id.clone()),
        id,
        client,
        clock,
        host,
        busy: None,
        silent_until_s: f64::NEG_INFINITY,
        telemetry_seq: 0,
    };
    c.run(eventloop, shutdown).await;
}

fn controller_name() -> String {
    format!("athanor-sim {}", env!("CARGO_PKG_VERSION"))
}

struct Controller {
    lab: Arc<Mutex<Lab>>,
    id: InstrumentId,
    client: AsyncClient,
    clock: SimClock,
    host: Option<mpsc::Sender<HostRequest>>,
    ledger: Ledger,
    /// The command executing now.
    busy: Option<athanor_core::CommandId>,
    silent_until_s: f64,
    telemetry_seq: u64,
}

impl Controller {
    fn lab(&self) -> std::sync::MutexGuard<'_, Lab> {
        self.lab.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    async fn run(&mut self, mut eventloop: EventLoop, shutdown: CancellationToken) {
        let (done_tx, mut done_rx) = mpsc::channel::<Done>(16);
        let mut offline_until: Option<tokio::time::Instant> = None;
        let mut telemetry = tokio::time::interval(Duration::from_secs(2));
        loop {
            if let Some(until) = offline_until {
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep_until(until) => { offline_until = None; }
                    Some(d) = done_rx.recv() => self.finished(d).await,
                }
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                Some(d) = done_rx.recv() => self.finished(d).await,
                _ = telemetry.tick() => self.telemetry().await,
                e = eventloop.poll() => match e {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => {
                        let _ = self.client.subscribe(controller_filter(&self.id), QoS::AtLeastOnce).await;
                        let state = if self.busy.is_some() { InstrumentState::Busy } else { InstrumentState::Idle };
                        self.status(state).await;
                    }
                    Ok(Event::Incoming(Packet::Publish(p))) => {
                        if p.retain {
                            continue; // stale by construction (docs/mqtt.md)
                        }
                        let Ok(msg) = decode_cmd(&p.payload) else {
                            tracing::warn!(instrument = %self.id, "a cmd message that is not part of the contract; ignored");
                            continue;
                        };
                        if let Some(pause) = self.on_cmd(msg, &done_tx).await {
                            // The disconnect fault: drop the socket without DISCONNECT (the broker
                            // publishes the will); what was in flight is re-sent on reconnect.
                            eventloop.clean();
                            eventloop.network = None;
                            offline_until = Some(tokio::time::Instant::now() + pause);
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        tracing::debug!(instrument = %self.id, error = %e, "controller connection error; reconnecting");
                        tokio::select! {
                            _ = shutdown.cancelled() => break,
                            _ = tokio::time::sleep(Duration::from_millis(200)) => {}
                        }
                    }
                },
            }
        }
        // Orderly shutdown: say offline, and wait for the broker's PUBACK before leaving.
        self.status(InstrumentState::Offline).await;
        let _ = self.client.disconnect().await;
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            while let Ok(e) = eventloop.poll().await {
                if matches!(e, Event::Outgoing(rumqttc::Outgoing::Disconnect)) {
                    break;
                }
            }
        })
        .await;
    }

    async fn publish_all(&self, publishes: Vec<Publish>) {
        for p in publishes {
            let _ = self
                .client
                .publish(p.topic, QoS::AtLeastOnce, false, p.payload)
                .await;
        }
    }

    async fn status(&self, state: InstrumentState) {
        let msg = StatusMsg {
            state,
            at: Some(self.now()),
            reason: None,
            controller: Some(controller_name()),
        };
        let _ = self
            .client
            .publish(
                topic(&self.id, TopicKind::Status),
                QoS::AtLeastOnce,
                true,
                encode(&msg),
            )
            .await;
    }

    async fn telemetry(&mut self) {
        let mut values = serde_json::Map::new();
        values.insert("busy".into(), json!(self.busy.is_some()));
        values.insert(
            "samples_on_stage".into(),
            json!(self
                .lab()
                .samples()
                .filter(|s| s.location == self.id.as_str())
                .count()),
        );
        let msg = TelemetryMsg {
            at: self.now(),
            seq: self.telemetry_seq,
            values,
        };
        self.telemetry_seq += 1;
        let _ = self.client.try_publish(
            topic(&self.id, TopicKind::Telemetry),
            QoS::AtLeastOnce,
            false,
            encode(&msg),
        );
    }

    /// Handles one `cmd` message; returns how long to stay disconnected when the disconnect
    /// fault fires.
    async fn on_cmd(&mut self, msg: CmdMsg, done: &mpsc::Sender<Done>) -> Option<Duration> {
        let now = self.now();
        let now_s = self.clock.seconds_at(now);
        if now_s < self.silent_until_s {
            return None;
        }
        let is_new_command = matches!(msg, CmdMsg::Command(_));
        if is_new_command {
            let mut lab = self.lab();
            if let Some(f) = lab.faults_mut(self.id.as_str()) {
                if fires(&mut f.stop_answering) {
                    let s = f.stop_answering.as_ref().map_or(0.0, |f| f.duration_s());
                    drop(lab);
                    self.silent_until_s = now_s + s;
                    return None;
                }
                if fires(&mut f.broker_restart) {
                    let down_s = f.broker_restart.as_ref().map_or(0.0, |f| f.duration_s());
                    if let Some(h) = &self.host {
                        let _ = h.try_send(HostRequest::RestartBroker { down_s });
                    }
                }
            }
        }
        let decision = self.ledger.on_cmd(msg, now);
        let Some(command) = decision.execute else {
            self.publish_all(decision.publish).await;
            return None;
        };
        let planned = if self.busy.is_some() {
            Err(crate::lab::Rejection {
                code: athanor_drivers::mqtt::messages::RejectCode::Busy,
                message: "another command is executing".into(),
            })
        } else {
            self.lab()
                .plan(self.id.as_str(), &command.action, &command.params)
        };
        let plan = match planned {
            Ok(p) => p,
            Err(r) => {
                let publish = self
                    .ledger
                    .reject(command.command_id, r.code, &r.message, now);
                self.publish_all(publish).await;
                return None;
            }
        };
        let expected = self.clock.at(now_s + plan.duration_s);
        self.publish_all(
            decision
                .publish
                .into_iter()
                .map(|p| with_expected_done(p, expected))
                .collect(),
        )
        .await;
        self.busy = Some(command.command_id);
        self.status(InstrumentState::Busy).await;
        let disconnect = self.lab().faults_mut(self.id.as_str()).and_then(|f| {
            fires(&mut f.disconnect).then(|| f.disconnect.as_ref().map_or(0.0, |f| f.duration_s()))
        });
        self.spawn_job(command, plan, done.clone());
        disconnect.map(|s| self.clock.wall_for(s).max(Duration::from_millis(500)))
    }

    /// Waits the action's lab time (publishing progress), then completes it in the lab.
    fn spawn_job(&self, command: CommandMsg, plan: Plan, done: mpsc::Sender<Done>) {
        let lab = self.lab.clone();
        let clock = self.clock;
        let client = self.client.clone();
        let id = self.id.clone();
        tokio::spawn(async move {
            let start_s = clock.elapsed_s();
            const STEPS: u32 = 4;
            for i in 1..STEPS {
                tokio::time::sleep(clock.wall_for(plan.duration_s / f64::from(STEPS))).await;
                let p = ProgressMsg {
                    command_id: command.command_id,
                    at: Some(clock.now()),
                    fraction: Some(f64::from(i) / f64::from(STEPS)),
                    stage: Some(command.action.clone()),
                    message: None,
                };
                let _ = client
                    .publish(
                        topic(&id, TopicKind::Progress),
                        QoS::AtLeastOnce,
                        false,
                        encode(&p),
                    )
                    .await;
            }
            let end_s = start_s + plan.duration_s;
            tokio::time::sleep(clock.wall_for(end_s - clock.elapsed_s())).await;
            let completed = {
                let mut lab = lab.lock().unwrap_or_else(|p| p.into_inner());
                lab.complete(
                    id.as_str(),
                    &command.command_id.to_string(),
                    plan,
                    clock.elapsed_s(),
                )
            };
            let finished_at = Some(clock.now());
            let result = match completed {
                Ok(data) => ResultMsg {
                    command_id: command.command_id,
                    outcome: ResultOutcome::Succeeded,
                    finished_at,
                    replay: false,
                    data: Some(data),
                    error: None,
                    chunked: None,
                },
                Err(f) => ResultMsg {
                    command_id: command.command_id,
                    outcome: ResultOutcome::Failed,
                    finished_at,
                    replay: false,
                    data: f.data,
                    error: Some(ResultError {
                        code: f.code,
                        message: f.message,
                    }),
                    chunked: None,
                },
            };
            let _ = done
                .send(Done {
                    command_id: command.command_id,
                    result,
                })
                .await;
        });
    }

    async fn finished(&mut self, d: Done) {
        let publish = self.ledger.finish(d.result);
        self.publish_all(publish).await;
        if self.busy == Some(d.command_id) {
            self.busy = None;
        }
        self.status(InstrumentState::Idle).await;
    }
}

/// The accepted ack with the controller's estimate of when the result will come.
fn with_expected_done(p: Publish, at: DateTime<Utc>) -> Publish {
    let Ok(mut v) = serde_json::from_slice::<serde_json::Value>(&p.payload) else {
        return p;
    };
    if v.get("status").and_then(|s| s.as_str()) != Some("accepted") {
        return p;
    }
    v["expected_done_at"] = json!(at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    Publish {
        topic: p.topic,
        payload: encode(&v),
    }
}
