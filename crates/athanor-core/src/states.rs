//! The lifecycle of every stateful record, each as one table of legal transitions.
//!
//! | machine | states | terminal |
//! | --- | --- | --- |
//! | campaign | active ⇄ paused → completed/aborted | completed, aborted |
//! | hypothesis | open → supported/refuted/withdrawn (supported/refuted may reopen) | withdrawn |
//! | experiment | proposed → scheduled → running → analyzing → completed; failed/cancelled | completed, failed, cancelled |
//! | sample | planned → in_process ⇄ stored; lost/discarded | lost, discarded |
//! | step | pending → running → succeeded/failed; cancelled | succeeded, failed, cancelled |
//! | command | pending → sent → acknowledged → succeeded/failed; expired | succeeded, failed, expired |
//! | instrument | offline ⇄ idle ⇄ busy; fault; maintenance | none |

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::machine::StateMachine;

/// Implements `as_str`/`FromStr` for a snake_case enum so that states round-trip through the store.
macro_rules! snake_case_names {
    ($ty:ident { $($variant:ident => $name:literal),+ $(,)? }) => {
        impl $ty {
            /// All values, in declaration order.
            pub const ALL: &'static [$ty] = &[$($ty::$variant),+];

            /// The stored and serialized name.
            pub fn as_str(self) -> &'static str {
                match self { $($ty::$variant => $name),+ }
            }
        }

        impl std::str::FromStr for $ty {
            type Err = crate::error::UnknownName;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $($name => Ok($ty::$variant),)+
                    other => Err(crate::error::UnknownName { kind: stringify!($ty), name: other.to_owned() }),
                }
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use snake_case_names;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignState {
    Active,
    Paused,
    Completed,
    Aborted,
}
snake_case_names!(CampaignState { Active => "active", Paused => "paused", Completed => "completed", Aborted => "aborted" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CampaignAction {
    Pause,
    Resume,
    Abort,
    Complete,
}
snake_case_names!(CampaignAction { Pause => "pause", Resume => "resume", Abort => "abort", Complete => "complete" });

impl StateMachine for CampaignState {
    type Action = CampaignAction;
    const KIND: &'static str = "campaign";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use CampaignAction::*;
        use CampaignState::*;
        &[
            (Active, Pause, Paused),
            (Paused, Resume, Active),
            (Active, Abort, Aborted),
            (Paused, Abort, Aborted),
            (Active, Complete, Completed),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisState {
    Open,
    Supported,
    Refuted,
    Withdrawn,
}
snake_case_names!(HypothesisState { Open => "open", Supported => "supported", Refuted => "refuted", Withdrawn => "withdrawn" });

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisAction {
    Support,
    Refute,
    Reopen,
    Withdraw,
}
snake_case_names!(HypothesisAction { Support => "support", Refute => "refute", Reopen => "reopen", Withdraw => "withdraw" });

impl StateMachine for HypothesisState {
    type Action = HypothesisAction;
    const KIND: &'static str = "hypothesis";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use HypothesisAction::*;
        use HypothesisState::*;
        &[
            (Open, Support, Supported),
            (Open, Refute, Refuted),
            (Open, Withdraw, Withdrawn),
            (Supported, Reopen, Open),
            (Refuted, Reopen, Open),
            (Supported, Withdraw, Withdrawn),
            (Refuted, Withdraw, Withdrawn),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentState {
    Proposed,
    Scheduled,
    Running,
    Analyzing,
    Completed,
    Failed,
    Cancelled,
}
snake_case_names!(ExperimentState {
    Proposed => "proposed", Scheduled => "scheduled", Running => "running", Analyzing => "analyzing",
    Completed => "completed", Failed => "failed", Cancelled => "cancelled",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ExperimentAction {
    Schedule,
    Start,
    Analyze,
    Complete,
    Fail,
    Cancel,
}
snake_case_names!(ExperimentAction {
    Schedule => "schedule", Start => "start", Analyze => "analyze", Complete => "complete",
    Fail => "fail", Cancel => "cancel",
});

impl StateMachine for ExperimentState {
    type Action = ExperimentAction;
    const KIND: &'static str = "experiment";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use ExperimentAction::*;
        use ExperimentState::*;
        &[
            (Proposed, Schedule, Scheduled),
            (Scheduled, Start, Running),
            (Running, Analyze, Analyzing),
            (Analyzing, Complete, Completed),
            (Running, Fail, Failed),
            (Analyzing, Fail, Failed),
            (Scheduled, Fail, Failed),
            (Proposed, Cancel, Cancelled),
            (Scheduled, Cancel, Cancelled),
            (Running, Cancel, Cancelled),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SampleState {
    Planned,
    InProcess,
    Stored,
    Lost,
    Discarded,
}
snake_case_names!(SampleState {
    Planned => "planned", InProcess => "in_process", Stored => "stored", Lost => "lost", Discarded => "discarded",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SampleAction {
    BeginProcessing,
    Store,
    MarkLost,
    Discard,
}
snake_case_names!(SampleAction {
    BeginProcessing => "begin_processing", Store => "store", MarkLost => "mark_lost", Discard => "discard",
});

impl StateMachine for SampleState {
    type Action = SampleAction;
    const KIND: &'static str = "sample";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use SampleAction::*;
        use SampleState::*;
        &[
            (Planned, BeginProcessing, InProcess),
            (Stored, BeginProcessing, InProcess),
            (InProcess, Store, Stored),
            (Planned, Discard, Discarded),
            (Stored, Discard, Discarded),
            (InProcess, MarkLost, Lost),
            (Stored, MarkLost, Lost),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepState {
    Pending,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}
snake_case_names!(StepState {
    Pending => "pending", Running => "running", Succeeded => "succeeded", Failed => "failed", Cancelled => "cancelled",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StepAction {
    Start,
    Succeed,
    Fail,
    Cancel,
}
snake_case_names!(StepAction { Start => "start", Succeed => "succeed", Fail => "fail", Cancel => "cancel" });

impl StateMachine for StepState {
    type Action = StepAction;
    const KIND: &'static str = "step";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use StepAction::*;
        use StepState::*;
        &[
            (Pending, Start, Running),
            (Running, Succeed, Succeeded),
            (Running, Fail, Failed),
            (Pending, Cancel, Cancelled),
            (Running, Cancel, Cancelled),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandState {
    Pending,
    Sent,
    Acknowledged,
    Succeeded,
    Failed,
    Expired,
}
snake_case_names!(CommandState {
    Pending => "pending", Sent => "sent", Acknowledged => "acknowledged", Succeeded => "succeeded",
    Failed => "failed", Expired => "expired",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CommandAction {
    Send,
    Acknowledge,
    Succeed,
    Fail,
    Expire,
}
snake_case_names!(CommandAction {
    Send => "send", Acknowledge => "acknowledge", Succeed => "succeed", Fail => "fail", Expire => "expire",
});

impl StateMachine for CommandState {
    type Action = CommandAction;
    const KIND: &'static str = "command";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use CommandAction::*;
        use CommandState::*;
        &[
            (Pending, Send, Sent),
            // Its deadline passed before it could be sent (a daemon restart, a long outage):
            // it never reached the instrument and now it must not.
            (Pending, Expire, Expired),
            (Sent, Acknowledge, Acknowledged),
            // A controller may answer with its result before (or instead of) a separate ack.
            (Sent, Succeed, Succeeded),
            (Sent, Fail, Failed),
            (Acknowledged, Succeed, Succeeded),
            (Acknowledged, Fail, Failed),
            (Sent, Expire, Expired),
            (Acknowledged, Expire, Expired),
        ]
    };
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentState {
    Offline,
    Idle,
    Busy,
    Fault,
    Maintenance,
}
snake_case_names!(InstrumentState {
    Offline => "offline", Idle => "idle", Busy => "busy", Fault => "fault", Maintenance => "maintenance",
});

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentAction {
    ComeOnline,
    GoOffline,
    Reserve,
    Release,
    ReportFault,
    ClearFault,
    EnterMaintenance,
    LeaveMaintenance,
}
snake_case_names!(InstrumentAction {
    ComeOnline => "come_online", GoOffline => "go_offline", Reserve => "reserve", Release => "release",
    ReportFault => "report_fault", ClearFault => "clear_fault", EnterMaintenance => "enter_maintenance",
    LeaveMaintenance => "leave_maintenance",
});

impl StateMachine for InstrumentState {
    type Action = InstrumentAction;
    const KIND: &'static str = "instrument";
    const TRANSITIONS: &'static [(Self, Self::Action, Self)] = {
        use InstrumentAction::*;
        use InstrumentState::*;
        &[
            (Offline, ComeOnline, Idle),
            (Idle, GoOffline, Offline),
            (Busy, GoOffline, Offline),
            (Fault, GoOffline, Offline),
            (Idle, Reserve, Busy),
            (Busy, Release, Idle),
            (Idle, ReportFault, Fault),
            (Busy, ReportFault, Fault),
            (Fault, ClearFault, Idle),
            (Offline, EnterMaintenance, Maintenance),
            (Idle, EnterMaintenance, Maintenance),
            (Fault, EnterMaintenance, Maintenance),
            (Maintenance, LeaveMaintenance, Offline),
        ]
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::StateMachine;
    use std::collections::HashSet;

    #[test]
    fn path_to_finds_the_shortest_legal_route() {
        use InstrumentAction::*;
        use InstrumentState::*;
        assert_eq!(Idle.path_to(Idle), Some(vec![]));
        assert_eq!(Offline.path_to(Busy), Some(vec![ComeOnline, Reserve]));
        assert_eq!(Busy.path_to(Idle), Some(vec![Release]));
        assert_eq!(Fault.path_to(Busy), Some(vec![ClearFault, Reserve]));
        assert_eq!(
            Maintenance.path_to(Idle),
            Some(vec![LeaveMaintenance, ComeOnline])
        );
        assert_eq!(CommandState::Succeeded.path_to(CommandState::Sent), None);
        // Every route it gives is legal move by move.
        for from in [Offline, Idle, Busy, Fault, Maintenance] {
            for to in [Offline, Idle, Busy, Fault, Maintenance] {
                let path = from.path_to(to).unwrap();
                let end = path.iter().try_fold(from, |s, a| s.apply(*a)).unwrap();
                assert_eq!(end, to);
            }
        }
    }

    fn table_is_deterministic<M: StateMachine + std::hash::Hash>()
    where
        M::Action: std::hash::Hash,
    {
        let mut seen = HashSet::new();
        for (from, action, _) in M::TRANSITIONS {
            assert!(
                seen.insert((*from, *action)),
                "{} lists {from:?} --{action:?}--> twice",
                M::KIND
            );
        }
    }

    #[test]
    fn every_table_has_one_target_per_state_and_action() {
        table_is_deterministic::<CampaignState>();
        table_is_deterministic::<HypothesisState>();
        table_is_deterministic::<ExperimentState>();
        table_is_deterministic::<SampleState>();
        table_is_deterministic::<StepState>();
        table_is_deterministic::<CommandState>();
        table_is_deterministic::<InstrumentState>();
    }

    #[test]
    fn an_aborted_campaign_cannot_resume() {
        let err = CampaignState::Aborted
            .apply(CampaignAction::Resume)
            .unwrap_err();
        assert_eq!(err.to_string(), "cannot resume a campaign that is aborted");
        assert!(CampaignState::Aborted.is_terminal());
    }

    #[test]
    fn pause_and_resume_round_trip() {
        let paused = CampaignState::Active.apply(CampaignAction::Pause).unwrap();
        assert_eq!(paused, CampaignState::Paused);
        assert_eq!(
            paused.apply(CampaignAction::Resume).unwrap(),
            CampaignState::Active
        );
        assert!(
            paused.apply(CampaignAction::Pause).is_err(),
            "pausing twice is illegal"
        );
    }

    #[test]
    fn experiment_happy_path_reaches_completed_and_stops() {
        use ExperimentAction::*;
        let mut s = ExperimentState::Proposed;
        for a in [Schedule, Start, Analyze, Complete] {
            s = s.apply(a).unwrap();
        }
        assert_eq!(s, ExperimentState::Completed);
        assert!(s.is_terminal());
        assert!(s.apply(Cancel).is_err());
    }

    #[test]
    fn a_settled_command_is_never_resent() {
        for end in [
            CommandState::Succeeded,
            CommandState::Failed,
            CommandState::Expired,
        ] {
            assert!(end.apply(CommandAction::Send).is_err());
            assert!(end.is_terminal());
        }
    }

    #[test]
    fn names_round_trip_through_strings() {
        for s in ExperimentState::ALL {
            assert_eq!(s.as_str().parse::<ExperimentState>().unwrap(), *s);
        }
        for s in SampleState::ALL {
            assert_eq!(s.as_str().parse::<SampleState>().unwrap(), *s);
        }
        assert!("bogus".parse::<CampaignState>().is_err());
    }

    #[test]
    fn serde_names_match_stored_names() {
        for s in InstrumentState::ALL {
            assert_eq!(
                serde_json::to_value(s).unwrap(),
                serde_json::Value::String(s.as_str().into())
            );
        }
    }
}
