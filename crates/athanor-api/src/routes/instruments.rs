//! Instruments: register (admin), list, read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use athanor_core::{Instrument, InstrumentId, NewInstrument};

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
    let id = InstrumentId::parse(&id)
        .map_err(|e| ApiError::malformed(e.to_string()).with_field("id"))?;
    Ok(Json(s.store.get_instrument(&id).await?))
}
