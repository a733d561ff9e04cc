//! Fuzzes the MQTT message decoder (JSON payload → typed message, with the schema-version check)
//! and what consumes its output: every accepted message must re-encode to a payload the decoder
//! accepts again, and the command tracker must take any decoded message without panicking.
#![no_main]

use athanor_core::{CommandId, InstrumentId};
use athanor_drivers::mqtt::messages::{decode_cmd, decode_inbound, encode, Inbound, ResultTopicMsg};
use athanor_drivers::mqtt::topics::TopicKind;
use athanor_drivers::mqtt::tracker::{OutboundCommand, Tracker, TrackerConfig};
use chrono::{DateTime, Utc};
use libfuzzer_sys::fuzz_target;

const KINDS: [TopicKind; 6] = [
    TopicKind::Cmd,
    TopicKind::Ack,
    TopicKind::Progress,
    TopicKind::Telemetry,
    TopicKind::Result,
    TopicKind::Status,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, payload)) = data.split_first() else { return };
    let kind = KINDS[usize::from(selector) % KINDS.len()];
    if kind == TopicKind::Cmd {
        if let Ok(m) = decode_cmd(payload) {
            decode_cmd(&encode(&m)).expect("a re-encoded cmd message decodes");
        }
        return;
    }
    let Ok(msg) = decode_inbound(kind, payload) else { return };
    let again = match &msg {
        Inbound::Ack(m) => encode(m),
        Inbound::Progress(m) => encode(m),
        Inbound::Telemetry(m) => encode(m),
        Inbound::Result(m) => encode(&ResultTopicMsg::Result(m.clone())),
        Inbound::Chunk(m) => encode(&ResultTopicMsg::Chunk(m.clone())),
        Inbound::Status(m) => encode(m),
    };
    decode_inbound(kind, &again).expect("a re-encoded message decodes");

    // The tracker, holding a command with the message's id, takes it without panicking.
    let now: DateTime<Utc> = DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default();
    let instrument = InstrumentId::parse("fuzz-1").expect("valid id");
    let mut t = Tracker::new(TrackerConfig::default());
    let id = msg.command_id().unwrap_or_else(CommandId::new);
    let cmd = OutboundCommand {
        id,
        instrument: instrument.clone(),
        action: "scan".into(),
        params: serde_json::json!({}),
        deadline: None,
    };
    if t.submit(cmd, now).is_ok() {
        let _ = t.on_message(&instrument, msg.clone(), now);
        let _ = t.on_message(&instrument, msg, now);
        let _ = t.on_tick(now + chrono::TimeDelta::hours(2));
    }
});
