//! The append-only event log: written inside every mutating transaction, read for history and
//! for server-sent events that resume after a given sequence number.

use chrono::{DateTime, Utc};

use athanor_core::{CampaignId, Event, NewEvent};

use crate::backend::dispatch;
use crate::error::Result;
use crate::query::{Bind, Select};
use crate::rows::{convert_all, EventRow};
use crate::Store;

pub(crate) const INSERT_EVENT: &str =
    "INSERT INTO events (at, campaign_id, entity, entity_id, kind, actor, payload) \
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING seq";

/// Inserts one event inside the transaction `$tx` and evaluates to the stored [`Event`].
macro_rules! insert_event {
    ($tx:expr, $event:expr, $at:expr) => {{
        let ev: &athanor_core::NewEvent = &$event;
        let at: chrono::DateTime<chrono::Utc> = $at;
        let seq: i64 = sqlx::query_scalar($crate::events::INSERT_EVENT)
            .bind(at)
            .bind(ev.campaign_id.map(|c| c.0))
            .bind(ev.entity.as_str())
            .bind(&ev.entity_id)
            .bind(&ev.kind)
            .bind(&ev.actor)
            .bind(sqlx::types::Json(&ev.payload))
            .fetch_one(&mut *$tx)
            .await?;
        $crate::events::stored(ev.clone(), seq, at)
    }};
}
pub(crate) use insert_event;

/// Runs `$body` in one write transaction on whichever backend the store has; the body makes its
/// changes through `$tx` and evaluates to the [`NewEvent`] that records them, which is inserted
/// in the same transaction. After the commit the stored event goes to live subscribers; the macro
/// evaluates to it.
macro_rules! write_with_event {
    ($store:expr, $now:expr, |$tx:ident, $lock:ident| $body:block) => {{
        let stored = $crate::backend::dispatch!($store, write, |pool, $lock| {
            let mut $tx = pool.begin().await?;
            let event: athanor_core::NewEvent = $body;
            let stored = $crate::events::insert_event!($tx, event, $now);
            $tx.commit().await?;
            stored
        });
        $store.publish(vec![stored.clone()]);
        stored
    }};
}
pub(crate) use write_with_event;

pub(crate) fn stored(e: NewEvent, seq: i64, at: DateTime<Utc>) -> Event {
    Event {
        seq,
        at,
        campaign_id: e.campaign_id,
        entity: e.entity,
        entity_id: e.entity_id,
        kind: e.kind,
        actor: e.actor,
        payload: e.payload,
    }
}

/// Which events to read.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    /// Only events after this sequence number.
    pub after_seq: Option<i64>,
    /// Only events of this campaign.
    pub campaign_id: Option<CampaignId>,
    /// Only events about this record (its id as text).
    pub entity_id: Option<String>,
    /// At most this many (clamped to 1–1000; 100 when zero).
    pub limit: u32,
}

impl Store {
    /// Events in sequence order.
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        let limit = i64::from(match filter.limit {
            0 => 100,
            n => n.min(1000),
        });
        let select = Select::from(
            "seq, at, campaign_id, entity, entity_id, kind, actor, payload",
            "events",
        )
        .filter("seq", ">", filter.after_seq.map(Bind::Int))
        .eq("campaign_id", filter.campaign_id.map(|c| Bind::Uuid(c.0)))
        .eq("entity_id", filter.entity_id.clone().map(Bind::Text))
        .page("seq", limit);
        let rows: Vec<EventRow> = self.fetch_rows(&select).await?;
        convert_all(rows)
    }

    /// Appends an event that records no state change (an operator note, an alarm).
    pub async fn append_event(&self, event: NewEvent) -> Result<Event> {
        let now = Utc::now();
        Ok(write_with_event!(self, now, |_tx, _lock| { event }))
    }
}

impl Store {
    /// Tries to rewrite history; exists so tests can prove the database refuses it.
    #[doc(hidden)]
    pub async fn tamper_with_events_for_test(&self) -> Result<()> {
        dispatch!(self, write, |pool, _lock| {
            sqlx::query("UPDATE events SET actor = 'mallory'")
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
