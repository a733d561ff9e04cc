//! Experiment records and their steps.

use chrono::Utc;
use serde_json::json;
use sqlx::types::Json;
use uuid::Uuid;

use athanor_core::{
    CampaignId, CampaignState, EntityKind, Experiment, ExperimentAction, ExperimentId,
    ExperimentState, InstrumentId, NewCampaign, NewEvent, NewExperiment, Step, StepAction, StepId,
    StepKind, StepState, ValidationError,
};

use crate::backend::dispatch;
use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, parse_cursor, parse_name, ExperimentRow, StepRow};
use crate::transition::{Key, Note, Table};
use crate::Store;

const COLUMNS: &str =
    "id, campaign_id, hypothesis_id, sample_id, parameters, rationale, predicted, state, created_at, updated_at";
const STEP_COLUMNS: &str =
    "id, experiment_id, seq, kind, instrument_id, parameters, state, error, created_at, updated_at";

const TABLE: Table = Table {
    name: "experiments",
    columns: COLUMNS,
    entity: EntityKind::Experiment,
    campaign_expr: "campaign_id",
    note_column: None,
    note_is_json: false,
};
const STEP_TABLE: Table = Table {
    name: "steps",
    columns: STEP_COLUMNS,
    entity: EntityKind::Step,
    campaign_expr: "(SELECT e.campaign_id FROM experiments e WHERE e.id = steps.experiment_id)",
    note_column: Some("error = $4"),
    note_is_json: false,
};

impl Store {
    /// Stores a proposed experiment of an active campaign after checking its parameters against
    /// the campaign's search space, its hypothesis against the campaign, and the budget.
    pub async fn create_experiment(
        &self,
        campaign_id: CampaignId,
        new: NewExperiment,
        actor: &str,
    ) -> Result<Experiment> {
        let now = Utc::now();
        let id = ExperimentId::new();
        write_with_event!(self, now, |tx, lock| {
            let sql = format!("SELECT spec, state FROM campaigns WHERE id = $1{lock}");
            let (spec, state): (Json<NewCampaign>, String) = sqlx::query_as(&sql)
                .bind(campaign_id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(EntityKind::Campaign, campaign_id))?;
            let state: CampaignState = parse_name("campaign state", &state)?;
            if state != CampaignState::Active {
                return Err(StoreError::Conflict(format!("campaign {campaign_id} is {state}; experiments can only be added to an active campaign")));
            }
            new.validate(&spec.0.search_space)?;
            if let Some(h) = new.hypothesis_id {
                let owner: Option<Uuid> =
                    sqlx::query_scalar("SELECT campaign_id FROM hypotheses WHERE id = $1")
                        .bind(h.0)
                        .fetch_optional(&mut *tx)
                        .await?;
                if owner != Some(campaign_id.0) {
                    return Err(ValidationError::new(
                        "hypothesis_id",
                        "is not a hypothesis of this campaign",
                    )
                    .into());
                }
            }
            let count: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM experiments WHERE campaign_id = $1")
                    .bind(campaign_id.0)
                    .fetch_one(&mut *tx)
                    .await?;
            if count >= i64::from(spec.0.budget.max_experiments) {
                return Err(StoreError::Conflict(format!(
                    "campaign {campaign_id} has spent its budget of {} experiments",
                    spec.0.budget.max_experiments
                )));
            }
            sqlx::query(
                "INSERT INTO experiments (id, campaign_id, hypothesis_id, sample_id, parameters, rationale, predicted, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, NULL, $4, $5, $6, $7, $8, $9)",
            )
            .bind(id.0)
            .bind(campaign_id.0)
            .bind(new.hypothesis_id.map(|h| h.0))
            .bind(Json(&new.parameters))
            .bind(&new.rationale)
            .bind(new.predicted.as_ref().map(Json))
            .bind(ExperimentState::Proposed.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            NewEvent {
                campaign_id: Some(campaign_id),
                entity: EntityKind::Experiment,
                entity_id: id.to_string(),
                kind: "experiment.proposed".into(),
                actor: actor.to_owned(),
                payload: json!({ "parameters": new.parameters, "rationale": new.rationale, "hypothesis_id": new.hypothesis_id }),
            }
        });
        self.get_experiment(id).await
    }

    pub async fn get_experiment(&self, id: ExperimentId) -> Result<Experiment> {
        let row: Option<ExperimentRow> = self
            .fetch_by_id(COLUMNS, "experiments", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Experiment, id))?
            .try_into()
    }

