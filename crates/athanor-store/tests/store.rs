//! The store suite: every test runs on SQLite, and on PostgreSQL when ATHANOR_TEST_POSTGRES_URL
//! is set, each in a freshly created database.
#![allow(clippy::unwrap_used)]

use athanor_core::*;
use athanor_store::testing::{TestDb, POSTGRES_ENV};
use athanor_store::{EventFilter, NewAnalysis, NewMeasurement, PageRequest, Store, StoreError};
use serde_json::json;

/// Defines `sqlite::NAME` and `postgres::NAME` around one async body taking a `Store`.
macro_rules! store_tests {
    ($($name:ident => $body:expr;)+) => {
        mod sqlite {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    let db = TestDb::new("sqlite").await.expect("sqlite test database");
                    ($body)(db.store.clone()).await;
                    db.cleanup().await;
                }
            )+
        }
        mod postgres {
            use super::*;
            $(
                #[tokio::test]
                async fn $name() {
                    if std::env::var(POSTGRES_ENV).map_or(true, |u| u.is_empty()) {
                        assert!(
                            std::env::var("ATHANOR_REQUIRE_POSTGRES").is_err(),
                            "ATHANOR_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not: the PostgreSQL suite would be skipped"
                        );
                        eprintln!("skipped: {POSTGRES_ENV} is not set");
                        return;
                    }
                    let db = TestDb::new("postgres").await.expect("postgres test database");
                    ($body)(db.store.clone()).await;
                    db.cleanup().await;
                }
            )+
        }
    };
}

fn campaign_spec(name: &str, max_experiments: u32) -> NewCampaign {
    serde_json::from_value(json!({
        "name": name,
        "goal": {"type": "phase_pure", "target_phase": "YBa2Cu3O7", "min_weight_fraction": 0.9},
        "search_space": {"parameters": [
            {"type": "temperature", "name": "T", "low": 600, "high": 950},
            {"type": "categorical", "name": "atmosphere", "choices": ["air", "O2"]}
        ]},
        "budget": {"max_experiments": max_experiments},
        "planner": {"kind": "random", "seed": 7},
        "limits": {"max_temperature_c": 1000, "max_ramp_c_per_min": 10}
    }))
    .expect("valid campaign json")
}

fn proposal(t: f64) -> NewExperiment {
    serde_json::from_value(
        json!({"parameters": {"T": t, "atmosphere": "air"}, "rationale": "test"}),
    )
    .unwrap()
}

