//! The MQTT contract end to end, from a second language and library: the daemon's driver (Rust,
//! rumqttc) and the paho-mqtt controller in Python (scripts/mqtt_controller.py, which checks every
//! message against docs/schemas/mqtt/), through the embedded broker and through Mosquitto.
#![allow(clippy::unwrap_used)]

mod mqtt_support;

use std::time::Duration;

use athanor_core::{CommandState, InstrumentId, InstrumentState};
use athanor_drivers::mqtt::broker::{BrokerSettings, EmbeddedBroker};
use athanor_drivers::mqtt::ingest::{IngestConfig, TelemetryIngest};
use athanor_drivers::mqtt::messages::{
    decode_inbound, encode, AckStatus, CmdMsg, CommandMsg, Inbound, QueryMsg,
};
use athanor_drivers::mqtt::topics::{topic, TopicKind};
use athanor_drivers::mqtt::{DriverEvent, OutboundCommand};
use athanor_store::testing::TestDb;
use chrono::{TimeDelta, Utc};
use mqtt_support::*;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::json;
use tokio::sync::mpsc;

/// A bystander client that publishes raw messages and collects what the controller answers.
async fn bystander(
    port: u16,
    id: &InstrumentId,
) -> (AsyncClient, mpsc::UnboundedReceiver<Inbound>) {
    let mut o = MqttOptions::new(
        format!("bystander-{}", uuid::Uuid::new_v4().simple()),
        "127.0.0.1",
        port,
    );
    o.set_max_packet_size(2 << 20, 2 << 20);
    let (client, mut eventloop) = AsyncClient::new(o, 100);
    let (tx, rx) = mpsc::unbounded_channel();
    let (ack_t, result_t) = (topic(id, TopicKind::Ack), topic(id, TopicKind::Result));
    client
        .subscribe(ack_t.clone(), QoS::AtLeastOnce)
        .await
        .unwrap();
    client
        .subscribe(result_t.clone(), QoS::AtLeastOnce)
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok(ev) = eventloop.poll().await {
            if let Event::Incoming(Packet::Publish(p)) = ev {
                let kind = if p.topic == ack_t {
                    TopicKind::Ack
                } else {
                    TopicKind::Result
                };
                if let Ok(m) = decode_inbound(kind, &p.payload) {
                    let _ = tx.send(m);
                }
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(300)).await; // let the subscriptions settle
    (client, rx)
}

async fn next_matching(
    rx: &mut mpsc::UnboundedReceiver<Inbound>,
    f: impl Fn(&Inbound) -> bool,
) -> Inbound {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let m = rx.recv().await.unwrap();
            if f(&m) {
                return m;
            }
        }
    })
    .await
    .expect("no matching answer from the controller")
}