    /// Experiments of one campaign (or all), optionally in one state, in creation order.
    pub async fn list_experiments(
        &self,
        campaign_id: Option<CampaignId>,
        state: Option<ExperimentState>,
        page: &PageRequest,
    ) -> Result<Page<Experiment>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(COLUMNS, "experiments")
            .eq("campaign_id", campaign_id.map(|c| Bind::Uuid(c.0)))
            .eq("state", state.map(|s| Bind::Text(s.as_str().into())))
            .filter("id", ">", after.map(Bind::Uuid))
            .page("id", limit + 1);
        let rows: Vec<ExperimentRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |e: &Experiment| e.id.to_string(),
        ))
    }

    /// Moves an experiment through its lifecycle; `reason` is recorded in the event.
    pub async fn apply_experiment_action(
        &self,
        id: ExperimentId,
        action: ExperimentAction,
        actor: &str,
        reason: Option<&str>,
    ) -> Result<Experiment> {
        self.transition::<ExperimentState, ExperimentRow>(
            &TABLE,
            Key::Uuid(id.0),
            action,
            actor,
            reason.map(|r| Note::Text(r.into())),
        )
        .await?
        .try_into()
    }

    /// Appends a pending step to an experiment.
    pub async fn add_step(
        &self,
        experiment_id: ExperimentId,
        kind: StepKind,
        instrument_id: Option<InstrumentId>,
        parameters: serde_json::Value,
        actor: &str,
    ) -> Result<Step> {
        let now = Utc::now();
        let id = StepId::new();
        write_with_event!(self, now, |tx, _lock| {
            let campaign: Uuid =
                sqlx::query_scalar("SELECT campaign_id FROM experiments WHERE id = $1")
                    .bind(experiment_id.0)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| StoreError::not_found(EntityKind::Experiment, experiment_id))?;
            let seq: i32 = sqlx::query_scalar(
                "SELECT CAST(COUNT(*) AS INTEGER) FROM steps WHERE experiment_id = $1",
            )
            .bind(experiment_id.0)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO steps (id, experiment_id, seq, kind, instrument_id, parameters, state, error, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8, $9)",
            )
            .bind(id.0)
            .bind(experiment_id.0)
            .bind(seq)
            .bind(kind.as_str())
            .bind(instrument_id.as_ref().map(|i| i.as_str().to_owned()))
            .bind(Json(&parameters))
            .bind(StepState::Pending.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            NewEvent {
                campaign_id: Some(campaign.into()),
                entity: EntityKind::Step,
                entity_id: id.to_string(),
                kind: "step.pending".into(),
                actor: actor.to_owned(),
                payload: json!({ "experiment_id": experiment_id, "seq": seq, "kind": kind, "instrument_id": instrument_id }),
            }
        });
        self.get_step(id).await
    }

    pub async fn get_step(&self, id: StepId) -> Result<Step> {
        let row: Option<StepRow> = self
            .fetch_by_id(STEP_COLUMNS, "steps", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Step, id))?
            .try_into()
    }

    /// The steps of an experiment in order.
    pub async fn list_steps(&self, experiment_id: ExperimentId) -> Result<Vec<Step>> {
        let sql = format!("SELECT {STEP_COLUMNS} FROM steps WHERE experiment_id = $1 ORDER BY seq");
        let rows: Vec<StepRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as(&sql)
                .bind(experiment_id.0)
                .fetch_all(pool)
                .await?
        });
        convert_all(rows)
    }

    pub async fn apply_step_action(
        &self,
        id: StepId,
        action: StepAction,
        actor: &str,
        error: Option<&str>,
    ) -> Result<Step> {
        self.transition::<StepState, StepRow>(
            &STEP_TABLE,
            Key::Uuid(id.0),
            action,
            actor,
            error.map(|e| Note::Text(e.into())),
        )
        .await?
        .try_into()
    }
}
