//! Sample records: registered by operators or the engine, moved through their lifecycle.

use chrono::Utc;
use serde_json::json;

use athanor_core::{
    CampaignId, EntityKind, NewEvent, NewSample, Sample, SampleAction, SampleId, SampleState,
};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, parse_cursor, SampleRow};
use crate::transition::{Key, Table};
use crate::Store;

const COLUMNS: &str =
    "id, label, campaign_id, experiment_id, location, notes, state, created_at, updated_at";

const TABLE: Table = Table {
    name: "samples",
    columns: COLUMNS,
    entity: EntityKind::Sample,
    campaign_expr: "campaign_id",
    note_column: None,
    note_is_json: false,
};

impl Store {
    pub async fn create_sample(&self, new: NewSample, actor: &str) -> Result<Sample> {
        new.validate()?;
        if let Some(c) = new.campaign_id {
            self.get_campaign(c).await?;
        }
        if let Some(e) = new.experiment_id {
            let exp = self.get_experiment(e).await?;
            if new.campaign_id.is_some_and(|c| c != exp.campaign_id) {
                return Err(athanor_core::ValidationError::new(
                    "experiment_id",
                    "belongs to another campaign",
                )
                .into());
            }
        }
        let now = Utc::now();
        let s = Sample {
            id: SampleId::new(),
            label: new.label,
            campaign_id: new.campaign_id,
            experiment_id: new.experiment_id,
            location: new.location,
            notes: new.notes,
            state: SampleState::Planned,
            created_at: now,
            updated_at: now,
        };
        let event = NewEvent {
            campaign_id: s.campaign_id,
            entity: EntityKind::Sample,
            entity_id: s.id.to_string(),
            kind: "sample.planned".into(),
            actor: actor.to_owned(),
            payload: json!({ "label": s.label, "location": s.location, "experiment_id": s.experiment_id }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query(
                "INSERT INTO samples (id, label, campaign_id, experiment_id, location, notes, state, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            )
            .bind(s.id.0)
            .bind(&s.label)
            .bind(s.campaign_id.map(|c| c.0))
            .bind(s.experiment_id.map(|e| e.0))
            .bind(s.location.clone())
            .bind(&s.notes)
            .bind(s.state.as_str())
            .bind(now)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            if let Some(e) = s.experiment_id {
                sqlx::query("UPDATE experiments SET sample_id = $1, updated_at = $2 WHERE id = $3 AND sample_id IS NULL")
                    .bind(s.id.0)
                    .bind(now)
                    .bind(e.0)
                    .execute(&mut *tx)
                    .await?;
            }
            event
        });
        Ok(s)
    }

    pub async fn get_sample(&self, id: SampleId) -> Result<Sample> {
        let row: Option<SampleRow> = self
            .fetch_by_id(COLUMNS, "samples", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Sample, id))?
            .try_into()
    }

    pub async fn list_samples(
        &self,
        campaign_id: Option<CampaignId>,
        page: &PageRequest,
    ) -> Result<Page<Sample>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(COLUMNS, "samples")
            .eq("campaign_id", campaign_id.map(|c| Bind::Uuid(c.0)))
            .filter("id", ">", after.map(Bind::Uuid))
            .page("id", limit + 1);
        let rows: Vec<SampleRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |s: &Sample| s.id.to_string(),
        ))
    }

    pub async fn apply_sample_action(
        &self,
        id: SampleId,
        action: SampleAction,
        actor: &str,
    ) -> Result<Sample> {
        self.transition::<SampleState, SampleRow>(&TABLE, Key::Uuid(id.0), action, actor, None)
            .await?
            .try_into()
    }

    /// Records where a sample now is.
    pub async fn move_sample(&self, id: SampleId, location: &str, actor: &str) -> Result<Sample> {
        if location.trim().is_empty() || location.chars().count() > 200 {
            return Err(
                athanor_core::ValidationError::new("location", "must be 1–200 characters").into(),
            );
        }
        let now = Utc::now();
        write_with_event!(self, now, |tx, lock| {
            let sql = format!("SELECT campaign_id, location FROM samples WHERE id = $1{lock}");
            let (campaign, from): (Option<uuid::Uuid>, Option<String>) = sqlx::query_as(&sql)
                .bind(id.0)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::not_found(EntityKind::Sample, id))?;
            sqlx::query("UPDATE samples SET location = $1, updated_at = $2 WHERE id = $3")
                .bind(location)
                .bind(now)
                .bind(id.0)
                .execute(&mut *tx)
                .await?;
            NewEvent {
                campaign_id: campaign.map(Into::into),
                entity: EntityKind::Sample,
                entity_id: id.to_string(),
                kind: "sample.moved".into(),
                actor: actor.to_owned(),
                payload: json!({ "from": from, "to": location }),
            }
        });
        self.get_sample(id).await
    }
}
