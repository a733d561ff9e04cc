//! Hypothesis records: stated by operators or planners, read by everyone.

use chrono::Utc;
use serde_json::json;
use sqlx::types::Json;

use athanor_core::{
    CampaignId, EntityKind, Hypothesis, HypothesisAction, HypothesisId, HypothesisState, NewEvent,
    NewHypothesis, Origin,
};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, origin_name, parse_cursor, HypothesisRow};
use crate::transition::{Key, Table};
use crate::Store;

const COLUMNS: &str =
    "id, campaign_id, statement, claim, prior, belief, state, origin, created_at, updated_at";

const TABLE: Table = Table {
    name: "hypotheses",
    columns: COLUMNS,
    entity: EntityKind::Hypothesis,
    campaign_expr: "campaign_id",
    note_column: None,
    note_is_json: false,
};

impl Store {
    /// Stores a hypothesis of an existing campaign; its belief starts at its prior.
    pub async fn create_hypothesis(
        &self,
        campaign_id: CampaignId,
        new: NewHypothesis,
        origin: Origin,
        actor: &str,
    ) -> Result<Hypothesis> {
        new.validate()?;
        // Fails with NotFound before anything is written.
        self.get_campaign(campaign_id).await?;
        let now = Utc::now();
        let h = Hypothesis {
            id: HypothesisId::new(),
            campaign_id,
            statement: new.statement,
            claim: new.claim,
            prior: new.prior,
            belief: new.prior,
            state: HypothesisState::Open,
            origin,
            created_at: now,
            updated_at: now,
        };
        let event = NewEvent {
            campaign_id: Some(campaign_id),
            entity: EntityKind::Hypothesis,
            entity_id: h.id.to_string(),
            kind: "hypothesis.created".into(),
            actor: actor.to_owned(),
            payload: json!({ "statement": h.statement, "prior": h.prior, "origin": h.origin }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query(
                "INSERT INTO hypotheses (id, campaign_id, statement, claim, prior, belief, state, origin, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            )
            .bind(h.id.0)
            .bind(campaign_id.0)
            .bind(&h.statement)
            .bind(Json(&h.claim))
            .bind(h.prior)
            .bind(h.belief)
            .bind(h.state.as_str())
            .bind(origin_name(&h.origin))
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            event
        });
        Ok(h)
    }

    pub async fn get_hypothesis(&self, id: HypothesisId) -> Result<Hypothesis> {
        let row: Option<HypothesisRow> = self
            .fetch_by_id(COLUMNS, "hypotheses", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Hypothesis, id))?
            .try_into()
    }

    /// Hypotheses of one campaign (or all), in creation order.
    pub async fn list_hypotheses(
        &self,
        campaign_id: Option<CampaignId>,
        page: &PageRequest,
    ) -> Result<Page<Hypothesis>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(COLUMNS, "hypotheses")
            .eq("campaign_id", campaign_id.map(|c| Bind::Uuid(c.0)))
            .filter("id", ">", after.map(Bind::Uuid))
            .page("id", limit + 1);
        let rows: Vec<HypothesisRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |h: &Hypothesis| h.id.to_string(),
        ))
    }

    /// Records a new belief (0–1) for an open hypothesis with the evidence that moved it.
    pub async fn update_belief(
        &self,
        id: HypothesisId,
        belief: f64,
        evidence: serde_json::Value,
        actor: &str,
    ) -> Result<Hypothesis> {
        if !(belief.is_finite() && (0.0..=1.0).contains(&belief)) {
            return Err(
                athanor_core::ValidationError::new("belief", "must lie between 0 and 1").into(),
            );
        }
        let now = Utc::now();
        write_with_event!(self, now, |tx, lock| {
            let sql = format!("SELECT campaign_id, belief FROM hypotheses WHERE id = $1{lock}");
            let (campaign, before): (uuid::Uuid, f64) = sqlx::query_as(&sql)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(EntityKind::Hypothesis, id))?;
            sqlx::query("UPDATE hypotheses SET belief = $1, updated_at = $2 WHERE id = $3")
                .bind(belief)
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            NewEvent {
                campaign_id: Some(campaign.into()),
                entity: EntityKind::Hypothesis,
                entity_id: id.to_string(),
                kind: "hypothesis.belief_updated".into(),
                actor: actor.to_owned(),
                payload: json!({ "from": before, "to": belief, "evidence": evidence }),
            }
        });
        self.get_hypothesis(id).await
    }

    pub async fn apply_hypothesis_action(
        &self,
        id: HypothesisId,
        action: HypothesisAction,
        actor: &str,
    ) -> Result<Hypothesis> {
        self.transition::<HypothesisState, HypothesisRow>(
            &TABLE,
            Key::Uuid(id.0),
            action,
            actor,
            None,
        )
        .await?
        .try_into()
    }
}
