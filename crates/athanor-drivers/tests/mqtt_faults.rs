//! Faults end to end: a broker restarted mid-command (a private Mosquitto with persistence, and
//! the embedded broker, which forgets every session), a daemon restarted mid-command, duplicated
//! and reordered messages, and a controller that never answers. Each ends in the result, a
//! bounded retry, a typed failure or an operator alarm — never a hang, never a second physical
//! action.
#![allow(clippy::unwrap_used)]

mod mqtt_support;

use std::sync::atomic::Ordering;
use std::time::Duration;

use athanor_core::{CommandId, CommandState, InstrumentId};
use athanor_drivers::mqtt::broker::{BrokerSettings, EmbeddedBroker};
use athanor_drivers::mqtt::tracker::AlarmKind;
use athanor_drivers::mqtt::{CommandFailure, DriverEvent, OutboundCommand};
use athanor_store::testing::TestDb;
use athanor_store::Store;
use chrono::{TimeDelta, Utc};
use mqtt_support::*;
use serde_json::json;

async fn pending(store: &Store, id: &InstrumentId, deadline_secs: i64) -> athanor_core::Command {
    store
        .create_command(
            id,
            None,
            "run_program",
            json!({"target_c": 600}),
            Some(Utc::now() + TimeDelta::seconds(deadline_secs)),
            "test",
        )
        .await
        .unwrap()
}

async fn wait_state(store: &Store, id: CommandId, state: CommandState) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while store.get_command(id).await.unwrap().state != state {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .unwrap_or_else(|_| panic!("command never reached {state:?}"));
}

fn client_id() -> String {
    format!("athanor-test-{}", uuid::Uuid::new_v4().simple())
}

