//! The messages of the MQTT instrument contract (docs/mqtt.md) as typed values, and their codec:
//! JSON payload in, typed message out, with the schema-version check. No I/O.
//!
//! Decoding first reads only `v` (so that a message of another version is refused as such, not as
//! "malformed"), then the typed message, then the rules JSON alone cannot express (a failed result
//! carries an error, a fraction lies in 0–1, …). Unknown fields are ignored, as the contract asks.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use athanor_core::{CommandId, InstrumentState};

use super::topics::TopicKind;
use super::MqttError;

/// The contract's major version, carried as `"v"` in every payload.
pub const VERSION: u64 = 1;

/// No payload of this contract may be larger (chunks carry at most 64 KiB of text; a result larger
/// than 256 KiB must be chunked).
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;

/// Serialises instants as RFC 3339 in UTC with `Z` and millisecond precision or finer.
mod instant {
    use super::*;
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }

    pub mod option {
        use super::*;

        pub fn serialize<S: Serializer>(
            t: &Option<DateTime<Utc>>,
            s: S,
        ) -> Result<S::Ok, S::Error> {
            match t {
                Some(t) => super::serialize(t, s),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(
            d: D,
        ) -> Result<Option<DateTime<Utc>>, D::Error> {
            #[derive(Deserialize)]
            struct W(#[serde(with = "super")] DateTime<Utc>);
            Ok(Option::<W>::deserialize(d)?.map(|W(t)| t))
        }
    }
}

fn one() -> u32 {
    1
}

/// `cmd`: a command for the controller to execute once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CommandMsg {
    pub command_id: CommandId,
    pub action: String,
    pub params: Value,
    /// The controller must not start the command after this instant.
    #[serde(with = "instant")]
    pub deadline: DateTime<Utc>,
    #[serde(with = "instant")]
    pub issued_at: DateTime<Utc>,
    /// 1 on the first send, more on re-sends of the same id.
    #[serde(default = "one")]
    pub attempt: u32,
}

/// `cmd`: "what became of this command?" Never starts anything.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryMsg {
    pub command_id: CommandId,
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub issued_at: Option<DateTime<Utc>>,
}

/// Everything the daemon publishes on `cmd`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum CmdMsg {
    Command(CommandMsg),
    Query(QueryMsg),
}

impl CmdMsg {
    pub fn command_id(&self) -> CommandId {
        match self {
            CmdMsg::Command(c) => c.command_id,
            CmdMsg::Query(q) => q.command_id,
        }
    }
}

/// What a controller did with a command id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    /// First receipt: recorded, will execute.
    Accepted,
    /// A duplicate or a query for a command executing now.
    Running,
    /// Will not execute, now or ever.
    Rejected,
    /// Answer to a query: no record of this id.
    Unknown,
}

/// Why a controller rejected a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectCode {
    DeadlinePassed,
    UnknownAction,
    InvalidParams,
    LimitExceeded,
    Busy,
    Fault,
    /// Any other reason, including codes added after this version of the daemon.
    #[serde(other)]
    Other,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RejectReason {
    pub code: RejectCode,
    pub message: String,
}

/// `ack`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AckMsg {
    pub command_id: CommandId,
    pub status: AckStatus,
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<RejectReason>,
    /// The controller's estimate of when the result will be published.
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub expected_done_at: Option<DateTime<Utc>>,
}

/// `progress`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProgressMsg {
    pub command_id: CommandId,
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stage: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `telemetry`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelemetryMsg {
    #[serde(with = "instant")]
    pub at: DateTime<Utc>,
    pub seq: u64,
    pub values: serde_json::Map<String, Value>,
}

/// How a command ended, as the controller reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResultOutcome {
    Succeeded,
    Failed,
}

/// The error of a failed command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultError {
    pub code: String,
    pub message: String,
}

/// Describes a result whose data travels in chunks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Chunked {
    pub count: u32,
    pub bytes: u64,
    /// SHA-256 of the whole UTF-8 text, lowercase hex.
    pub sha256: String,
}

/// `result`: a command's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResultMsg {
    pub command_id: CommandId,
    pub outcome: ResultOutcome,
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub finished_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub replay: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ResultError>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chunked: Option<Chunked>,
}

