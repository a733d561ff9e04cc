//! The command tracker driven event by event with an injected clock: duplicates, disorder,
//! silence, restarts and lost ledgers each end in a recorded state, a bounded retry, a typed
//! failure or an alarm — and a command is never sent under another id.

use std::time::Duration;

use athanor_core::{
    Command, CommandAction, CommandId, CommandState, InstrumentId, InstrumentState,
};
use athanor_drivers::mqtt::chunks::chunk_result;
use athanor_drivers::mqtt::messages::{
    decode_cmd, AckMsg, AckStatus, ChunkMsg, CmdMsg, Inbound, ProgressMsg, RejectCode,
    RejectReason, ResultError, ResultMsg, ResultOutcome, StatusMsg, MAX_CHUNK_TEXT_BYTES,
};
use athanor_drivers::mqtt::tracker::{
    Action, AlarmKind, CommandFailure, OutboundCommand, Tracker, TrackerConfig,
};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

fn furnace() -> InstrumentId {
    InstrumentId::parse("furnace-1").expect("id")
}

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T12:00:00Z")
        .expect("t0")
        .with_timezone(&Utc)
}

fn secs(s: i64) -> TimeDelta {
    TimeDelta::seconds(s)
}

fn config() -> TrackerConfig {
    TrackerConfig {
        ack_timeout: Duration::from_secs(10),
        max_resends: 2,
        result_timeout: Duration::from_secs(60),
        query_interval: Duration::from_secs(10),
        max_queries: 3,
        chunk_timeout: Duration::from_secs(5),
        start_window: Duration::from_secs(300),
        clock_skew: Duration::from_secs(2),
        keep_finished: Duration::from_secs(3600),
    }
}

fn command(deadline_in: i64) -> OutboundCommand {
    OutboundCommand {
        id: CommandId::new(),
        instrument: furnace(),
        action: "run_program".into(),
        params: json!({"target_c": 850}),
        deadline: Some(t0() + secs(deadline_in)),
    }
}

fn ack(id: CommandId, status: AckStatus) -> Inbound {
    Inbound::Ack(AckMsg {
        command_id: id,
        status,
        at: None,
        reason: (status == AckStatus::Rejected).then(|| RejectReason {
            code: RejectCode::LimitExceeded,
            message: "too hot".into(),
        }),
        expected_done_at: None,
    })
}

fn result(id: CommandId, n: u64) -> ResultMsg {
    ResultMsg {
        command_id: id,
        outcome: ResultOutcome::Succeeded,
        finished_at: None,
        replay: false,
        data: Some(json!({"n": n})),
        error: None,
        chunked: None,
    }
}

/// The `cmd` messages among the actions, decoded.
fn published(actions: &[Action]) -> Vec<CmdMsg> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Publish(p) => {
                assert_eq!(p.topic, "athanor/v1/instruments/furnace-1/cmd");
                Some(decode_cmd(&p.payload).expect("the tracker publishes valid cmd messages"))
            }
            _ => None,
        })
        .collect()
}

fn records(actions: &[Action]) -> Vec<(CommandAction, CommandState)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Record(r) => Some((r.action, r.to)),
            _ => None,
        })
        .collect()
}

fn finished(actions: &[Action]) -> Vec<Result<serde_json::Value, CommandFailure>> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Finished { outcome, .. } => Some(outcome.clone()),
            _ => None,
        })
        .collect()
}

fn alarms(actions: &[Action]) -> Vec<AlarmKind> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Alarm(al) => Some(al.kind),
            _ => None,
        })
        .collect()
}

