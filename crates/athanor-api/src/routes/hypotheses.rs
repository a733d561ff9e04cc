//! Hypotheses: list a campaign's, state one (operator), read one.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;

use athanor_core::{CampaignId, Hypothesis, HypothesisId, NewHypothesis, Origin};

use crate::auth::{Operator, Viewer};
use crate::extract::{JsonBody, PathParam, QueryParams};
use crate::problem::{ApiError, ApiResult};
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::{parse_id, PageOf, PageQuery};
use crate::state::AppState;

/// List a campaign's hypotheses with their current beliefs.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/hypotheses", tag = "hypotheses",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), PageQuery),
    responses((status = 200, description = "One page", body = PageOf<Hypothesis>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<PageQuery>,
) -> ApiResult<Json<PageOf<Hypothesis>>> {
    let id: CampaignId = parse_id(&id, "id")?;
    let page = q.request()?;
    s.store.get_campaign(id).await?;
    Ok(Json(s.store.list_hypotheses(Some(id), &page).await?.into()))
}

/// State a hypothesis as an operator; its belief starts at its prior.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/hypotheses", tag = "hypotheses",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")), request_body = NewHypothesis,
    responses((status = 201, description = "Recorded", body = Hypothesis), WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
    JsonBody(new): JsonBody<NewHypothesis>,
) -> ApiResult<(StatusCode, Json<Hypothesis>)> {
    let id: CampaignId = parse_id(&id, "id")?;
    new.validate()
        .map_err(|e| ApiError::invalid(e.field.clone(), e.to_string()))?;
    Ok((
        StatusCode::CREATED,
        Json(
            s.store
                .create_hypothesis(id, new, Origin::Operator, &who.name)
                .await?,
        ),
    ))
}

/// Read one hypothesis.
#[utoipa::path(get, path = "/api/v1/hypotheses/{id}", tag = "hypotheses", params(("id" = uuid::Uuid, Path, description = "Hypothesis id")),
    responses((status = 200, description = "The hypothesis", body = Hypothesis), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Hypothesis>> {
    let id: HypothesisId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_hypothesis(id).await?))
}
