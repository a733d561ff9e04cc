//! Topic names of the MQTT instrument contract (`athanor/v1/instruments/{id}/{kind}`): building
//! them and parsing them back, with no I/O.

use athanor_core::InstrumentId;

use super::MqttError;

/// The versioned prefix every topic of this contract lives under.
pub const PREFIX: &str = "athanor/v1/instruments";

/// The last level of a topic: what the message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TopicKind {
    /// Daemon → controller: commands and result queries. Never retained.
    Cmd,
    /// Controller → daemon: accepted / running / rejected / unknown.
    Ack,
    /// Controller → daemon: how far a command has got.
    Progress,
    /// Controller → daemon: readings.
    Telemetry,
    /// Controller → daemon: a command's outcome and the chunks of a large one.
    Result,
    /// Controller → daemon, retained: the controller's state; its will sets it offline.
    Status,
}

impl TopicKind {
    pub const ALL: [TopicKind; 6] = [
        TopicKind::Cmd,
        TopicKind::Ack,
        TopicKind::Progress,
        TopicKind::Telemetry,
        TopicKind::Result,
        TopicKind::Status,
    ];

    /// The kinds a controller publishes and the daemon subscribes to.
    pub const FROM_CONTROLLER: [TopicKind; 5] = [
        TopicKind::Ack,
        TopicKind::Progress,
        TopicKind::Telemetry,
        TopicKind::Result,
        TopicKind::Status,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TopicKind::Cmd => "cmd",
            TopicKind::Ack => "ack",
            TopicKind::Progress => "progress",
            TopicKind::Telemetry => "telemetry",
            TopicKind::Result => "result",
            TopicKind::Status => "status",
        }
    }

    fn from_level(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

impl std::fmt::Display for TopicKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The topic of one instrument's messages of one kind.
pub fn topic(instrument: &InstrumentId, kind: TopicKind) -> String {
    format!("{PREFIX}/{instrument}/{kind}")
}

/// The subscriptions of the daemon: every instrument's controller-to-daemon topics.
pub fn daemon_filters() -> Vec<String> {
    TopicKind::FROM_CONTROLLER
        .iter()
        .map(|k| format!("{PREFIX}/+/{k}"))
        .collect()
}

/// The one subscription of a controller: its own command topic.
pub fn controller_filter(instrument: &InstrumentId) -> String {
    topic(instrument, TopicKind::Cmd)
}

/// The instrument and kind a topic names, or an error for a topic outside the contract.
pub fn parse(topic: &str) -> Result<(InstrumentId, TopicKind), MqttError> {
    let bad = |why: &str| MqttError::Topic {
        topic: topic.chars().take(200).collect(),
        reason: why.to_owned(),
    };
    let rest = topic
        .strip_prefix(PREFIX)
        .and_then(|r| r.strip_prefix('/'))
        .ok_or_else(|| bad("not under athanor/v1/instruments/"))?;
    let (id, kind) = rest
        .split_once('/')
        .ok_or_else(|| bad("expected {id}/{kind}"))?;
    let kind = TopicKind::from_level(kind).ok_or_else(|| bad("unknown message kind"))?;
    let id = InstrumentId::parse(id).map_err(|_| bad("not an instrument id"))?;
    Ok((id, kind))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_round_trip() {
        let id = InstrumentId::parse("furnace-1").expect("id");
        for kind in TopicKind::ALL {
            let t = topic(&id, kind);
            assert_eq!(parse(&t).expect("parses"), (id.clone(), kind));
        }
        assert_eq!(
            topic(&id, TopicKind::Status),
            "athanor/v1/instruments/furnace-1/status"
        );
    }

    #[test]
    fn foreign_topics_are_refused() {
        for t in [
            "",
            "athanor/v1/instruments",
            "athanor/v1/instruments/",
            "athanor/v2/instruments/x/ack",
            "athanor/v1/instruments/x/ack/extra",
            "athanor/v1/instruments/X/ack",
            "athanor/v1/instruments/+/ack",
            "athanor/v1/instruments/x/bogus",
            "athanor/v1/instrumentsx/a/ack",
        ] {
            assert!(parse(t).is_err(), "{t:?} accepted");
        }
    }

    #[test]
    fn the_daemon_subscribes_to_what_controllers_publish() {
        let f = daemon_filters();
        assert_eq!(f.len(), 5);
        assert!(f.contains(&"athanor/v1/instruments/+/result".to_owned()));
        assert!(!f.iter().any(|x| x.ends_with("/cmd")));
    }
}