#[test]
fn happy_path_records_each_state_before_it_publishes() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    let a = t.submit(c, t0()).expect("submitted");
    assert!(matches!(a[0], Action::Record(ref r) if r.to == CommandState::Sent));
    let sent = published(&a);
    assert!(
        matches!(&sent[..], [CmdMsg::Command(m)] if m.command_id == id && m.attempt == 1 && m.deadline == t0() + secs(300))
    );

    let a = t.on_message(&furnace(), ack(id, AckStatus::Accepted), t0() + secs(1));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Acknowledge, CommandState::Acknowledged)]
    );
    let p = Inbound::Progress(ProgressMsg {
        command_id: id,
        at: None,
        fraction: Some(0.5),
        stage: None,
        message: None,
    });
    let a = t.on_message(&furnace(), p, t0() + secs(30));
    assert!(matches!(a[..], [Action::Progress { .. }]));
    let a = t.on_message(&furnace(), Inbound::Result(result(id, 7)), t0() + secs(40));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Succeed, CommandState::Succeeded)]
    );
    assert_eq!(finished(&a), vec![Ok(json!({"n": 7}))]);
    match &a[0] {
        Action::Record(r) => assert_eq!(
            r.result,
            Some(json!({"outcome": "succeeded", "data": {"n": 7}}))
        ),
        other => panic!("{other:?}"),
    }
    assert_eq!(t.in_flight(), 0);
}

#[test]
fn duplicates_and_disorder_change_nothing_twice() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    // The result overtakes the ack (e.g. after a reconnect): sent → succeeded is legal.
    let a = t.on_message(&furnace(), Inbound::Result(result(id, 1)), t0() + secs(1));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Succeed, CommandState::Succeeded)]
    );
    for m in [
        ack(id, AckStatus::Accepted),
        Inbound::Result(result(id, 1)),
        ack(id, AckStatus::Running),
    ] {
        let a = t.on_message(&furnace(), m, t0() + secs(2));
        assert!(a.is_empty(), "{a:?}");
    }
    let mut replay = result(id, 1);
    replay.replay = true;
    assert!(t
        .on_message(&furnace(), Inbound::Result(replay), t0() + secs(3))
        .is_empty());
    assert_eq!(t.stats().duplicates, 4);
    // A different second result is an alarm, and the first one stays.
    let a = t.on_message(&furnace(), Inbound::Result(result(id, 2)), t0() + secs(4));
    assert_eq!(alarms(&a), vec![AlarmKind::ConflictingResult]);
    assert!(records(&a).is_empty());
    // Messages about unknown ids or from another instrument are dropped.
    let other = InstrumentId::parse("xrd-a").expect("id");
    assert!(t
        .on_message(&other, Inbound::Result(result(id, 3)), t0())
        .is_empty());
    assert!(t
        .on_message(
            &furnace(),
            Inbound::Result(result(CommandId::new(), 3)),
            t0()
        )
        .is_empty());
    assert_eq!(t.stats().wrong_instrument, 1);
    assert_eq!(t.stats().unknown_command, 1);
}