/// Restarts the broker while the controller executes; the command still ends once, with its result.
async fn restart_mid_command(port: u16, restart: impl AsyncFnOnce()) {
    let db = TestDb::sqlite().await.unwrap();
    let store = db.store.clone();
    let id = unique_id("restart");
    register(&store, &id).await;
    let config = daemon_config("127.0.0.1", port, &client_id(), fast_tracker());
    let mut daemon = Daemon::start(&config, &store, None).await;
    let ctl = SimController::start(port, &id, Duration::from_millis(1500), Faults::default()).await;

    let cmd = pending(&store, &id, 30).await;
    let outcome = daemon
        .handle
        .submit(OutboundCommand::from(&cmd))
        .await
        .unwrap();
    wait_state(&store, cmd.id, CommandState::Acknowledged).await;
    restart().await;
    // The daemon saw the connection go (a typed event), and the command still ends, once.
    wait_event(&mut daemon.events, Duration::from_secs(10), |e| {
        matches!(e, DriverEvent::Disconnected { .. })
    })
    .await;
    let data = tokio::time::timeout(Duration::from_secs(20), outcome)
        .await
        .expect("no hang")
        .unwrap()
        .unwrap();
    assert_eq!(data["action"], "run_program");
    assert_eq!(
        store.get_command(cmd.id).await.unwrap().state,
        CommandState::Succeeded
    );
    assert_eq!(
        ctl.executed.load(Ordering::SeqCst),
        1,
        "the physical action ran exactly once"
    );
    ctl.stop().await;
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mosquitto_restarted_mid_command() {
    let Some(mut mosq) = Mosquitto::start() else {
        return;
    };
    let port = mosq.port;
    let m = &mut mosq;
    restart_mid_command(port, async move || {
        m.stop();
        tokio::time::sleep(Duration::from_millis(700)).await;
        m.restart();
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn embedded_broker_restarted_mid_command_forgets_sessions_and_the_contract_recovers() {
    let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
        .await
        .unwrap();
    let port = broker.local_addr().port();
    let mut holder = Some(broker);
    let h = &mut holder;
    restart_mid_command(port, async move || {
        if let Some(b) = h.take() {
            b.shutdown();
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        *h = Some(
            EmbeddedBroker::start(BrokerSettings::loopback(port))
                .await
                .unwrap(),
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_daemon_restarted_mid_command_asks_for_the_result() {
    let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
        .await
        .unwrap();
    let port = broker.local_addr().port();
    let db = TestDb::sqlite().await.unwrap();
    let store = db.store.clone();
    let id = unique_id("dstart");
    register(&store, &id).await;
    let ctl = SimController::start(port, &id, Duration::from_millis(800), Faults::default()).await;
    let config = daemon_config("127.0.0.1", port, &client_id(), fast_tracker());
    let first = Daemon::start(&config, &store, None).await;
    let cmd = pending(&store, &id, 30).await;
    let _lost = first
        .handle
        .submit(OutboundCommand::from(&cmd))
        .await
        .unwrap();
    wait_state(&store, cmd.id, CommandState::Acknowledged).await;
    first.stop().await;
    tokio::time::sleep(Duration::from_millis(1200)).await; // the result is published while no daemon listens

    // A new daemon (another client id: no session to resume) takes over what the store holds.
    let config = daemon_config("127.0.0.1", port, &client_id(), fast_tracker());
    let mut second = Daemon::start(&config, &store, None).await;
    second
        .handle
        .restore(vec![store.get_command(cmd.id).await.unwrap()])
        .await
        .unwrap();
    let e = wait_event(&mut second.events, Duration::from_secs(10), |e| {
        matches!(e, DriverEvent::Finished { .. })
    })
    .await;
    assert!(
        matches!(e, DriverEvent::Finished { command_id, outcome: Ok(_), .. } if command_id == cmd.id)
    );
    assert_eq!(
        store.get_command(cmd.id).await.unwrap().state,
        CommandState::Succeeded
    );
    assert_eq!(ctl.executed.load(Ordering::SeqCst), 1);
    ctl.stop().await;
    second.stop().await;
    broker.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_messages_finish_each_command_once() {
    let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
        .await
        .unwrap();
    let port = broker.local_addr().port();
    let db = TestDb::sqlite().await.unwrap();
    let store = db.store.clone();
    let id = unique_id("dup");
    register(&store, &id).await;
    let ctl = SimController::start(
        port,
        &id,
        Duration::from_millis(50),
        Faults {
            duplicate: true,
            result_first: true,
            ..Faults::default()
        },
    )
    .await;
    let config = daemon_config("127.0.0.1", port, &client_id(), fast_tracker());
    let mut daemon = Daemon::start(&config, &store, None).await;
    let mut outcomes = Vec::new();
    let mut ids = Vec::new();
    for _ in 0..5 {
        let cmd = pending(&store, &id, 30).await;
        ids.push(cmd.id);
        outcomes.push(
            daemon
                .handle
                .submit(OutboundCommand::from(&cmd))
                .await
                .unwrap(),
        );
    }
    for o in outcomes {
        tokio::time::timeout(Duration::from_secs(10), o)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    // Let the duplicates and late acks arrive, then count what the daemon reported.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut finished = 0;
    let mut alarms = 0;
    while let Ok(e) = daemon.events.try_recv() {
        match e {
            DriverEvent::Finished { .. } => finished += 1,
            DriverEvent::Alarm(_) => alarms += 1,
            _ => {}
        }
    }
    assert_eq!((finished, alarms), (5, 0));
    for id in ids {
        assert_eq!(
            store.get_command(id).await.unwrap().state,
            CommandState::Succeeded
        );
    }
    assert_eq!(ctl.executed.load(Ordering::SeqCst), 5);
    ctl.stop().await;
    daemon.stop().await;
    broker.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_controller_that_never_answers_ends_in_no_answer_and_an_alarm() {
    let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
        .await
        .unwrap();
    let port = broker.local_addr().port();
    let db = TestDb::sqlite().await.unwrap();
    let store = db.store.clone();
    let id = unique_id("mute");
    register(&store, &id).await;
    let ctl = SimController::start(
        port,
        &id,
        Duration::ZERO,
        Faults {
            silent: true,
            ..Faults::default()
        },
    )
    .await;
    let config = daemon_config("127.0.0.1", port, &client_id(), fast_tracker());
    let mut daemon = Daemon::start(&config, &store, None).await;
    let cmd = pending(&store, &id, 2).await;
    let started = std::time::Instant::now();
    let outcome = daemon
        .handle
        .submit(OutboundCommand::from(&cmd))
        .await
        .unwrap();
    let r = tokio::time::timeout(Duration::from_secs(15), outcome)
        .await
        .expect("no hang")
        .unwrap();
    assert!(
        matches!(r, Err(CommandFailure::NoAnswer { queries: 4 })),
        "{r:?}"
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    let alarm = wait_event(&mut daemon.events, Duration::from_secs(1), |e| {
        matches!(e, DriverEvent::Alarm(_))
    })
    .await;
    assert!(
        matches!(alarm, DriverEvent::Alarm(a) if a.kind == AlarmKind::NoAnswer && a.command_id == Some(cmd.id))
    );
    let stored = store.get_command(cmd.id).await.unwrap();
    assert_eq!(stored.state, CommandState::Failed);
    assert_eq!(stored.result.unwrap()["outcome"], "no_answer");
    assert_eq!(ctl.executed.load(Ordering::SeqCst), 0);
    ctl.stop().await;
    daemon.stop().await;
    broker.shutdown();
}
