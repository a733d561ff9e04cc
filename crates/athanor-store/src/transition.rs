//! One generic read → check → write → event transaction for every state machine.

use chrono::Utc;
use serde_json::json;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use uuid::Uuid;

use athanor_core::{CampaignId, EntityKind, NewEvent, StateMachine};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::rows::parse_name;
use crate::Store;

/// The primary key of a stateful row.
#[derive(Debug, Clone)]
pub(crate) enum Key {
    Uuid(Uuid),
    Text(String),
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Key::Uuid(u) => u.fmt(f),
            Key::Text(s) => f.write_str(s),
        }
    }
}

/// Where a machine's rows live.
pub(crate) struct Table {
    pub name: &'static str,
    pub entity: EntityKind,
    /// The columns of the table's record, in the order its row type reads them.
    pub columns: &'static str,
    /// SQL expression (over the table's row) giving the campaign the row belongs to, or NULL.
    pub campaign_expr: &'static str,
    /// An SQL assignment that keeps the transition's note in the row, with the note bound as `$4`
    /// (`error = $4` for a step's error, `result = COALESCE(result, $4)` for a command's first result).
    pub note_column: Option<&'static str>,
    /// Whether that column holds JSON (else text), so that an absent note binds a typed NULL.
    pub note_is_json: bool,
}

/// What a transition carries besides the move itself.
#[derive(Debug, Clone)]
pub(crate) enum Note {
    Text(String),
    Json(serde_json::Value),
}

impl Store {
    /// Applies `action` to the row `key` of `table` through the machine `M`, recording the event
    /// `{entity}.{to}` with the optional `note` (a reason, an error) in its payload and, where the
    /// table has a note column, in the row; all in one transaction.
    pub(crate) async fn transition<M, R>(
        &self,
        table: &Table,
        key: Key,
        action: M::Action,
        actor: &str,
        note: Option<Note>,
    ) -> Result<R>
    where
        M: StateMachine + std::str::FromStr + std::fmt::Display,
        R: Send + Unpin + for<'r> sqlx::FromRow<'r, SqliteRow> + for<'r> sqlx::FromRow<'r, PgRow>,
    {
        let now = Utc::now();
        let select = |lock: &str| {
            format!(
                "SELECT state, {} AS campaign_id FROM {} WHERE id = $1{lock}",
                table.campaign_expr, table.name
            )
        };
        let update = match table.note_column {
            Some(assign) => format!(
                "UPDATE {} SET state = $1, updated_at = $2, {assign} WHERE id = $3 RETURNING {}",
                table.name, table.columns
            ),
            None => format!(
                "UPDATE {} SET state = $1, updated_at = $2 WHERE id = $3 RETURNING {}",
                table.name, table.columns
            ),
        };
        let reached;
        write_with_event!(self, now, |tx, lock| {
            let select_sql = select(lock);
            let q = sqlx::query_as::<_, (String, Option<Uuid>)>(&select_sql);
            let row = match &key {
                Key::Uuid(u) => q.bind(*u).fetch_optional(&mut *tx).await?,
                Key::Text(s) => q.bind(s.clone()).fetch_optional(&mut *tx).await?,
            };
            let (state, campaign) = row.ok_or_else(|| StoreError::not_found(table.entity, &key))?;
            let from: M = parse_name("state", &state)?;
            let to = from.apply(action)?;
            let q = sqlx::query_as::<_, R>(&update)
                .bind(to.to_string())
                .bind(now);
            let q = match &key {
                Key::Uuid(u) => q.bind(*u),
                Key::Text(s) => q.bind(s.clone()),
            };
            let q = match (table.note_column, &note) {
                (None, _) => q,
                (Some(_), Some(Note::Json(v))) => q.bind(Some(sqlx::types::Json(v.clone()))),
                (Some(_), Some(Note::Text(t))) => q.bind(Some(t.clone())),
                (Some(_), None) if table.note_is_json => {
                    q.bind(None::<sqlx::types::Json<serde_json::Value>>)
                }
                (Some(_), None) => q.bind(None::<String>),
            };
            let updated = q.fetch_one(&mut *tx).await?;
            let mut payload = json!({ "from": from.to_string(), "to": to.to_string(), "action": format!("{action:?}").to_lowercase() });
            if let (Some(obj), Some(n)) = (payload.as_object_mut(), &note) {
                let value = match n {
                    Note::Text(t) => serde_json::Value::String(t.clone()),
                    Note::Json(v) => v.clone(),
                };
                obj.insert("note".into(), value);
            }
            reached = updated;
            NewEvent {
                campaign_id: campaign.map(CampaignId::from),
                entity: table.entity,
                entity_id: key.to_string(),
                kind: format!("{}.{}", table.entity, to),
                actor: actor.to_owned(),
                payload,
            }
        });
        Ok(reached)
    }
}