#[test]
fn a_controller_that_never_answers_ends_in_a_typed_failure_and_an_alarm() {
    let mut t = Tracker::new(config());
    let c = command(25);
    let id = c.id;
    let mut all = t.submit(c, t0()).expect("submitted");
    let mut now = t0();
    let mut ticks = 0;
    while t.in_flight() > 0 {
        now = t.next_due().expect("a timer is always set while in flight");
        all.extend(t.on_tick(now));
        ticks += 1;
        assert!(ticks < 20, "the tracker must give up by itself");
    }
    let cmds = published(&all);
    let sends: Vec<_> = cmds
        .iter()
        .filter_map(|m| match m {
            CmdMsg::Command(c) => Some(c),
            _ => None,
        })
        .collect();
    // First send and max_resends re-sends, all under the same id, none after the deadline.
    assert_eq!(sends.len(), 3);
    assert!(sends
        .iter()
        .all(|c| c.command_id == id && c.issued_at < t0() + secs(25)));
    assert_eq!(
        sends.iter().map(|c| c.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let queries = cmds
        .iter()
        .filter(|m| matches!(m, CmdMsg::Query(_)))
        .count();
    assert_eq!(queries, 3);
    assert_eq!(
        finished(&all),
        vec![Err(CommandFailure::NoAnswer { queries: 3 })]
    );
    assert_eq!(alarms(&all), vec![AlarmKind::NoAnswer]);
    assert_eq!(t.state(id), Some(CommandState::Failed));
    assert!(!CommandFailure::NoAnswer { queries: 3 }.did_not_run());
    // An answer after giving up reaches the operator; the record does not change.
    let a = t.on_message(&furnace(), Inbound::Result(result(id, 1)), now + secs(1));
    assert_eq!(alarms(&a), vec![AlarmKind::LateAnswer]);
    assert!(records(&a).is_empty());
}

#[test]
fn silence_after_the_ack_is_queried_then_given_up() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let mut a = t.on_message(
        &furnace(),
        Inbound::Ack(AckMsg {
            command_id: id,
            status: AckStatus::Accepted,
            at: None,
            reason: None,
            expected_done_at: Some(t0() + secs(600)),
        }),
        t0() + secs(1),
    );
    // The controller's estimate pushes the first query past result_timeout.
    assert_eq!(t.next_due(), Some(t0() + secs(600)));
    while t.in_flight() > 0 {
        let due = t.next_due().expect("due");
        a.extend(t.on_tick(due));
    }
    assert!(
        published(&a).iter().all(|m| matches!(m, CmdMsg::Query(_))),
        "never re-sent after the ack"
    );
    assert_eq!(
        finished(&a),
        vec![Err(CommandFailure::NoAnswer { queries: 3 })]
    );
}

#[test]
fn a_query_answered_unknown_resends_before_the_deadline_and_expires_after() {
    let mut t = Tracker::new(config());
    let c = command(30);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let a = t.on_message(&furnace(), ack(id, AckStatus::Unknown), t0() + secs(5));
    assert!(
        matches!(&published(&a)[..], [CmdMsg::Command(m)] if m.command_id == id && m.attempt == 2)
    );
    // Within the clock-skew margin after the deadline nothing is concluded yet.
    assert!(t
        .on_message(&furnace(), ack(id, AckStatus::Unknown), t0() + secs(31))
        .is_empty());
    let a = t.on_message(&furnace(), ack(id, AckStatus::Unknown), t0() + secs(33));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Expire, CommandState::Expired)]
    );
    assert_eq!(finished(&a), vec![Err(CommandFailure::Expired)]);
    assert!(CommandFailure::Expired.did_not_run());
}

#[test]
fn rejections_end_the_command_with_their_reason() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let a = t.on_message(&furnace(), ack(id, AckStatus::Rejected), t0() + secs(1));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Fail, CommandState::Failed)]
    );
    assert!(matches!(
        &finished(&a)[..],
        [Err(CommandFailure::Rejected {
            code: RejectCode::LimitExceeded,
            ..
        })]
    ));
    // A repeat of the rejection is a duplicate; a result after it is a conflict.
    assert!(t
        .on_message(&furnace(), ack(id, AckStatus::Rejected), t0() + secs(2))
        .is_empty());
    let a = t.on_message(&furnace(), Inbound::Result(result(id, 1)), t0() + secs(3));
    assert_eq!(alarms(&a), vec![AlarmKind::ConflictingResult]);

    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let late = Inbound::Ack(AckMsg {
        command_id: id,
        status: AckStatus::Rejected,
        at: None,
        reason: Some(RejectReason {
            code: RejectCode::DeadlinePassed,
            message: String::new(),
        }),
        expected_done_at: None,
    });
    let a = t.on_message(&furnace(), late, t0() + secs(1));
    assert_eq!(
        records(&a),
        vec![(CommandAction::Expire, CommandState::Expired)]
    );
}

#[test]
fn a_failed_result_carries_its_error() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let r = ResultMsg {
        outcome: ResultOutcome::Failed,
        error: Some(ResultError {
            code: "thermocouple_open".into(),
            message: "TC1".into(),
        }),
        data: None,
        ..result(id, 0)
    };
    let a = t.on_message(&furnace(), Inbound::Result(r), t0() + secs(1));
    assert!(
        matches!(&finished(&a)[..], [Err(CommandFailure::Failed { code, .. })] if code == "thermocouple_open")
    );
}

