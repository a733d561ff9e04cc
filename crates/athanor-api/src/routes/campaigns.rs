//! `/api/v1/campaigns`: create, list, read, pause, resume, abort.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use athanor_core::{Campaign, CampaignAction, CampaignId, CampaignState, NewCampaign};

use crate::auth::{Operator, Viewer};
use crate::extract::{JsonBody, PathParam, QueryParams};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::{page_request, parse_id, PageOf};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignListQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only campaigns in this state.
    pub state: Option<CampaignState>,
}

/// Create a campaign; it starts active.
#[utoipa::path(post, path = "/api/v1/campaigns", tag = "campaigns", request_body = NewCampaign,
    responses((status = 201, description = "Created", body = Campaign), WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    who: Operator,
    JsonBody(spec): JsonBody<NewCampaign>,
) -> ApiResult<(StatusCode, Json<Campaign>)> {
    spec.validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.create_campaign(spec, &who.name).await?),
    ))
}

/// List campaigns in creation order.
#[utoipa::path(get, path = "/api/v1/campaigns", tag = "campaigns", params(CampaignListQuery),
    responses((status = 200, description = "One page", body = PageOf<Campaign>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    QueryParams(q): QueryParams<CampaignListQuery>,
) -> ApiResult<Json<PageOf<Campaign>>> {
    let page = page_request(q.limit, q.cursor)?;
    Ok(Json(s.store.list_campaigns(&page, q.state).await?.into()))
}

/// Read one campaign.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", tag = "campaigns", params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "The campaign", body = Campaign), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Campaign>> {
    let id: CampaignId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_campaign(id).await?))
}

async fn act(
    s: &AppState,
    id: &str,
    action: CampaignAction,
    actor: &str,
) -> ApiResult<Json<Campaign>> {
    let id: CampaignId = parse_id(id, "id")?;
    Ok(Json(
        s.store.apply_campaign_action(id, action, actor).await?,
    ))
}

/// Pause an active campaign: no new experiment starts; running ones finish.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/pause", tag = "campaigns", params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "Paused", body = Campaign), WriteErrors),
    security(("bearer" = [])))]
pub async fn pause(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Campaign>> {
    act(&s, &id, CampaignAction::Pause, &who.name).await
}

/// Resume a paused campaign.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/resume", tag = "campaigns", params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "Active again", body = Campaign), WriteErrors),
    security(("bearer" = [])))]
pub async fn resume(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Campaign>> {
    act(&s, &id, CampaignAction::Resume, &who.name).await
}

/// Abort a campaign for good.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/abort", tag = "campaigns", params(("id" = uuid::Uuid, Path, description = "Campaign id")),
    responses((status = 200, description = "Aborted", body = Campaign), WriteErrors),
    security(("bearer" = [])))]
pub async fn abort(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Campaign>> {
    act(&s, &id, CampaignAction::Abort, &who.name).await
}
