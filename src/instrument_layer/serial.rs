//! Serial instruments in the daemon: each Modbus RTU furnace is read every poll interval for its
//! status, which sets the instrument's state and is stored as telemetry. A line that dies takes
//! the instrument offline (an operator-visible state change) and is reopened with back-off.

use std::time::Duration;

use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

use athanor_core::{InstrumentClass, InstrumentId, InstrumentState};
use athanor_drivers::eurotherm::EurothermFurnace;
use athanor_drivers::instrument::{
    Furnace, FurnaceStatus, InstrumentConfig, ProgramState, Transport,
};
use athanor_drivers::modbus::serial;
use athanor_drivers::mqtt::client::Clock;
use athanor_drivers::mqtt::ingest::IngestSender;
use athanor_store::{Store, TelemetryRecord};

use super::clock::DaemonClock;
use super::status::apply_reported;

/// The state a furnace's status puts it in: an alarm is a fault, an active program is busy.
pub fn furnace_state(s: &FurnaceStatus) -> InstrumentState {
    if !s.alarms.is_empty() {
        InstrumentState::Fault
    } else if matches!(
        s.program,
        ProgramState::Running | ProgramState::Holdback | ProgramState::Held
    ) {
        InstrumentState::Busy
    } else {
        InstrumentState::Idle
    }
}

/// A furnace status as one telemetry reading.
pub fn furnace_readings(s: &FurnaceStatus) -> Value {
    let program = match s.program {
        ProgramState::Unknown(code) => json!(format!("unknown({code})")),
        other => json!(other),
    };
    json!({
        "pv_c": s.process_value_c,
        "target_sp_c": s.target_setpoint_c,
        "working_sp_c": s.working_setpoint_c,
        "output_pct": s.working_output_pct,
        "program": program,
        "alarms": s.alarms,
    })
}

/// Whether the daemon polls this instrument over a serial line.
pub fn is_serial_furnace(config: &InstrumentConfig) -> bool {
    config.class == InstrumentClass::Furnace
        && matches!(config.transport, Some(Transport::Serial(_)))
}

/// Moves the stored instrument to `state`; a store failure is logged, and the next poll tries again.
async fn record_state(store: &Store, id: &InstrumentId, state: InstrumentState) {
    if let Err(e) = apply_reported(store, id, state).await {
        tracing::error!(instrument = %id, error = %e, "cannot record the instrument's state");
    }
}

/// Polls one serial furnace until shutdown.
pub async fn poll_furnace(
    config: InstrumentConfig,
    store: Store,
    ingest: IngestSender,
    every: Duration,
    clock: DaemonClock,
    shutdown: CancellationToken,
) {
    let Some(Transport::Serial(settings)) = config.transport.clone() else {
        return;
    };
    let id = config.id.clone();
    let mut backoff = every;
    let mut seq: u64 = 0;
    let mut reported_unreachable = false;
    while !shutdown.is_cancelled() {
        let furnace = serial::open(&settings)
            .map_err(|e| e.to_string())
            .and_then(|port| {
                EurothermFurnace::from_config(&config, port).map_err(|e| e.to_string())
            });
        let mut furnace = match furnace {
            Ok(f) => f,
            Err(error) => {
                if !reported_unreachable {
                    tracing::warn!(instrument = %id, port = %settings.port, %error, "cannot open the furnace's serial line; retrying");
                    reported_unreachable = true;
                }
                record_state(&store, &id, InstrumentState::Offline).await;
                backoff = (backoff * 2).min(Duration::from_secs(60));
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(backoff) => continue,
                }
            }
        };
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            match furnace.status().await {
                Ok(status) => {
                    if reported_unreachable {
                        tracing::info!(instrument = %id, "furnace answers again");
                        reported_unreachable = false;
                    }
                    backoff = every;
                    let now = clock.now();
                    let record = TelemetryRecord::reading(
                        id.clone(),
                        now,
                        seq,
                        furnace_readings(&status),
                        now,
                    );
                    seq += 1;
                    if ingest.send(record).await.is_err() {
                        return;
                    }
                    record_state(&store, &id, furnace_state(&status)).await;
                }
                Err(e) if e.is_line_dead() => {
                    tracing::warn!(instrument = %id, error = %e, "the furnace stopped answering; it is offline until it does");
                    reported_unreachable = true;
                    record_state(&store, &id, InstrumentState::Offline).await;
                    break;
                }
                Err(e) => {
                    tracing::warn!(instrument = %id, error = %e, "furnace status read failed")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(program: ProgramState, alarms: &[&str]) -> FurnaceStatus {
        FurnaceStatus {
            process_value_c: 801.5,
            target_setpoint_c: 850.0,
            working_setpoint_c: 805.0,
            working_output_pct: 62.0,
            program,
            alarms: alarms.iter().map(|a| a.to_string()).collect(),
            atmosphere: None,
        }
    }

    #[test]
    fn status_sets_the_state() {
        assert_eq!(
            furnace_state(&status(ProgramState::Reset, &[])),
            InstrumentState::Idle
        );
        assert_eq!(
            furnace_state(&status(ProgramState::Complete, &[])),
            InstrumentState::Idle
        );
        assert_eq!(
            furnace_state(&status(ProgramState::Running, &[])),
            InstrumentState::Busy
        );
        assert_eq!(
            furnace_state(&status(ProgramState::Holdback, &[])),
            InstrumentState::Busy
        );
        assert_eq!(
            furnace_state(&status(ProgramState::Running, &["alarm_1"])),
            InstrumentState::Fault
        );
    }

    #[test]
    fn readings_carry_every_channel() {
        let r = furnace_readings(&status(ProgramState::Unknown(9), &["alarm_2"]));
        assert_eq!(r["pv_c"], 801.5);
        assert_eq!(r["working_sp_c"], 805.0);
        assert_eq!(r["output_pct"], 62.0);
        assert_eq!(r["program"], "unknown(9)");
        assert_eq!(r["alarms"], json!(["alarm_2"]));
        assert_eq!(
            furnace_readings(&status(ProgramState::Running, &[]))["program"],
            "running"
        );
    }
}
