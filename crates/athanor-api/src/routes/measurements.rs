//! Measurements and analyses: read-only through the API (the engine writes them).

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

use athanor_core::{Analysis, AnalysisId, ExperimentId, Measurement, MeasurementId};

use crate::auth::Viewer;
use crate::extract::{PathParam, QueryParams};
use crate::problem::ApiResult;
use crate::responses::ReadErrors;
use crate::routes::{page_request, parse_id, PageOf};
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MeasurementListQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only measurements of this experiment.
    #[param(value_type = Option<String>, format = Uuid)]
    pub experiment_id: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AnalysisListQuery {
    /// Records per page, 1–500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only analyses of this measurement.
    #[param(value_type = Option<String>, format = Uuid)]
    pub measurement_id: Option<String>,
    /// Only analyses of this experiment.
    #[param(value_type = Option<String>, format = Uuid)]
    pub experiment_id: Option<String>,
}

/// List measurements in creation order.
#[utoipa::path(get, path = "/api/v1/measurements", tag = "measurements", params(MeasurementListQuery),
    responses((status = 200, description = "One page", body = PageOf<Measurement>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list(
    State(s): State<AppState>,
    _who: Viewer,
    QueryParams(q): QueryParams<MeasurementListQuery>,
) -> ApiResult<Json<PageOf<Measurement>>> {
    let experiment: Option<ExperimentId> = q
        .experiment_id
        .as_deref()
        .map(|e| parse_id(e, "experiment_id"))
        .transpose()?;
    let page = page_request(q.limit, q.cursor)?;
    Ok(Json(
        s.store.list_measurements(experiment, &page).await?.into(),
    ))
}

/// Read one measurement with its data.
#[utoipa::path(get, path = "/api/v1/measurements/{id}", tag = "measurements", params(("id" = uuid::Uuid, Path, description = "Measurement id")),
    responses((status = 200, description = "The measurement", body = Measurement), ReadErrors),
    security(("bearer" = [])))]
pub async fn get(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Measurement>> {
    let id: MeasurementId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_measurement(id).await?))
}

/// List analyses in creation order.
#[utoipa::path(get, path = "/api/v1/analyses", tag = "measurements", params(AnalysisListQuery),
    responses((status = 200, description = "One page", body = PageOf<Analysis>), ReadErrors),
    security(("bearer" = [])))]
pub async fn list_analyses(
    State(s): State<AppState>,
    _who: Viewer,
    QueryParams(q): QueryParams<AnalysisListQuery>,
) -> ApiResult<Json<PageOf<Analysis>>> {
    let measurement: Option<MeasurementId> = q
        .measurement_id
        .as_deref()
        .map(|m| parse_id(m, "measurement_id"))
        .transpose()?;
    let experiment: Option<ExperimentId> = q
        .experiment_id
        .as_deref()
        .map(|e| parse_id(e, "experiment_id"))
        .transpose()?;
    let page = page_request(q.limit, q.cursor)?;
    Ok(Json(
        s.store
            .list_analyses(measurement, experiment, &page)
            .await?
            .into(),
    ))
}

/// Read one analysis.
#[utoipa::path(get, path = "/api/v1/analyses/{id}", tag = "measurements", params(("id" = uuid::Uuid, Path, description = "Analysis id")),
    responses((status = 200, description = "The analysis", body = Analysis), ReadErrors),
    security(("bearer" = [])))]
pub async fn get_analysis(
    State(s): State<AppState>,
    _who: Viewer,
    PathParam(id): PathParam<String>,
) -> ApiResult<Json<Analysis>> {
    let id: AnalysisId = parse_id(&id, "id")?;
    Ok(Json(s.store.get_analysis(id).await?))
}
