//! The controller's side of the contract: a ledger of handled command ids that turns each `cmd`
//! message into "execute this, once" or the answer to re-send. No I/O; simulated controllers (and
//! the tests) drive it. A real controller must keep the same ledger on disk (docs/mqtt.md).

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use athanor_core::{CommandId, InstrumentId};

use super::chunks::chunk_result;
use super::messages::{
    encode, AckMsg, AckStatus, CmdMsg, CommandMsg, RejectCode, RejectReason, ResultMsg,
    ResultTopicMsg, MAX_CHUNK_TEXT_BYTES,
};
use super::topics::{topic, TopicKind};
use super::tracker::Publish;

#[derive(Debug, Clone)]
enum Entry {
    Running,
    Rejected(AckMsg),
    Finished(Vec<Publish>),
}

/// What the controller must do with a `cmd` message.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// Messages to publish now (QoS 1, not retained).
    pub publish: Vec<Publish>,
    /// The command to execute — present at most once per command id, ever.
    pub execute: Option<CommandMsg>,
}

/// One controller's record of every command id it has handled.
#[derive(Debug)]
pub struct Ledger {
    instrument: InstrumentId,
    entries: HashMap<CommandId, Entry>,
    executed: u64,
}

impl Ledger {
    pub fn new(instrument: InstrumentId) -> Self {
        Self {
            instrument,
            entries: HashMap::new(),
            executed: 0,
        }
    }

    /// How many commands this ledger has let execute.
    pub fn executed(&self) -> u64 {
        self.executed
    }

    fn ack(&self, msg: &AckMsg) -> Publish {
        Publish {
            topic: topic(&self.instrument, TopicKind::Ack),
            payload: encode(msg),
        }
    }

    /// Handles one `cmd` message.
    pub fn on_cmd(&mut self, msg: CmdMsg, now: DateTime<Utc>) -> Decision {
        let id = msg.command_id();
        let known = self.entries.get(&id).cloned();
        let reply = |publish| Decision {
            publish,
            execute: None,
        };
        match (known, msg) {
            (Some(Entry::Running), _) => reply(vec![self.ack(&AckMsg {
                command_id: id,
                status: AckStatus::Running,
                at: Some(now),
                reason: None,
                expected_done_at: None,
            })]),
            (Some(Entry::Rejected(ack)), _) => reply(vec![self.ack(&ack)]),
            (Some(Entry::Finished(publishes)), _) => reply(publishes),
            (None, CmdMsg::Query(_)) => reply(vec![self.ack(&AckMsg {
                command_id: id,
                status: AckStatus::Unknown,
                at: Some(now),
                reason: None,
                expected_done_at: None,
            })]),
            (None, CmdMsg::Command(c)) if now > c.deadline => {
                let ack = AckMsg {
                    command_id: id,
                    status: AckStatus::Rejected,
                    at: Some(now),
                    reason: Some(RejectReason {
                        code: RejectCode::DeadlinePassed,
                        message: format!(
                            "deadline {} passed before the command arrived",
                            c.deadline
                        ),
                    }),
                    expected_done_at: None,
                };
                self.entries.insert(id, Entry::Rejected(ack.clone()));
                reply(vec![self.ack(&ack)])
            }
            (None, CmdMsg::Command(c)) => {
                // Recorded before anything happens, so a duplicate can never start it again.
                self.entries.insert(id, Entry::Running);
                self.executed += 1;
                Decision {
                    publish: vec![self.ack(&AckMsg {
                        command_id: id,
                        status: AckStatus::Accepted,
                        at: Some(now),
                        reason: None,
                        expected_done_at: None,
                    })],
                    execute: Some(c),
                }
            }
        }
    }

    /// Refuses a command the controller cannot run (unknown action, out of limits); the refusal is
    /// recorded and repeated for duplicates.
    pub fn reject(
        &mut self,
        id: CommandId,
        code: RejectCode,
        message: &str,
        now: DateTime<Utc>,
    ) -> Vec<Publish> {
        let ack = AckMsg {
            command_id: id,
            status: AckStatus::Rejected,
            at: Some(now),
            reason: Some(RejectReason {
                code,
                message: message.to_owned(),
            }),
            expected_done_at: None,
        };
        self.entries.insert(id, Entry::Rejected(ack.clone()));
        vec![self.ack(&ack)]
    }