#[test]
fn a_forgotten_acknowledged_command_is_an_alarm() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    t.on_message(&furnace(), ack(id, AckStatus::Accepted), t0() + secs(1));
    let a = t.on_message(&furnace(), ack(id, AckStatus::Unknown), t0() + secs(70));
    assert_eq!(alarms(&a), vec![AlarmKind::Forgotten]);
    assert_eq!(finished(&a), vec![Err(CommandFailure::Forgotten)]);
}

#[test]
fn reconnection_resends_the_unacknowledged_and_queries_the_acknowledged() {
    let mut t = Tracker::new(config());
    let (a1, a2) = (command(300), command(300));
    let (id1, id2) = (a1.id, a2.id);
    t.submit(a1, t0()).expect("submitted");
    t.submit(a2, t0()).expect("submitted");
    t.on_message(&furnace(), ack(id2, AckStatus::Accepted), t0() + secs(1));
    let a = t.on_connected(t0() + secs(2));
    let msgs = published(&a);
    assert_eq!(msgs.len(), 2);
    assert!(msgs
        .iter()
        .any(|m| matches!(m, CmdMsg::Command(c) if c.command_id == id1 && c.attempt == 2)));
    assert!(msgs
        .iter()
        .any(|m| matches!(m, CmdMsg::Query(q) if q.command_id == id2)));
    assert!(records(&a).is_empty(), "reconnecting changes no state");
}

#[test]
fn a_controller_going_offline_raises_an_alarm_and_coming_back_reconciles() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    t.on_message(&furnace(), ack(id, AckStatus::Accepted), t0() + secs(1));
    let status = |state| {
        Inbound::Status(StatusMsg {
            state,
            at: None,
            reason: Some("connection lost".into()),
            controller: None,
        })
    };
    let a = t.on_message(&furnace(), status(InstrumentState::Offline), t0() + secs(2));
    assert_eq!(alarms(&a), vec![AlarmKind::ControllerOffline]);
    assert!(matches!(a[0], Action::Status { .. }));
    let a = t.on_message(&furnace(), status(InstrumentState::Busy), t0() + secs(3));
    assert!(matches!(&published(&a)[..], [CmdMsg::Query(q)] if q.command_id == id));
}

#[test]
fn restore_takes_over_what_the_store_holds_unfinished() {
    let mut t = Tracker::new(config());
    let stored = |state, deadline_in: i64| Command {
        id: CommandId::new(),
        step_id: None,
        instrument_id: furnace(),
        action: "scan".into(),
        parameters: json!({}),
        deadline: Some(t0() + secs(deadline_in)),
        state,
        result: None,
        created_at: t0() - secs(100),
        updated_at: t0() - secs(100),
    };
    let pending = stored(CommandState::Pending, 300);
    let sent = stored(CommandState::Sent, 300);
    let sent_late = stored(CommandState::Sent, -10);
    let acked = stored(CommandState::Acknowledged, -10);
    let done = stored(CommandState::Succeeded, 300);
    let a = t.restore(&pending, t0());
    assert_eq!(records(&a), vec![(CommandAction::Send, CommandState::Sent)]);
    assert!(matches!(&published(&a)[..], [CmdMsg::Command(_)]));
    let a = t.restore(&sent, t0());
    assert!(records(&a).is_empty());
    assert!(matches!(&published(&a)[..], [CmdMsg::Command(c)] if c.command_id == sent.id));
    // Past its deadline a sent command is only asked about, never sent again.
    let a = t.restore(&sent_late, t0());
    assert!(matches!(&published(&a)[..], [CmdMsg::Query(_)]));
    let a = t.restore(&acked, t0());
    assert!(matches!(&published(&a)[..], [CmdMsg::Query(_)]));
    assert!(t.restore(&done, t0()).is_empty());
    assert_eq!(t.in_flight(), 4);
}

#[test]
fn invalid_or_late_commands_are_refused_unsent() {
    let mut t = Tracker::new(config());
    let mut c = command(300);
    c.action = "Run Program".into();
    assert!(t.submit(c, t0()).is_err());
    let mut c = command(300);
    c.params = json!([1]);
    assert!(t.submit(c, t0()).is_err());
    assert!(t.submit(command(-1), t0()).is_err());
    let c = command(300);
    t.submit(c.clone(), t0()).expect("first");
    assert!(t.submit(c, t0()).is_err(), "the same id twice");
}

