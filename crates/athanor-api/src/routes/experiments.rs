//! Experiments of a campaign and their steps: list, propose (operator), read, cancel.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use athanor_core::{
    CampaignId, Experiment, ExperimentAction, ExperimentId, ExperimentState, NewExperiment, Step,
};

use crate::auth::{Operator, Viewer};
use crate::extract::{JsonBody, PathParam, QueryParams};
use crate::problem::ApiResult;
use crate::responses::{ReadErrors, WriteErrors};
use crate::routes::{page_request, parse_id, PageOf};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExperimentListQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only experiments in this state.
    pub state: Option<ExperimentState>,
}

/// List a campaign's experiments in creation order.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}/experiments", tag = "experiments",
    params(("id" = uuid::Uuid, Path, description = "Campaign id"), ExperimentListQuery),
    responses((status = 200, description = "One page", body = PageOf<Experiment>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
    QueryParams(q): QueryParams<ExperimentListQuery>,
) -> ApiResult<Json<PageOf<Experiment>>> {
    let id: CampaignId = parse_id(&id, "id")?;
    let page = page_request(q.limit, q.cursor)?;
    s.store.get_campaign(id).await?;
    Ok(Json(
        s.store
            .list_experiments(Some(id), q.state, &page)
            .await?
            .into(),
    ))
}

/// Propose an experiment by hand; it must lie inside the campaign's search space and budget.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/experiments", tag = "experiments",
    params(("id" = uuid::Uuid, Path, description = "Campaign id")), request_body = NewExperiment,
    responses((status = 201, description = "Proposed", body = Experiment), WriteErrors),
    security(("bearer" = [])))]
pub async fn create(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
    JsonBody(new): JsonBody<NewExperiment>,
) -> ApiResult<(StatusCode, Json<Experiment>)> {
    let id: CampaignId = parse_id(&id, "id")?;
    Ok((
        StatusCode::CREATED,
        Json(s.store.create_experiment(id, new, &who.name).await?),
    ))
}

/// Read one experiment.
#[utoipa::path(get, path = "/api/v1/experiments/{id}", tag = "experiments", params(("id" = uuid::Uuid, Path, description = "Experiment id")),
    responses((status = 200, description = "The experiment", body = Experiment), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Experiment>> {
    let id: ExperimentId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_experiment(id).await?))
}

/// The steps of an experiment, in order.
#[utoipa::path(get, path = "/api/v1/experiments/{id}/steps", tag = "experiments", params(("id" = uuid::Uuid, Path, description = "Experiment id")),
    responses((status = 200, description = "Its steps", body = Vec<Step>), ReadErrors),
    security(("bearer" = [])))]
pub async fn steps(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Vec<Step>>> {
    let id: ExperimentId = parse_id(&id, "id")?;
    s.store.get_experiment(id).await?;
    Ok(Json(s.store.list_steps(id).await?))
}

/// Cancel an experiment that has not finished.
#[utoipa::path(post, path = "/api/v1/experiments/{id}/cancel", tag = "experiments", params(("id" = uuid::Uuid, Path, description = "Experiment id")),
    responses((status = 200, description = "Cancelled", body = Experiment), WriteErrors),
    security(("bearer" = [])))]
pub async fn cancel(
    State(s): State<AppState>,
    who: Operator,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Experiment>> {
    let id: ExperimentId = parse_id(&id, "id")?;
    Ok(Json(
        s.store
            .apply_experiment_action(
                id,
                ExperimentAction::Cancel,
                &who.name,
                Some("cancelled by an operator"),
            )
            .await?,
    ))
}