    /// Records a command's result and returns the messages that carry it (chunks first when it is
    /// large). Re-sends of this result are the same messages with `replay: true`.
    pub fn finish(&mut self, result: ResultMsg) -> Vec<Publish> {
        let id = result.command_id;
        let (chunks, head) = chunk_result(result, MAX_CHUNK_TEXT_BYTES);
        let result_topic = topic(&self.instrument, TopicKind::Result);
        let build = |replay: bool| -> Vec<Publish> {
            let mut v: Vec<Publish> = chunks
                .iter()
                .map(|c| Publish {
                    topic: result_topic.clone(),
                    payload: encode(&ResultTopicMsg::Chunk(c.clone())),
                })
                .collect();
            v.push(Publish {
                topic: result_topic.clone(),
                payload: encode(&ResultTopicMsg::Result(ResultMsg {
                    replay,
                    ..head.clone()
                })),
            });
            v
        };
        self.entries.insert(id, Entry::Finished(build(true)));
        build(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mqtt::messages::{decode_inbound, Inbound, QueryMsg, ResultOutcome};
    use serde_json::json;

    fn command(deadline: DateTime<Utc>) -> CommandMsg {
        CommandMsg {
            command_id: CommandId::new(),
            action: "scan".into(),
            params: json!({}),
            deadline,
            issued_at: Utc::now(),
            attempt: 1,
        }
    }

    #[test]
    fn a_command_executes_once_whatever_arrives_after() {
        let mut l = Ledger::new(InstrumentId::parse("xrd-a").expect("id"));
        let now = Utc::now();
        let c = command(now + chrono::TimeDelta::seconds(60));
        let d = l.on_cmd(CmdMsg::Command(c.clone()), now);
        assert!(d.execute.is_some());
        let again = l.on_cmd(CmdMsg::Command(c.clone()), now);
        assert!(again.execute.is_none());
        let running = decode_inbound(TopicKind::Ack, &again.publish[0].payload).expect("ack");
        assert!(matches!(
            running,
            Inbound::Ack(AckMsg {
                status: AckStatus::Running,
                ..
            })
        ));
        let first = l.finish(ResultMsg {
            command_id: c.command_id,
            outcome: ResultOutcome::Succeeded,
            finished_at: Some(now),
            replay: false,
            data: Some(json!({"n": 1})),
            error: None,
            chunked: None,
        });
        let replay = l.on_cmd(
            CmdMsg::Query(QueryMsg {
                command_id: c.command_id,
                issued_at: None,
            }),
            now,
        );
        assert!(replay.execute.is_none());
        match decode_inbound(TopicKind::Result, &replay.publish[0].payload).expect("result") {
            Inbound::Result(r) => {
                assert!(r.replay);
                assert_eq!(r.data, Some(json!({"n": 1})));
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(first.len(), 1);
        assert_eq!(l.executed(), 1);
    }

    #[test]
    fn late_commands_are_rejected_and_unknown_queries_say_so() {
        let mut l = Ledger::new(InstrumentId::parse("xrd-a").expect("id"));
        let now = Utc::now();
        let c = command(now - chrono::TimeDelta::seconds(1));
        let d = l.on_cmd(CmdMsg::Command(c), now);
        assert!(d.execute.is_none());
        assert!(matches!(
            decode_inbound(TopicKind::Ack, &d.publish[0].payload),
            Ok(Inbound::Ack(AckMsg {
                status: AckStatus::Rejected,
                ..
            }))
        ));
        let q = l.on_cmd(
            CmdMsg::Query(QueryMsg {
                command_id: CommandId::new(),
                issued_at: None,
            }),
            now,
        );
        assert!(matches!(
            decode_inbound(TopicKind::Ack, &q.publish[0].payload),
            Ok(Inbound::Ack(AckMsg {
                status: AckStatus::Unknown,
                ..
            }))
        ));
        assert_eq!(l.executed(), 0);
    }
}
