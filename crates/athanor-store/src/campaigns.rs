//! Campaign records: create, read, list, and move through their state machine.

use chrono::Utc;
use serde_json::json;
use sqlx::types::Json;

use athanor_core::{
    Campaign, CampaignAction, CampaignId, CampaignState, EntityKind, NewCampaign, NewEvent,
};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, parse_cursor, CampaignRow};
use crate::transition::{Key, Table};
use crate::Store;

const COLUMNS: &str = "id, spec, state, created_at, updated_at";

pub(crate) const TABLE: Table = Table {
    name: "campaigns",
    columns: COLUMNS,
    entity: EntityKind::Campaign,
    campaign_expr: "id",
    note_column: None,
    note_is_json: false,
};

impl Store {
    /// Validates and stores a new, active campaign.
    pub async fn create_campaign(&self, spec: NewCampaign, actor: &str) -> Result<Campaign> {
        spec.validate()?;
        let now = Utc::now();
        let campaign = Campaign {
            id: CampaignId::new(),
            spec,
            state: CampaignState::Active,
            created_at: now,
            updated_at: now,
        };
        let event = NewEvent {
            campaign_id: Some(campaign.id),
            entity: EntityKind::Campaign,
            entity_id: campaign.id.to_string(),
            kind: "campaign.created".into(),
            actor: actor.to_owned(),
            payload: json!({ "name": campaign.spec.name, "state": campaign.state }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query("INSERT INTO campaigns (id, name, spec, state, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(campaign.id.0)
                .bind(&campaign.spec.name)
                .bind(Json(&campaign.spec))
                .bind(campaign.state.as_str())
                .bind(now)
                .bind(now)
                .execute(&mut *tx)
                .await?;
            event
        });
        Ok(campaign)
    }

    pub async fn get_campaign(&self, id: CampaignId) -> Result<Campaign> {
        let row: Option<CampaignRow> = self
            .fetch_by_id(COLUMNS, "campaigns", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Campaign, id))?
            .try_into()
    }

    /// Campaigns in creation order, optionally only those in one state.
    pub async fn list_campaigns(
        &self,
        page: &PageRequest,
        state: Option<CampaignState>,
    ) -> Result<Page<Campaign>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(COLUMNS, "campaigns")
            .filter("id", ">", after.map(Bind::Uuid))
            .eq("state", state.map(|s| Bind::Text(s.as_str().into())))
            .page("id", limit + 1);
        let rows: Vec<CampaignRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |c: &Campaign| c.id.to_string(),
        ))
    }

    /// Pauses, resumes, aborts or completes a campaign; an illegal move is an error and changes nothing.
    pub async fn apply_campaign_action(
        &self,
        id: CampaignId,
        action: CampaignAction,
        actor: &str,
    ) -> Result<Campaign> {
        self.transition::<CampaignState, CampaignRow>(&TABLE, Key::Uuid(id.0), action, actor, None)
            .await?
            .try_into()
    }
}
