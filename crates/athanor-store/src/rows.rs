//! Database rows and their conversion into domain records. Rows decode on both backends: ids
//! are `Uuid`, times `DateTime<Utc>`, structured values `Json<_>`.

use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::types::Json;
use uuid::Uuid;

use athanor_core::*;

use crate::error::{Result, StoreError};

pub(crate) fn parse_name<T: FromStr>(what: &'static str, s: &str) -> Result<T> {
    s.parse()
        .map_err(|_| StoreError::corrupt(what, format!("unknown value `{s}`")))
}

pub(crate) fn parse_cursor(cursor: &str) -> Result<Uuid> {
    Uuid::parse_str(cursor)
        .map_err(|_| ValidationError::new("cursor", "is not a cursor this server issued").into())
}

#[derive(sqlx::FromRow)]
pub(crate) struct CampaignRow {
    id: Uuid,
    spec: Json<NewCampaign>,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CampaignRow> for Campaign {
    type Error = StoreError;
    fn try_from(r: CampaignRow) -> Result<Self> {
        Ok(Campaign {
            id: r.id.into(),
            spec: r.spec.0,
            state: parse_name("campaign state", &r.state)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct HypothesisRow {
    id: Uuid,
    campaign_id: Uuid,
    statement: String,
    claim: Json<Claim>,
    prior: f64,
    belief: f64,
    state: String,
    origin: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<HypothesisRow> for Hypothesis {
    type Error = StoreError;
    fn try_from(r: HypothesisRow) -> Result<Self> {
        let origin = match r.origin.as_str() {
            "operator" => Origin::Operator,
            "planner" => Origin::Planner,
            other => return Err(StoreError::corrupt("hypothesis origin", other)),
        };
        Ok(Hypothesis {
            id: r.id.into(),
            campaign_id: r.campaign_id.into(),
            statement: r.statement,
            claim: r.claim.0,
            prior: r.prior,
            belief: r.belief,
            state: parse_name("hypothesis state", &r.state)?,
            origin,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

pub(crate) fn origin_name(o: &Origin) -> &'static str {
    match o {
        Origin::Operator => "operator",
        Origin::Planner => "planner",
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct ExperimentRow {
    id: Uuid,
    campaign_id: Uuid,
    hypothesis_id: Option<Uuid>,
    sample_id: Option<Uuid>,
    parameters: Json<Parameters>,
    rationale: String,
    predicted: Option<Json<Value>>,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ExperimentRow> for Experiment {
    type Error = StoreError;
    fn try_from(r: ExperimentRow) -> Result<Self> {
        Ok(Experiment {
            id: r.id.into(),
            campaign_id: r.campaign_id.into(),
            hypothesis_id: r.hypothesis_id.map(Into::into),
            sample_id: r.sample_id.map(Into::into),
            parameters: r.parameters.0,
            rationale: r.rationale,
            predicted: r.predicted.map(|j| j.0),
            state: parse_name("experiment state", &r.state)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct SampleRow {
    id: Uuid,
    label: String,
    campaign_id: Option<Uuid>,
    experiment_id: Option<Uuid>,
    location: Option<String>,
    notes: String,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SampleRow> for Sample {
    type Error = StoreError;
    fn try_from(r: SampleRow) -> Result<Self> {
        Ok(Sample {
            id: r.id.into(),
            label: r.label,
            campaign_id: r.campaign_id.map(Into::into),
            experiment_id: r.experiment_id.map(Into::into),
            location: r.location,
            notes: r.notes,
            state: parse_name("sample state", &r.state)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct InstrumentRow {
    id: String,
    name: String,
    class: String,
    transport: Json<Value>,
    limits: Json<InstrumentLimits>,
    state: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<InstrumentRow> for Instrument {
    type Error = StoreError;
    fn try_from(r: InstrumentRow) -> Result<Self> {
        Ok(Instrument {
            id: InstrumentId::parse(&r.id).map_err(|e| StoreError::corrupt("instrument id", e))?,
            name: r.name,
            class: parse_name("instrument class", &r.class)?,
            transport: r.transport.0,
            limits: r.limits.0,
            state: parse_name("instrument state", &r.state)?,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct StepRow {
    id: Uuid,
    experiment_id: Uuid,
    seq: i32,
    kind: String,
    instrument_id: Option<String>,
    parameters: Json<Value>,
    state: String,
    error: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<StepRow> for Step {
    type Error = StoreError;
    fn try_from(r: StepRow) -> Result<Self> {
        Ok(Step {
            id: r.id.into(),
            experiment_id: r.experiment_id.into(),
            seq: r.seq,
            kind: parse_name("step kind", &r.kind)?,
            instrument_id: r
                .instrument_id
                .map(|s| {
                    InstrumentId::parse(&s).map_err(|e| StoreError::corrupt("instrument id", e))
                })
                .transpose()?,
            parameters: r.parameters.0,
            state: parse_name("step state", &r.state)?,
            error: r.error,
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct CommandRow {
    id: Uuid,
    step_id: Option<Uuid>,
    instrument_id: String,
    action: String,
    parameters: Json<Value>,
    deadline: Option<DateTime<Utc>>,
    state: String,
    result: Option<Json<Value>>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<CommandRow> for Command {
    type Error = StoreError;
    fn try_from(r: CommandRow) -> Result<Self> {
        Ok(Command {
            id: r.id.into(),
            step_id: r.step_id.map(Into::into),
            instrument_id: InstrumentId::parse(&r.instrument_id)
                .map_err(|e| StoreError::corrupt("instrument id", e))?,
            action: r.action,
            parameters: r.parameters.0,
            deadline: r.deadline,
            state: parse_name("command state", &r.state)?,
            result: r.result.map(|j| j.0),
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct MeasurementRow {
    id: Uuid,
    experiment_id: Option<Uuid>,
    sample_id: Option<Uuid>,
    instrument_id: Option<String>,
    kind: String,
    metadata: Json<Value>,
    data: Json<Value>,
    created_at: DateTime<Utc>,
}

impl TryFrom<MeasurementRow> for Measurement {
    type Error = StoreError;
    fn try_from(r: MeasurementRow) -> Result<Self> {
        Ok(Measurement {
            id: r.id.into(),
            experiment_id: r.experiment_id.map(Into::into),
            sample_id: r.sample_id.map(Into::into),
            instrument_id: r
                .instrument_id
                .map(|s| {
                    InstrumentId::parse(&s).map_err(|e| StoreError::corrupt("instrument id", e))
                })
                .transpose()?,
            kind: r.kind,
            metadata: r.metadata.0,
            data: r.data.0,
            created_at: r.created_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct AnalysisRow {
    id: Uuid,
    measurement_id: Uuid,
    experiment_id: Option<Uuid>,
    kind: String,
    result: Json<Value>,
    confidence: Option<f64>,
    created_at: DateTime<Utc>,
}

impl From<AnalysisRow> for Analysis {
    fn from(r: AnalysisRow) -> Self {
        Analysis {
            id: r.id.into(),
            measurement_id: r.measurement_id.into(),
            experiment_id: r.experiment_id.map(Into::into),
            kind: r.kind,
            result: r.result.0,
            confidence: r.confidence,
            created_at: r.created_at,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(crate) struct EventRow {
    seq: i64,
    at: DateTime<Utc>,
    campaign_id: Option<Uuid>,
    entity: String,
    entity_id: String,
    kind: String,
    actor: String,
    payload: Json<Value>,
}

impl TryFrom<EventRow> for Event {
    type Error = StoreError;
    fn try_from(r: EventRow) -> Result<Self> {
        Ok(Event {
            seq: r.seq,
            at: r.at,
            campaign_id: r.campaign_id.map(Into::into),
            entity: parse_name("event entity", &r.entity)?,
            entity_id: r.entity_id,
            kind: r.kind,
            actor: r.actor,
            payload: r.payload.0,
        })
    }
}

/// Converts a vector of rows, failing on the first corrupt one.
pub(crate) fn convert_all<R, T: TryFrom<R, Error = StoreError>>(rows: Vec<R>) -> Result<Vec<T>> {
    rows.into_iter().map(T::try_from).collect()
}