#[test]
fn a_chunked_result_completes_in_any_order_and_a_corrupt_one_is_asked_again() {
    let mut t = Tracker::new(config());
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let big: Vec<u64> = (0..100_000).collect();
    let (chunks, head) = chunk_result(
        ResultMsg {
            data: Some(json!({"counts": big})),
            ..result(id, 0)
        },
        MAX_CHUNK_TEXT_BYTES,
    );
    assert!(chunks.len() >= 2);
    // The head arrives before its chunks (a reconnect can reorder); chunks come reversed, twice.
    assert!(t
        .on_message(&furnace(), Inbound::Result(head.clone()), t0() + secs(1))
        .is_empty());
    assert_eq!(t.next_due(), Some(t0() + secs(6)));
    let mut last = Vec::new();
    for ch in chunks.iter().rev().chain(chunks.iter()) {
        last.extend(t.on_message(&furnace(), Inbound::Chunk(ch.clone()), t0() + secs(2)));
    }
    assert!(
        matches!(&finished(&last)[..], [Ok(v)] if v["counts"].as_array().map(Vec::len) == Some(100_000))
    );

    // Corrupt text: the transfer starts over with a query.
    let c = command(300);
    let id = c.id;
    t.submit(c, t0()).expect("submitted");
    let (mut chunks, head) = chunk_result(
        ResultMsg {
            data: Some(json!({"counts": (0..100_000).collect::<Vec<u64>>()})),
            ..result(id, 0)
        },
        MAX_CHUNK_TEXT_BYTES,
    );
    chunks[0] = ChunkMsg {
        text: chunks[0].text.replace('1', "2"),
        ..chunks[0].clone()
    };
    for ch in &chunks {
        assert!(t
            .on_message(&furnace(), Inbound::Chunk(ch.clone()), t0() + secs(1))
            .is_empty());
    }
    let a = t.on_message(&furnace(), Inbound::Result(head), t0() + secs(1));
    assert!(matches!(&published(&a)[..], [CmdMsg::Query(q)] if q.command_id == id));
    assert_eq!(t.state(id), Some(CommandState::Sent));
}

/// A small deterministic generator, so that the shuffles repeat.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn any_interleaving_of_duplicated_messages_finishes_each_command_once() {
    for seed in 0..300u64 {
        let mut rng = Lcg(seed);
        let mut t = Tracker::new(config());
        let cmds: Vec<OutboundCommand> = (0..3).map(|_| command(300)).collect();
        let mut inbox = Vec::new();
        for (i, c) in cmds.iter().enumerate() {
            t.submit(c.clone(), t0()).expect("submitted");
            let p = Inbound::Progress(ProgressMsg {
                command_id: c.id,
                at: None,
                fraction: None,
                stage: None,
                message: None,
            });
            for m in [
                ack(c.id, AckStatus::Accepted),
                p,
                Inbound::Result(result(c.id, i as u64)),
                ack(c.id, AckStatus::Running),
            ] {
                for _ in 0..=rng.next(3) {
                    inbox.push(m.clone());
                }
            }
        }
        let mut done = Vec::new();
        let mut moves = Vec::new();
        let mut now = t0();
        while !inbox.is_empty() {
            let m = inbox.swap_remove(rng.next(inbox.len()));
            now += secs(1);
            let a = t.on_message(&furnace(), m, now);
            done.extend(finished(&a));
            moves.extend(records(&a));
            assert!(alarms(&a).is_empty(), "seed {seed}: {a:?}");
        }
        assert_eq!(done.len(), 3, "seed {seed}");
        assert!(done.iter().all(Result::is_ok));
        assert_eq!(
            moves
                .iter()
                .filter(|(a, _)| *a == CommandAction::Succeed)
                .count(),
            3
        );
        assert_eq!(t.in_flight(), 0);
    }
}
