//! Samples: register (operator), list, read.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use athanor_core::{CampaignId, NewSample, Sample, SampleId};

use crate::auth::{Operator, Viewer};
use crate::extract::{JsonBody, PathParam, QueryParams};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::{page_request, parse_id, PageOf};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SampleListQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only samples of this campaign.
    #[param(value_type = Option<String>, format = Uuid)]
    pub campaign_id: Option<String>,
}

/// Register a physical sample.
#[utoipa::path(post, path = "/api/v1/samples", tag = "samples", request_body = NewSample,
    responses((status = 201, description = "Registered", body = Sample), WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    who: Operator,
    JsonBody(new): JsonBody<NewSample>,
) -> ApiResult<(StatusCode, Json<Sample>)> {
    new.validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.create_sample(new, &who.name).await?),
    ))
}

/// List samples in creation order.
#[utoipa::path(get, path = "/api/v1/samples", tag = "samples", params(SampleListQuery),
    responses((status = 200, description = "One page", body = PageOf<Sample>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    QueryParams(q): QueryParams<SampleListQuery>,
) -> ApiResult<Json<PageOf<Sample>>> {
    let campaign: Option<CampaignId> = q
        .campaign_id
        .as_deref()
        .map(|c| parse_id(c, "campaign_id"))
        .transpose()?;
    let page = page_request(q.limit, q.cursor)?;
    Ok(Json(s.store.list_samples(campaign, &page).await?.into()))
}

/// Read one sample.
#[utoipa::path(get, path = "/api/v1/samples/{id}", tag = "samples", params(("id" = uuid::Uuid, Path, description = "Sample id")),
    responses((status = 200, description = "The sample", body = Sample), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Sample>> {
    let id: SampleId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_sample(id).await?))
}
