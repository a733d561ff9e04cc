//! `GET /api/v1/events`: the event log as server-sent events, optionally for one campaign.
//!
//! A subscriber first receives the stored events after `Last-Event-ID` (or `after`), then live
//! ones; if it falls behind the live channel it is caught up from the database, so a reconnecting
//! dashboard loses nothing.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures::stream::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::{IntoParams, ToSchema};

use athanor_core::{CampaignId, Event};
use athanor_store::{EventFilter, Store};

use crate::auth::Viewer;
use crate::extract::QueryParams;
use crate::problem::{ApiError, ApiResult};
use crate::responses::ReadErrors;
use crate::routes::parse_id;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events of this campaign.
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<String>,
    /// Replay stored events after this sequence number first (the `Last-Event-ID` header wins).
    #[param(minimum = 0)]
    pub after: Option<i64>,
}

/// One server-sent event as it appears on the wire. (In OpenAPI 3.1 the schema of a
/// `text/event-stream` answer describes one event, not the whole stream.)
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Documents the stream; the frames themselves are built by `to_sse`.
pub struct EventFrame {
    /// The event's sequence number; send it back as `Last-Event-ID` (or `after`) to resume.
    pub id: String,
    /// The event's kind (`campaign.created`, `experiment.proposed`, …).
    pub event: String,
    /// The event itself as JSON, as described by the `Event` schema.
    #[schema(content_media_type = "application/json")]
    pub data: String,
}

fn to_sse(e: &Event) -> SseEvent {
    SseEvent::default()
        .id(e.seq.to_string())
        .event(e.kind.clone())
        .data(serde_json::to_string(e).unwrap_or_else(|_| "{}".into()))
}

/// Stored events after `after` matching the campaign, in pages.
async fn backlog(
    store: &Store,
    campaign: Option<CampaignId>,
    after: i64,
) -> Result<Vec<Event>, ApiError> {
    Ok(store
        .list_events(&EventFilter {
            after_seq: Some(after),
            campaign_id: campaign,
            entity_id: None,
            limit: 1000,
        })
        .await?)
}

/// Subscribe to events.
#[utoipa::path(get, path = "/api/v1/events", tag = "events", params(EventQuery,
        ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event")),
    responses((status = 200, description = "A stream of events; each `id` is the event's sequence number, `event` its kind, `data` the event as JSON",
        content_type = "text/event-stream", body = EventFrame), ReadErrors),
    security(("bearer" = [])))]
pub async fn stream(
    State(s): State<AppState>,
    _who: Viewer,
    headers: HeaderMap,
    QueryParams(q): QueryParams<EventQuery>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let campaign: Option<CampaignId> = q
        .campaign_id
        .as_deref()
        .map(|c| parse_id(c, "campaign_id"))
        .transpose()?;
    let header_after = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    ApiError::malformed("Last-Event-ID must be an event sequence number")
                        .with_field("Last-Event-ID")
                })?,
        ),
        None => None,
    };
    if q.after.is_some_and(|a| a < 0) {
        return Err(ApiError::invalid("after", "must be 0 or more"));
    }
    let resume_after = header_after.or(q.after);
    // Subscribe before reading the backlog so nothing committed in between is missed.
    let mut live = s.store.subscribe();
    let store = s.store.clone();
    let shutdown = s.shutdown.clone();
    let initial = match resume_after {
        Some(after) => backlog(&store, campaign, after).await?,
        None => Vec::new(),
    };
    let stream = async_stream_events(move |tx| async move {
        let mut last = resume_after.unwrap_or(0);
        let mut pending = initial;
        loop {
            for e in pending.drain(..) {
                last = last.max(e.seq);
                if tx.send(to_sse(&e)).await.is_err() {
                    return;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                // The client went away: stop waiting for events nobody will read.
                _ = tx.closed() => return,
                received = live.recv() => match received {
                    Ok(e) if e.seq > last && (campaign.is_none() || e.campaign_id == campaign) => pending.push(e),
                    Ok(_) => {}
                    Err(RecvError::Lagged(_)) => match backlog(&store, campaign, last).await {
                        Ok(missed) => pending = missed,
                        Err(_) => return,
                    },
                    Err(RecvError::Closed) => return,
                },
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Runs `produce` as a task feeding a channel, and exposes the channel as a stream; the task
/// ends when the client goes away (the channel closes) or the server shuts down.
fn async_stream_events<F, Fut>(produce: F) -> impl Stream<Item = Result<SseEvent, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<SseEvent>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(256);
    tokio::spawn(produce(tx));
    futures::StreamExt::map(tokio_stream::wrappers::ReceiverStream::new(rx), Ok)
}