async fn contract(port: u16) {
    let Some(python) = peers_python() else { return };
    let db = TestDb::sqlite().await.unwrap();
    let store = db.store.clone();
    let id = unique_id("paho");
    register(&store, &id).await;
    let ingest = TelemetryIngest::spawn(store.clone(), IngestConfig::default());
    let config = daemon_config(
        "127.0.0.1",
        port,
        &format!("athanor-test-{}", uuid::Uuid::new_v4().simple()),
        fast_tracker(),
    );
    let mut daemon = Daemon::start(&config, &store, Some(ingest.sender())).await;

    let mut ctl = PyController::start(
        &python,
        port,
        &id,
        &["--duration-ms", "300", "--telemetry", "300"],
    );
    ctl.wait_for("ready", Duration::from_secs(10));
    let id2 = id.clone();
    wait_event(&mut daemon.events, Duration::from_secs(10), |e| {
        matches!(e, DriverEvent::Status { instrument, status } if *instrument == id2 && status.state == InstrumentState::Idle)
    })
    .await;

    // A command: recorded pending, sent, acknowledged, succeeded, with the controller's result.
    let params = json!({"segments": [{"target_c": 850, "ramp_c_per_min": 5}]});
    let cmd = store
        .create_command(
            &id,
            None,
            "run_program",
            params.clone(),
            Some(Utc::now() + TimeDelta::seconds(60)),
            "test",
        )
        .await
        .unwrap();
    let outcome = daemon
        .handle
        .submit(OutboundCommand::from(&cmd))
        .await
        .unwrap();
    let data = tokio::time::timeout(Duration::from_secs(15), outcome)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(data["echo"], params);
    let stored = store.get_command(cmd.id).await.unwrap();
    assert_eq!(stored.state, CommandState::Succeeded);
    assert_eq!(stored.result.unwrap()["data"]["echo"], params);

    // The same command id again, straight to the controller: answered from its ledger, not run.
    let (raw, mut answers) = bystander(port, &id).await;
    let again = CmdMsg::Command(CommandMsg {
        command_id: cmd.id,
        action: "run_program".into(),
        params: params.clone(),
        deadline: Utc::now() + TimeDelta::seconds(60),
        issued_at: Utc::now(),
        attempt: 9,
    });
    raw.publish(
        topic(&id, TopicKind::Cmd),
        QoS::AtLeastOnce,
        false,
        encode(&again),
    )
    .await
    .unwrap();
    let replay = next_matching(
        &mut answers,
        |m| matches!(m, Inbound::Result(r) if r.command_id == cmd.id),
    )
    .await;
    assert!(
        matches!(replay, Inbound::Result(ref r) if r.replay && r.data.as_ref().is_some_and(|d| d["echo"] == params))
    );
    // A query for an id it never saw; a command whose deadline has passed.
    let stranger = athanor_core::CommandId::new();
    raw.publish(
        topic(&id, TopicKind::Cmd),
        QoS::AtLeastOnce,
        false,
        encode(&CmdMsg::Query(QueryMsg {
            command_id: stranger,
            issued_at: None,
        })),
    )
    .await
    .unwrap();
    next_matching(&mut answers, |m| matches!(m, Inbound::Ack(a) if a.command_id == stranger && a.status == AckStatus::Unknown)).await;
    let late_id = athanor_core::CommandId::new();
    let late = CmdMsg::Command(CommandMsg {
        command_id: late_id,
        action: "run_program".into(),
        params: json!({}),
        deadline: Utc::now() - TimeDelta::seconds(1),
        issued_at: Utc::now(),
        attempt: 1,
    });
    raw.publish(
        topic(&id, TopicKind::Cmd),
        QoS::AtLeastOnce,
        false,
        encode(&late),
    )
    .await
    .unwrap();
    next_matching(&mut answers, |m| matches!(m, Inbound::Ack(a) if a.command_id == late_id && a.status == AckStatus::Rejected)).await;

    // A long scan: its result travels in chunks and is joined and checked by the daemon.
    let scan = store
        .create_command(
            &id,
            None,
            "scan",
            json!({"points": 40000}),
            Some(Utc::now() + TimeDelta::seconds(60)),
            "test",
        )
        .await
        .unwrap();
    let outcome = daemon
        .handle
        .submit(OutboundCommand::from(&scan))
        .await
        .unwrap();
    let data = tokio::time::timeout(Duration::from_secs(20), outcome)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(data["two_theta"].as_array().map(Vec::len), Some(40000));
    assert_eq!(data["counts"][39999], json!((39999u64 * 7919) % 5000));

    // Telemetry: every reading stored once.
    ctl.wait_for("telemetry_done", Duration::from_secs(20));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while store.telemetry_count(Some(&id)).await.unwrap() < 300
        && std::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(store.telemetry_count(Some(&id)).await.unwrap(), 300);

    assert_eq!(ctl.count("executed"), 2, "each command ran exactly once");
    assert_eq!(
        ctl.count("violation"),
        0,
        "messages that break the schemas: {:?}",
        ctl.seen
    );

    // The controller dies: its will sets the retained status offline.
    ctl.kill();
    let id3 = id.clone();
    wait_event(&mut daemon.events, Duration::from_secs(15), |e| {
        matches!(e, DriverEvent::Status { instrument, status } if *instrument == id3 && status.state == InstrumentState::Offline)
    })
    .await;
    daemon.stop().await;
    let stats = ingest.close().await;
    assert_eq!((stats.stored, stats.lost), (300, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_controller_through_the_embedded_broker() {
    let broker = EmbeddedBroker::start(BrokerSettings::loopback(0))
        .await
        .unwrap();
    contract(broker.local_addr().port()).await;
    broker.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paho_controller_through_mosquitto() {
    let Some((host, port)) = ci_mosquitto() else {
        return;
    };
    assert_eq!(host, "127.0.0.1", "the tests reach Mosquitto on loopback");
    contract(port).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_embedded_broker_refuses_other_addresses_without_credentials_and_checks_them() {
    let mut s = BrokerSettings::loopback(0);
    s.listen = "0.0.0.0:0".parse().unwrap();
    let err = EmbeddedBroker::start(s.clone()).await.unwrap_err();
    assert!(err.to_string().contains("without credentials"), "{err}");

    // With users, a client must log in.
    let mut s = BrokerSettings::loopback(0);
    s.users.insert(
        "furnace-1".into(),
        athanor_drivers::mqtt::config::Secret::new("pw"),
    );
    let broker = EmbeddedBroker::start(s).await.unwrap();
    let port = broker.local_addr().port();
    assert!(!connack(port, None).await, "anonymous login accepted");
    assert!(
        !connack(port, Some(("furnace-1", "wrong"))).await,
        "wrong password accepted"
    );
    assert!(
        connack(port, Some(("furnace-1", "pw"))).await,
        "right password refused"
    );
    broker.shutdown();
}

/// Whether the broker accepts a connection with these credentials.
async fn connack(port: u16, creds: Option<(&str, &str)>) -> bool {
    let mut o = MqttOptions::new(
        format!("c-{}", uuid::Uuid::new_v4().simple()),
        "127.0.0.1",
        port,
    );
    if let Some((u, p)) = creds {
        o.set_credentials(u, p);
    }
    let (_c, mut ev) = AsyncClient::new(o, 10);
    tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            match ev.poll().await {
                Ok(Event::Incoming(Packet::ConnAck(_))) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
    })
    .await
    .unwrap_or(false)
}
