//! Instruments: register (admin), list, read, status (state, newest reading, open commands)
//! and recent telemetry by time range.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use athanor_core::{Command, Instrument, InstrumentId, NewInstrument};
use athanor_store::TelemetryRecord;

use crate::auth::{Admin, Viewer};
use crate::extract::{JsonBody, PathParam, QueryParams};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::{PageOf, PageQuery};
use crate::state::AppState;

/// Register an instrument; it stays offline until its controller reports in.
#[utoipa::path(post, path = "/api/v1/instruments", tag = "instruments", request_body = NewInstrument,
    responses((status = 201, description = "Registered", body = Instrument), WriteErrors),
    security(("bearer" = [])))]
pub async fn register(
    State(s): State<AppState>,
    who: Admin,
    JsonBody(new): JsonBody<NewInstrument>,
) -> ApiResult<(StatusCode, Json<Instrument>)> {
    new.validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.register_instrument(new, &who.name).await?),
    ))
}

/// List instruments by id.
#[utoipa::path(get, path = "/api/v1/instruments", tag = "instruments", params(PageQuery),
    responses((status = 200, description = "One page", body = PageOf<Instrument>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<PageOf<Instrument>>> {
    Ok(Json(s.store.list_instruments(&q.request()?).await?.into()))
}

/// Read one instrument.
#[utoipa::path(get, path = "/api/v1/instruments/{id}", tag = "instruments", params(("id" = InstrumentId, Path, description = "Instrument id")),
    responses((status = 200, description = "The instrument", body = Instrument), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Instrument>> {
    Ok(Json(s.store.get_instrument(&parse_id(&id)?).await?))
}

fn parse_id(id: &str) -> Result<InstrumentId, ApiError> {
    InstrumentId::parse(id).map_err(|e| ApiError::malformed(e.to_string()).with_field("id"))
}

/// One telemetry row: a reading as it arrived (`samples` = 1), or the mean of `samples`
/// readings of one time bucket once telemetry has been downsampled.
#[derive(Debug, Serialize, ToSchema)]
pub struct TelemetryReading {
    /// When the controller took the reading (a downsampled row: its bucket's start).
    pub at: DateTime<Utc>,
    /// The controller's message counter.
    pub seq: u64,
    /// Reading names to values.
    #[schema(value_type = Object)]
    pub values: serde_json::Value,
    pub received_at: DateTime<Utc>,
    /// How many readings this row stands for.
    pub samples: u64,
}

impl From<TelemetryRecord> for TelemetryReading {
    fn from(r: TelemetryRecord) -> Self {
        Self {
            at: r.at,
            seq: r.seq,
            values: r.values,
            received_at: r.received_at,
            samples: r.samples,
        }
    }
}

/// What an operator needs to see of an instrument at a glance.
#[derive(Debug, Serialize, ToSchema)]
pub struct InstrumentStatus {
    pub instrument: Instrument,
    /// Its newest telemetry reading, if it has sent any.
    pub latest_telemetry: Option<TelemetryReading>,
    /// Commands sent or waiting to be sent that have not ended, oldest first.
    pub open_commands: Vec<Command>,
}

/// An instrument's state, newest reading and unfinished commands.
#[utoipa::path(get, path = "/api/v1/instruments/{id}/status", tag = "instruments", params(("id" = InstrumentId, Path, description = "Instrument id")),
    responses((status = 200, description = "The instrument's status", body = InstrumentStatus), ReadErrors),
    security(("bearer" = [])))]
pub async fn status(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<InstrumentStatus>> {
    let id = parse_id(&id)?;
    let instrument = s.store.get_instrument(&id).await?;
    let latest_telemetry = s.store.latest_telemetry(&id).await?.map(Into::into);
    let open_commands = s.store.list_unfinished_commands(Some(&id)).await?;
    Ok(Json(InstrumentStatus {
        instrument,
        latest_telemetry,
        open_commands,
    }))
}

/// The default and largest number of readings one telemetry request returns.
const TELEMETRY_DEFAULT_LIMIT: u32 = 1000;
const TELEMETRY_MAX_LIMIT: u32 = 10_000;

/// A time range of telemetry.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct TelemetryQuery {
    /// Start (inclusive), RFC 3339; default: one hour before `to`.
    pub from: Option<DateTime<Utc>>,
    /// End (exclusive), RFC 3339; default: now.
    pub to: Option<DateTime<Utc>>,
    /// Most readings returned, oldest first: 1–10000 (default 1000).
    #[param(minimum = 1, maximum = 10000)]
    pub limit: Option<u32>,
}

/// Telemetry of one instrument in a time range.
#[derive(Debug, Serialize, ToSchema)]
pub struct TelemetryPage {
    pub instrument_id: InstrumentId,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Oldest first. When it holds `limit` readings, ask again from the last one's `at`.
    pub items: Vec<TelemetryReading>,
}

/// Telemetry of one instrument by time range, oldest first.
#[utoipa::path(get, path = "/api/v1/instruments/{id}/telemetry", tag = "instruments",
    params(("id" = InstrumentId, Path, description = "Instrument id"), TelemetryQuery),
    responses((status = 200, description = "Readings in the range", body = TelemetryPage), ReadErrors),
    security(("bearer" = [])))]
pub async fn telemetry(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<TelemetryQuery>,
) -> ApiResult<Json<TelemetryPage>> {
    let id = parse_id(&id)?;
    let limit = q.limit.unwrap_or(TELEMETRY_DEFAULT_LIMIT);
    if !(1..=TELEMETRY_MAX_LIMIT).contains(&limit) {
        return Err(ApiError::invalid(
            "limit",
            format!("limit {limit} must lie between 1 and {TELEMETRY_MAX_LIMIT}"),
        ));
    }
    let to = q.to.unwrap_or_else(Utc::now);
    let from = q.from.unwrap_or(to - TimeDelta::hours(1));
    if from > to {
        return Err(ApiError::invalid("from", "`from` must not be after `to`"));
    }
    // 404 for an instrument nobody registered, rather than an empty list.
    s.store.get_instrument(&id).await?;
    let items = s
        .store
        .telemetry_range(&id, from, to, limit)
        .await?
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(Json(TelemetryPage {
        instrument_id: id,
        from,
        to,
        items,
    }))
}