/// `result`: one piece of a large result's data, sent before the result message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkMsg {
    pub command_id: CommandId,
    pub index: u32,
    pub count: u32,
    pub text: String,
}

/// Everything a controller publishes on `result`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResultTopicMsg {
    Result(ResultMsg),
    Chunk(ChunkMsg),
}

/// `status` (retained).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusMsg {
    pub state: InstrumentState,
    #[serde(
        default,
        with = "instant::option",
        skip_serializing_if = "Option::is_none"
    )]
    pub at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controller: Option<String>,
}

/// A message from a controller, typed by the topic it came on.
#[derive(Debug, Clone, PartialEq)]
pub enum Inbound {
    Ack(AckMsg),
    Progress(ProgressMsg),
    Telemetry(TelemetryMsg),
    Result(ResultMsg),
    Chunk(ChunkMsg),
    Status(StatusMsg),
}

impl Inbound {
    /// The command a message is about, if any.
    pub fn command_id(&self) -> Option<CommandId> {
        match self {
            Inbound::Ack(m) => Some(m.command_id),
            Inbound::Progress(m) => Some(m.command_id),
            Inbound::Result(m) => Some(m.command_id),
            Inbound::Chunk(m) => Some(m.command_id),
            Inbound::Telemetry(_) | Inbound::Status(_) => None,
        }
    }
}

/// Longest chunk text, in UTF-8 bytes.
pub const MAX_CHUNK_TEXT_BYTES: usize = 64 * 1024;
/// Most chunks in one result.
pub const MAX_CHUNKS: u32 = 65_536;
/// Largest chunked result, in bytes of text.
pub const MAX_CHUNKED_BYTES: u64 = 256 << 20;

/// Checks `v` without decoding the rest.
fn check_version(payload: &[u8]) -> Result<(), MqttError> {
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(MqttError::TooLarge {
            size: payload.len(),
            limit: MAX_PAYLOAD_BYTES,
        });
    }
    #[derive(Deserialize)]
    struct Probe {
        #[serde(default)]
        v: Option<Value>,
    }
    let probe: Probe = serde_json::from_slice(payload).map_err(|e| {
        if e.is_data() {
            MqttError::Malformed {
                kind: "message",
                reason: "the payload is not a JSON object".into(),
            }
        } else {
            MqttError::NotJson(e.to_string())
        }
    })?;
    match probe.v {
        None => Err(MqttError::MissingVersion),
        Some(Value::Number(n)) if n.as_u64() == Some(VERSION) => Ok(()),
        Some(Value::Number(n)) if n.is_u64() => Err(MqttError::UnsupportedVersion {
            found: n.to_string(),
        }),
        Some(_) => Err(MqttError::MissingVersion),
    }
}

fn typed<T: serde::de::DeserializeOwned>(
    kind: &'static str,
    payload: &[u8],
) -> Result<T, MqttError> {
    serde_json::from_slice(payload).map_err(|e| MqttError::Malformed {
        kind,
        reason: e.to_string(),
    })
}

fn invalid(kind: &'static str, reason: impl Into<String>) -> MqttError {
    MqttError::Malformed {
        kind,
        reason: reason.into(),
    }
}

