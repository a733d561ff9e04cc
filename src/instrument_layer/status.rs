//! Instrument state as controllers report it: the moves of the instrument state machine that
//! bring a stored instrument to the reported state, and what the driver's events leave in the
//! store (state changes and operator-visible alarms, both as events).

use athanor_core::{
    EntityKind, InstrumentAction, InstrumentId, InstrumentState, NewEvent, StateMachine,
};
use athanor_drivers::mqtt::tracker::Alarm;
use athanor_drivers::mqtt::DriverEvent;
use athanor_store::{Store, StoreError};
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};
use tokio_util::sync::CancellationToken;

/// Who the instrument layer's changes are recorded as.
pub const ACTOR: &str = "instrument-layer";

/// The actions that take a stored instrument from `current` to what its controller `reported`.
/// An instrument an operator put in maintenance stays there whatever its controller says.
pub fn moves_to(current: InstrumentState, reported: InstrumentState) -> Vec<InstrumentAction> {
    if current == InstrumentState::Maintenance {
        return Vec::new();
    }
    current.path_to(reported).unwrap_or_default()
}

/// Brings the stored instrument to the reported state. An instrument nobody registered is
/// reported once in the log and otherwise ignored (it gets no record by talking).
pub async fn apply_reported(
    store: &Store,
    id: &InstrumentId,
    reported: InstrumentState,
) -> Result<(), StoreError> {
    // A concurrent change (an operator, another report) can make a move illegal between the
    // read and the write: read again and re-plan, a bounded number of times.
    for _ in 0..3 {
        let current = match store.get_instrument(id).await {
            Ok(i) => i.state,
            Err(StoreError::NotFound { .. }) => {
                tracing::warn!(instrument = %id, "a controller reports for an instrument that is not registered; ignored");
                return Ok(());
            }
            Err(e) => return Err(e),
        };
        let mut raced = false;
        for action in moves_to(current, reported) {
            match store.apply_instrument_action(id, action, ACTOR).await {
                Ok(_) => {}
                Err(StoreError::Transition(_)) => {
                    raced = true;
                    break;
                }
                Err(e) => return Err(e),
            }
        }
        if !raced {
            return Ok(());
        }
    }
    Ok(())
}

/// Records an alarm as an `instrument.alarm` event, which operators see on the event stream.
pub async fn record_alarm(store: &Store, alarm: &Alarm) -> Result<(), StoreError> {
    store
        .append_event(NewEvent {
            campaign_id: None,
            entity: EntityKind::Instrument,
            entity_id: alarm.instrument.to_string(),
            kind: "instrument.alarm".into(),
            actor: ACTOR.into(),
            payload: json!({
                "alarm": alarm.kind,
                "command_id": alarm.command_id,
                "message": alarm.message,
            }),
        })
        .await
        .map(|_| ())
}

/// Follows the MQTT driver's events until shutdown, after the `backlog` already taken from
/// the channel: reported states move instruments, alarms become events, the rest is logged.
pub async fn follow(
    store: Store,
    backlog: Vec<DriverEvent>,
    mut events: broadcast::Receiver<DriverEvent>,
    shutdown: CancellationToken,
) {
    for event in backlog {
        if !handle(&store, event).await {
            return;
        }
    }
    loop {
        let event = tokio::select! {
            _ = shutdown.cancelled() => return,
            e = events.recv() => e,
        };
        match event {
            Err(RecvError::Closed) => return,
            Err(RecvError::Lagged(n)) => {
                tracing::warn!(missed = n, "instrument events arrived faster than they were recorded; some status reports were skipped (the next ones correct the state)");
            }
            Ok(event) => {
                if !handle(&store, event).await {
                    return;
                }
            }
        }
    }
}

/// Records or logs one driver event; false when the driver has stopped.
async fn handle(store: &Store, event: DriverEvent) -> bool {
    let result = match event {
        DriverEvent::Status { instrument, status } => {
            tracing::info!(%instrument, state = %status.state.as_str(), reason = status.reason.as_deref().unwrap_or(""), "controller status");
            apply_reported(store, &instrument, status.state).await
        }
        DriverEvent::Alarm(alarm) => {
            tracing::warn!(instrument = %alarm.instrument, kind = ?alarm.kind, command = ?alarm.command_id, "{}", alarm.message);
            record_alarm(store, &alarm).await
        }
        DriverEvent::Finished {
            command_id,
            instrument,
            outcome,
        } => {
            match outcome {
                Ok(_) => tracing::info!(%instrument, %command_id, "command succeeded"),
                Err(failure) => {
                    tracing::warn!(%instrument, %command_id, ?failure, "command did not succeed")
                }
            }
            Ok(())
        }
        DriverEvent::Connected { session_present } => {
            tracing::info!(session_present, "connected to the MQTT broker");
            Ok(())
        }
        DriverEvent::Subscribed => {
            tracing::debug!("MQTT subscriptions confirmed");
            Ok(())
        }
        DriverEvent::Disconnected { error } => {
            tracing::warn!(%error, "lost the MQTT broker; reconnecting");
            Ok(())
        }
        DriverEvent::Malformed { topic, error } => {
            tracing::warn!(%topic, %error, "message outside the MQTT contract dropped");
            Ok(())
        }
        DriverEvent::Progress { .. } => Ok(()),
        DriverEvent::Stopped { error } => {
            tracing::error!(%error, "the MQTT driver stopped: it could not record a command's state");
            return false;
        }
    };
    if let Err(e) = result {
        tracing::error!(error = %e, "could not record an instrument event");
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use InstrumentAction::*;
    use InstrumentState::*;

    #[test]
    fn reported_states_map_to_legal_moves() {
        assert_eq!(moves_to(Offline, Idle), vec![ComeOnline]);
        assert_eq!(moves_to(Offline, Busy), vec![ComeOnline, Reserve]);
        assert_eq!(moves_to(Busy, Offline), vec![GoOffline]);
        assert_eq!(moves_to(Fault, Idle), vec![ClearFault]);
        assert_eq!(moves_to(Idle, Idle), Vec::<InstrumentAction>::new());
        assert_eq!(moves_to(Idle, Maintenance), vec![EnterMaintenance]);
    }

    #[test]
    fn maintenance_is_the_operators_to_end() {
        for reported in [Offline, Idle, Busy, Fault] {
            assert!(moves_to(Maintenance, reported).is_empty());
        }
    }
}