async fn events_of(store: &Store, campaign: CampaignId) -> Vec<Event> {
    store
        .list_events(&EventFilter {
            campaign_id: Some(campaign),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
}

store_tests! {
    campaign_round_trips_and_logs_its_creation => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 10), "alice").await.unwrap();
        let back = store.get_campaign(c.id).await.unwrap();
        assert_eq!(back.spec, c.spec);
        assert_eq!(back.state, CampaignState::Active);
        let events = events_of(&store, c.id).await;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].kind, "campaign.created");
        assert_eq!(events[0].actor, "alice");
    };

    legal_transitions_apply_and_emit_events => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 10), "alice").await.unwrap();
        let c2 = store.apply_campaign_action(c.id, CampaignAction::Pause, "bob").await.unwrap();
        assert_eq!(c2.state, CampaignState::Paused);
        let c3 = store.apply_campaign_action(c.id, CampaignAction::Resume, "bob").await.unwrap();
        assert_eq!(c3.state, CampaignState::Active);
        let kinds: Vec<String> = events_of(&store, c.id).await.into_iter().map(|e| e.kind).collect();
        assert_eq!(kinds, ["campaign.created", "campaign.paused", "campaign.active"]);
    };

    illegal_transition_is_an_error_and_changes_nothing => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 10), "alice").await.unwrap();
        store.apply_campaign_action(c.id, CampaignAction::Abort, "alice").await.unwrap();
        let err = store.apply_campaign_action(c.id, CampaignAction::Resume, "alice").await.unwrap_err();
        assert!(matches!(err, StoreError::Transition(_)), "{err:?}");
        assert_eq!(store.get_campaign(c.id).await.unwrap().state, CampaignState::Aborted);
        assert_eq!(events_of(&store, c.id).await.len(), 2, "no event for the refused move");
    };

    unknown_ids_are_not_found => |store: Store| async move {
        let err = store.get_campaign(CampaignId::new()).await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { entity: EntityKind::Campaign, .. }));
        let err = store.apply_campaign_action(CampaignId::new(), CampaignAction::Pause, "x").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
    };

    invalid_campaign_is_rejected_before_writing => |store: Store| async move {
        let mut spec = campaign_spec("a", 10);
        spec.limits.max_ramp_c_per_min = -1.0;
        let err = store.create_campaign(spec, "alice").await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref v) if v.field == "limits.max_ramp_c_per_min"), "{err:?}");
        assert!(store.list_campaigns(&PageRequest::default(), None).await.unwrap().items.is_empty());
        assert!(store.list_events(&EventFilter::default()).await.unwrap().is_empty());
    };

    pagination_walks_every_campaign_once_in_order => |store: Store| async move {
        let mut ids = Vec::new();
        for i in 0..7 {
            ids.push(store.create_campaign(campaign_spec(&format!("c{i}"), 10), "alice").await.unwrap().id);
        }
        let mut seen = Vec::new();
        let mut page = PageRequest { after: None, limit: 3 };
        loop {
            let p = store.list_campaigns(&page, None).await.unwrap();
            assert!(p.items.len() <= 3);
            seen.extend(p.items.iter().map(|c| c.id));
            match p.next_cursor {
                Some(c) => page.after = Some(c),
                None => break,
            }
        }
        assert_eq!(seen, ids);
        let bad = store.list_campaigns(&PageRequest { after: Some("nope".into()), limit: 3 }, None).await.unwrap_err();
        assert!(matches!(bad, StoreError::Invalid(ref v) if v.field == "cursor"));
    };

    list_filters_by_state => |store: Store| async move {
        let a = store.create_campaign(campaign_spec("a", 10), "x").await.unwrap();
        let _b = store.create_campaign(campaign_spec("b", 10), "x").await.unwrap();
        store.apply_campaign_action(a.id, CampaignAction::Pause, "x").await.unwrap();
        let paused = store.list_campaigns(&PageRequest::default(), Some(CampaignState::Paused)).await.unwrap();
        assert_eq!(paused.items.iter().map(|c| c.id).collect::<Vec<_>>(), vec![a.id]);
    };

    experiments_are_checked_against_space_state_and_budget => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 2), "alice").await.unwrap();
        let err = store.create_experiment(c.id, proposal(1200.0), "alice").await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref v) if v.field == "parameters.T"), "{err:?}");
        let e1 = store.create_experiment(c.id, proposal(800.0), "alice").await.unwrap();
        assert_eq!(e1.state, ExperimentState::Proposed);
        store.create_experiment(c.id, proposal(850.0), "alice").await.unwrap();
        let err = store.create_experiment(c.id, proposal(900.0), "alice").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "budget of 2 is spent: {err:?}");
        let c2 = store.create_campaign(campaign_spec("b", 5), "alice").await.unwrap();
        store.apply_campaign_action(c2.id, CampaignAction::Pause, "alice").await.unwrap();
        let err = store.create_experiment(c2.id, proposal(800.0), "alice").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "paused campaign: {err:?}");
        let listed = store.list_experiments(Some(c.id), None, &PageRequest::default()).await.unwrap();
        assert_eq!(listed.items.len(), 2);
    };

    experiment_lifecycle_and_steps => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let e = store.create_experiment(c.id, proposal(800.0), "planner").await.unwrap();
        for a in [ExperimentAction::Schedule, ExperimentAction::Start] {
            store.apply_experiment_action(e.id, a, "engine", None).await.unwrap();
        }
        let s0 = store.add_step(e.id, StepKind::Heat, None, json!({"T": 800}), "engine").await.unwrap();
        let s1 = store.add_step(e.id, StepKind::Scan, None, json!({}), "engine").await.unwrap();
        assert_eq!((s0.seq, s1.seq), (0, 1));
        store.apply_step_action(s0.id, StepAction::Start, "engine", None).await.unwrap();
        let failed = store.apply_step_action(s0.id, StepAction::Fail, "engine", Some("thermocouple open")).await.unwrap();
        assert_eq!(failed.state, StepState::Failed);
        assert_eq!(failed.error.as_deref(), Some("thermocouple open"));
        let err = store.apply_step_action(s0.id, StepAction::Start, "engine", None).await.unwrap_err();
        assert!(matches!(err, StoreError::Transition(_)));
        let e = store.apply_experiment_action(e.id, ExperimentAction::Fail, "engine", Some("heating failed")).await.unwrap();
        assert_eq!(e.state, ExperimentState::Failed);
        let events = events_of(&store, c.id).await;
        let last = events.last().unwrap();
        assert_eq!(last.kind, "experiment.failed");
        assert_eq!(last.payload["note"], "heating failed");
        assert!(events.iter().any(|ev| ev.kind == "step.failed" && ev.payload["note"] == "thermocouple open"));
        assert_eq!(store.list_steps(e.id).await.unwrap().len(), 2);
    };

    hypotheses_belong_to_a_campaign_and_track_belief => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let h = store
            .create_hypothesis(c.id, NewHypothesis { statement: "BaCO3 + CuO -> BaCuO2 below 700 C".into(), claim: Claim::Statement {}, prior: 0.3 }, Origin::Operator, "alice")
            .await
            .unwrap();
        assert_eq!(h.belief, 0.3);
        let h2 = store.update_belief(h.id, 0.8, json!({"experiment": "x"}), "planner").await.unwrap();
        assert_eq!(h2.belief, 0.8);
        let h3 = store.apply_hypothesis_action(h.id, HypothesisAction::Support, "planner").await.unwrap();
        assert_eq!(h3.state, HypothesisState::Supported);
        let err = store.create_hypothesis(CampaignId::new(), NewHypothesis { statement: "x".into(), claim: Claim::Statement {}, prior: 0.5 }, Origin::Operator, "a").await.unwrap_err();
        assert!(matches!(err, StoreError::NotFound { .. }));
        let mut p = proposal(800.0);
        p.hypothesis_id = Some(h.id);
        store.create_experiment(c.id, p, "planner").await.unwrap();
        let other = store.create_campaign(campaign_spec("b", 5), "alice").await.unwrap();
        let mut p = proposal(800.0);
        p.hypothesis_id = Some(h.id);
        let err = store.create_experiment(other.id, p, "planner").await.unwrap_err();
        assert!(matches!(err, StoreError::Invalid(ref v) if v.field == "hypothesis_id"));
    };

    samples_move_and_link_to_experiments => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let e = store.create_experiment(c.id, proposal(800.0), "planner").await.unwrap();
        let s = store
            .create_sample(NewSample { label: "S-001".into(), campaign_id: Some(c.id), experiment_id: Some(e.id), location: Some("rack-A/1".into()), notes: String::new() }, "alice")
            .await
            .unwrap();
        assert_eq!(store.get_experiment(e.id).await.unwrap().sample_id, Some(s.id));
        store.apply_sample_action(s.id, SampleAction::BeginProcessing, "engine").await.unwrap();
        let moved = store.move_sample(s.id, "furnace-1", "engine").await.unwrap();
        assert_eq!(moved.location.as_deref(), Some("furnace-1"));
        let lost = store.apply_sample_action(s.id, SampleAction::MarkLost, "engine").await.unwrap();
        assert_eq!(lost.state, SampleState::Lost);
        assert!(store.apply_sample_action(s.id, SampleAction::Store, "engine").await.is_err());
        let history = store.list_events(&EventFilter { entity_id: Some(s.id.to_string()), ..Default::default() }).await.unwrap();
        let kinds: Vec<&str> = history.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["sample.planned", "sample.in_process", "sample.moved", "sample.lost"]);
    };

    instruments_and_commands_keep_their_first_result => |store: Store| async move {
        let new = NewInstrument {
            id: InstrumentId::parse("furnace-1").unwrap(),
            name: "Box furnace".into(),
            class: InstrumentClass::Furnace,
            transport: json!({"kind": "serial", "port": "/dev/ttyUSB0"}),
            limits: InstrumentLimits { max_temperature_c: Some(1200.0), ..Default::default() },
        };
        let inst = store.register_instrument(new.clone(), "admin").await.unwrap();
        assert_eq!(inst.state, InstrumentState::Offline);
        let err = store.register_instrument(new, "admin").await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        store.apply_instrument_action(&inst.id, InstrumentAction::ComeOnline, "system").await.unwrap();
        let cmd = store.create_command(&inst.id, None, "run_program", json!({"segments": []}), None, "engine").await.unwrap();
        assert_eq!(cmd.state, CommandState::Pending);
        store.apply_command_action(cmd.id, CommandAction::Send, None, "engine").await.unwrap();
        let done = store.apply_command_action(cmd.id, CommandAction::Succeed, Some(json!({"ok": 1})), "engine").await.unwrap();
        assert_eq!(done.result, Some(json!({"ok": 1})));
        assert!(store.apply_command_action(cmd.id, CommandAction::Send, None, "engine").await.is_err(), "never resent");
        let page = store.list_instruments(&PageRequest::default()).await.unwrap();
        assert_eq!(page.items.len(), 1);
    };

    unfinished_commands_are_what_a_restart_takes_over => |store: Store| async move {
        let mut ids = Vec::new();
        for name in ["furnace-1", "xrd-1"] {
            let new = NewInstrument {
                id: InstrumentId::parse(name).unwrap(),
                name: name.into(),
                class: InstrumentClass::Furnace,
                transport: json!({"kind": "mqtt"}),
                limits: InstrumentLimits::default(),
            };
            ids.push(store.register_instrument(new, "admin").await.unwrap().id);
        }
        let cmd = |i: usize, action: &'static str| {
            let store = store.clone();
            let id = ids[i].clone();
            async move { store.create_command(&id, None, action, json!({}), None, "engine").await.unwrap() }
        };
        let pending = cmd(0, "hold").await;
        let sent = cmd(0, "run_program").await;
        store.apply_command_action(sent.id, CommandAction::Send, None, "engine").await.unwrap();
        let acked = cmd(1, "scan").await;
        store.apply_command_action(acked.id, CommandAction::Send, None, "engine").await.unwrap();
        store.apply_command_action(acked.id, CommandAction::Acknowledge, None, "engine").await.unwrap();
        let done = cmd(1, "scan").await;
        store.apply_command_action(done.id, CommandAction::Send, None, "engine").await.unwrap();
        store.apply_command_action(done.id, CommandAction::Succeed, Some(json!({"ok": true})), "engine").await.unwrap();
        let expired = cmd(0, "abort").await;
        let gone = store.apply_command_action(expired.id, CommandAction::Expire, None, "engine").await.unwrap();
        assert_eq!(gone.state, CommandState::Expired, "a pending command whose deadline passed expires unsent");

        let all: Vec<CommandId> = store.list_unfinished_commands(None).await.unwrap().iter().map(|c| c.id).collect();
        assert_eq!(all, [pending.id, sent.id, acked.id], "oldest first, finished ones left out");
        let furnace: Vec<CommandId> = store.list_unfinished_commands(Some(&ids[0])).await.unwrap().iter().map(|c| c.id).collect();
        assert_eq!(furnace, [pending.id, sent.id]);
    };

    measurements_and_analyses_read_back => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let e = store.create_experiment(c.id, proposal(800.0), "planner").await.unwrap();
        let m = store
            .insert_measurement(NewMeasurement { experiment_id: Some(e.id), sample_id: None, instrument_id: None, kind: "xrd_pattern".into(), metadata: json!({"wavelength": 1.5406}), data: json!({"two_theta": [10.0, 10.02], "intensity": [5.0, 7.0]}) }, "engine")
            .await
            .unwrap();
        let a = store.insert_analysis(NewAnalysis { measurement_id: m.id, kind: "phase_identification".into(), result: json!({"phases": []}), confidence: Some(0.7) }, "engine").await.unwrap();
        assert_eq!(store.get_measurement(m.id).await.unwrap().data, m.data);
        assert_eq!(store.get_analysis(a.id).await.unwrap().experiment_id, Some(e.id));
        let listed = store.list_analyses(None, Some(e.id), &PageRequest::default()).await.unwrap();
        assert_eq!(listed.items.len(), 1);
        assert!(store.insert_analysis(NewAnalysis { measurement_id: m.id, kind: "x".into(), result: json!({}), confidence: Some(1.5) }, "engine").await.is_err());
        let kinds: Vec<String> = events_of(&store, c.id).await.into_iter().map(|e| e.kind).collect();
        assert!(kinds.contains(&"measurement.recorded".to_string()) && kinds.contains(&"analysis.recorded".to_string()));
    };

    tokens_authenticate_only_with_the_right_secret => |store: Store| async move {
        let issued = store.create_token("alice", Role::Operator, "cli").await.unwrap();
        let rec = store.authenticate(&issued.token).await.unwrap().expect("valid token");
        assert_eq!((rec.name.as_str(), rec.role), ("alice", Role::Operator));
        let mut wrong = issued.token.clone();
        wrong.pop();
        wrong.push('x');
        assert!(store.authenticate(&wrong).await.unwrap().is_none());
        assert!(store.authenticate("garbage").await.unwrap().is_none());
        assert!(matches!(store.create_token("alice", Role::Viewer, "cli").await.unwrap_err(), StoreError::Conflict(_)));
        store.revoke_token(rec.id, "admin").await.unwrap();
        assert!(store.authenticate(&issued.token).await.unwrap().is_none(), "revoked");
        assert!(matches!(store.revoke_token(rec.id, "admin").await.unwrap_err(), StoreError::Conflict(_)));
    };

    events_are_append_only_in_the_database => |store: Store| async move {
        store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let after = store.list_events(&EventFilter::default()).await.unwrap();
        assert_eq!(after.len(), 1);
        let resumed = store.list_events(&EventFilter { after_seq: Some(after[0].seq), ..Default::default() }).await.unwrap();
        assert!(resumed.is_empty());
        assert!(store.tamper_with_events_for_test().await.is_err(), "UPDATE on events must be refused");
    };

    live_subscribers_see_committed_events => |store: Store| async move {
        let mut rx = store.subscribe();
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let ev = rx.recv().await.unwrap();
        assert_eq!((ev.kind.as_str(), ev.campaign_id), ("campaign.created", Some(c.id)));
    };

    concurrent_transitions_never_double_apply => |store: Store| async move {
        let c = store.create_campaign(campaign_spec("a", 5), "alice").await.unwrap();
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let s = store.clone();
            tasks.push(tokio::spawn(async move { s.apply_campaign_action(c.id, CampaignAction::Pause, "x").await.is_ok() }));
        }
        let mut ok = 0;
        for t in tasks {
            if t.await.unwrap() {
                ok += 1;
            }
        }
        assert_eq!(ok, 1, "exactly one pause succeeds");
        assert_eq!(events_of(&store, c.id).await.len(), 2);
    };
}

#[tokio::test]
async fn sqlite_data_survives_a_reopen() {
    let db = TestDb::sqlite().await.unwrap();
    let c = db
        .store
        .create_campaign(campaign_spec("persist", 5), "alice")
        .await
        .unwrap();
    db.store.close().await;
    let reopened = Store::connect(&db.options).await.unwrap();
    assert_eq!(
        reopened.get_campaign(c.id).await.unwrap().spec.name,
        "persist"
    );
    reopened.close().await;
}