/// Whether an action name is one the contract allows (`^[a-z][a-z0-9_]{0,63}$`).
pub fn valid_action(action: &str) -> bool {
    let mut chars = action.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && action.len() <= 64
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

impl CmdMsg {
    /// The rules beyond the JSON shape.
    pub fn validate(&self) -> Result<(), MqttError> {
        if let CmdMsg::Command(c) = self {
            if !valid_action(&c.action) {
                return Err(invalid("cmd", "action must match ^[a-z][a-z0-9_]{0,63}$"));
            }
            if !c.params.is_object() {
                return Err(invalid("cmd", "params must be a JSON object"));
            }
            if c.attempt == 0 {
                return Err(invalid("cmd", "attempt counts from 1"));
            }
        }
        Ok(())
    }
}

impl AckMsg {
    pub fn validate(&self) -> Result<(), MqttError> {
        if self.status == AckStatus::Rejected && self.reason.is_none() {
            return Err(invalid("ack", "a rejection must carry a reason"));
        }
        Ok(())
    }
}

impl ProgressMsg {
    pub fn validate(&self) -> Result<(), MqttError> {
        match self.fraction {
            Some(f) if !(0.0..=1.0).contains(&f) => {
                Err(invalid("progress", "fraction must lie between 0 and 1"))
            }
            _ => Ok(()),
        }
    }
}

impl TelemetryMsg {
    pub fn validate(&self) -> Result<(), MqttError> {
        if self.seq > (1 << 53) - 1 {
            return Err(invalid("telemetry", "seq must be below 2^53"));
        }
        if let Some((k, _)) = self
            .values
            .iter()
            .find(|(_, v)| v.is_object() || v.is_array())
        {
            return Err(invalid(
                "telemetry",
                format!("value `{k}` must be a number, string, boolean or null"),
            ));
        }
        Ok(())
    }
}

impl ResultMsg {
    pub fn validate(&self) -> Result<(), MqttError> {
        if self.outcome == ResultOutcome::Failed && self.error.is_none() {
            return Err(invalid("result", "a failed result must carry an error"));
        }
        if let Some(c) = &self.chunked {
            if self.data.is_some() {
                return Err(invalid("result", "a chunked result carries no data"));
            }
            if c.count == 0 || c.count > MAX_CHUNKS || c.bytes > MAX_CHUNKED_BYTES {
                return Err(invalid("result", "chunked result too large or empty"));
            }
            if c.sha256.len() != 64
                || !c
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
            {
                return Err(invalid("result", "sha256 must be 64 lowercase hex digits"));
            }
        }
        Ok(())
    }
}

impl ChunkMsg {
    pub fn validate(&self) -> Result<(), MqttError> {
        if self.count == 0 || self.count > MAX_CHUNKS || self.index >= self.count {
            return Err(invalid(
                "chunk",
                "index must lie below count (at most 65,536)",
            ));
        }
        if self.text.len() > MAX_CHUNK_TEXT_BYTES {
            return Err(invalid("chunk", "text longer than 64 KiB"));
        }
        Ok(())
    }
}

/// Decodes a message that arrived on a controller-to-daemon topic of the given kind.
pub fn decode_inbound(kind: TopicKind, payload: &[u8]) -> Result<Inbound, MqttError> {
    check_version(payload)?;
    let msg = match kind {
        TopicKind::Ack => {
            let m: AckMsg = typed("ack", payload)?;
            m.validate()?;
            Inbound::Ack(m)
        }
        TopicKind::Progress => {
            let m: ProgressMsg = typed("progress", payload)?;
            m.validate()?;
            Inbound::Progress(m)
        }
        TopicKind::Telemetry => {
            let m: TelemetryMsg = typed("telemetry", payload)?;
            m.validate()?;
            Inbound::Telemetry(m)
        }
        TopicKind::Result => match typed("result", payload)? {
            ResultTopicMsg::Result(m) => {
                m.validate()?;
                Inbound::Result(m)
            }
            ResultTopicMsg::Chunk(m) => {
                m.validate()?;
                Inbound::Chunk(m)
            }
        },
        TopicKind::Status => Inbound::Status(typed("status", payload)?),
        TopicKind::Cmd => {
            return Err(invalid(
                "cmd",
                "commands go to controllers, not to the daemon",
            ));
        }
    };
    Ok(msg)
}

/// Decodes a message on a `cmd` topic (the controller's side of the contract).
pub fn decode_cmd(payload: &[u8]) -> Result<CmdMsg, MqttError> {
    check_version(payload)?;
    let m: CmdMsg = typed("cmd", payload)?;
    m.validate()?;
    Ok(m)
}

/// Encodes any message of the contract with `"v": 1` as its first field.
pub fn encode<T: Serialize>(msg: &T) -> Vec<u8> {
    #[derive(Serialize)]
    struct Versioned<'a, T> {
        v: u64,
        #[serde(flatten)]
        msg: &'a T,
    }
    // Serialising these types cannot fail: every map key is a string and every float a
    // checked number or a serde_json::Value (which holds no NaN).
    serde_json::to_vec(&Versioned { v: VERSION, msg }).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn id() -> CommandId {
        CommandId::new()
    }

    #[test]
    fn a_command_round_trips_with_its_version() {
        let c = CmdMsg::Command(CommandMsg {
            command_id: id(),
            action: "run_program".into(),
            params: json!({"target_c": 850}),
            deadline: Utc::now(),
            issued_at: Utc::now(),
            attempt: 2,
        });
        let bytes = encode(&c);
        let v: Value = serde_json::from_slice(&bytes).expect("json");
        assert_eq!(v["v"], 1);
        assert_eq!(v["type"], "command");
        assert!(v["deadline"].as_str().expect("deadline").ends_with('Z'));
        let back = decode_cmd(&bytes).expect("decodes");
        // Instants round-trip to the nanosecond.
        assert_eq!(back, c);
    }

    #[test]
    fn versions_are_checked_before_the_shape() {
        let no_v = br#"{"command_id":"0193a6f2-7c3e-7b2a-9d41-5e0c1f2a3b4c","status":"accepted"}"#;
        assert!(matches!(
            decode_inbound(TopicKind::Ack, no_v),
            Err(MqttError::MissingVersion)
        ));
        let v2 = br#"{"v":2,"anything":"goes"}"#;
        assert!(matches!(
            decode_inbound(TopicKind::Ack, v2),
            Err(MqttError::UnsupportedVersion { found }) if found == "2"
        ));
        let v_str = br#"{"v":"1"}"#;
        assert!(matches!(
            decode_inbound(TopicKind::Status, v_str),
            Err(MqttError::MissingVersion)
        ));
        assert!(matches!(
            decode_inbound(TopicKind::Status, b"[1]"),
            Err(MqttError::Malformed { .. })
        ));
        assert!(matches!(
            decode_inbound(TopicKind::Status, b"{\"v\":1,"),
            Err(MqttError::NotJson(_))
        ));
    }

    #[test]
    fn unknown_fields_are_ignored_and_rules_enforced() {
        let ok = br#"{"v":1,"state":"idle","future_field":[1,2]}"#;
        assert!(matches!(
            decode_inbound(TopicKind::Status, ok),
            Ok(Inbound::Status(StatusMsg {
                state: InstrumentState::Idle,
                ..
            }))
        ));
        let rejected_without_reason =
            br#"{"v":1,"command_id":"0193a6f2-7c3e-7b2a-9d41-5e0c1f2a3b4c","status":"rejected"}"#;
        assert!(decode_inbound(TopicKind::Ack, rejected_without_reason).is_err());
        let failed_without_error = br#"{"v":1,"type":"result","command_id":"0193a6f2-7c3e-7b2a-9d41-5e0c1f2a3b4c","outcome":"failed"}"#;
        assert!(decode_inbound(TopicKind::Result, failed_without_error).is_err());
        let nested_telemetry =
            br#"{"v":1,"at":"2026-11-25T17:00:00Z","seq":1,"values":{"a":{"b":1}}}"#;
        assert!(decode_inbound(TopicKind::Telemetry, nested_telemetry).is_err());
        let fraction =
            br#"{"v":1,"command_id":"0193a6f2-7c3e-7b2a-9d41-5e0c1f2a3b4c","fraction":1.5}"#;
        assert!(decode_inbound(TopicKind::Progress, fraction).is_err());
        let new_code = br#"{"v":1,"command_id":"0193a6f2-7c3e-7b2a-9d41-5e0c1f2a3b4c","status":"rejected","reason":{"code":"door_open","message":"m"}}"#;
        match decode_inbound(TopicKind::Ack, new_code) {
            Ok(Inbound::Ack(a)) => assert_eq!(a.reason.map(|r| r.code), Some(RejectCode::Other)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn chunks_and_results_share_the_result_topic() {
        let c = ResultTopicMsg::Chunk(ChunkMsg {
            command_id: id(),
            index: 1,
            count: 3,
            text: "é\"".into(),
        });
        assert!(matches!(
            decode_inbound(TopicKind::Result, &encode(&c)),
            Ok(Inbound::Chunk(ChunkMsg {
                index: 1,
                count: 3,
                ..
            }))
        ));
        let bad = ResultTopicMsg::Chunk(ChunkMsg {
            command_id: id(),
            index: 3,
            count: 3,
            text: String::new(),
        });
        assert!(decode_inbound(TopicKind::Result, &encode(&bad)).is_err());
    }

    #[test]
    fn oversized_payloads_are_refused_unread() {
        let big = vec![b' '; MAX_PAYLOAD_BYTES + 1];
        assert!(matches!(
            decode_inbound(TopicKind::Telemetry, &big),
            Err(MqttError::TooLarge { .. })
        ));
    }
}
