//! Measurements and analyses: written by the engine, read through the API.

use chrono::Utc;
use serde_json::json;
use sqlx::types::Json;

use athanor_core::{
    Analysis, AnalysisId, EntityKind, ExperimentId, InstrumentId, Measurement, MeasurementId,
    NewEvent, SampleId,
};

use crate::error::{Result, StoreError};
use crate::events::write_with_event;
use crate::page::{Page, PageRequest};
use crate::query::{Bind, Select};
use crate::rows::{convert_all, parse_cursor, AnalysisRow, MeasurementRow};
use crate::Store;

const COLUMNS: &str =
    "id, experiment_id, sample_id, instrument_id, kind, metadata, data, created_at";
const ANALYSIS_COLUMNS: &str =
    "id, measurement_id, experiment_id, kind, result, confidence, created_at";

/// What the engine records when an instrument returns data.
#[derive(Debug, Clone)]
pub struct NewMeasurement {
    pub experiment_id: Option<ExperimentId>,
    pub sample_id: Option<SampleId>,
    pub instrument_id: Option<InstrumentId>,
    pub kind: String,
    pub metadata: serde_json::Value,
    pub data: serde_json::Value,
}

/// What the engine records when it has analysed a measurement.
#[derive(Debug, Clone)]
pub struct NewAnalysis {
    pub measurement_id: MeasurementId,
    pub kind: String,
    pub result: serde_json::Value,
    pub confidence: Option<f64>,
}

/// Campaign of an experiment, for the event that a measurement or analysis produces.
async fn campaign_of(
    store: &Store,
    experiment: Option<ExperimentId>,
) -> Result<Option<athanor_core::CampaignId>> {
    match experiment {
        Some(e) => Ok(Some(store.get_experiment(e).await?.campaign_id)),
        None => Ok(None),
    }
}

impl Store {
    pub async fn insert_measurement(
        &self,
        new: NewMeasurement,
        actor: &str,
    ) -> Result<Measurement> {
        let campaign = campaign_of(self, new.experiment_id).await?;
        let now = Utc::now();
        let m = Measurement {
            id: MeasurementId::new(),
            experiment_id: new.experiment_id,
            sample_id: new.sample_id,
            instrument_id: new.instrument_id,
            kind: new.kind,
            metadata: new.metadata,
            data: new.data,
            created_at: now,
        };
        let event = NewEvent {
            campaign_id: campaign,
            entity: EntityKind::Measurement,
            entity_id: m.id.to_string(),
            kind: "measurement.recorded".into(),
            actor: actor.to_owned(),
            payload: json!({ "kind": m.kind, "experiment_id": m.experiment_id, "sample_id": m.sample_id, "instrument_id": m.instrument_id }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query(
                "INSERT INTO measurements (id, experiment_id, sample_id, instrument_id, kind, metadata, data, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(m.id.0)
            .bind(m.experiment_id.map(|e| e.0))
            .bind(m.sample_id.map(|s| s.0))
            .bind(m.instrument_id.as_ref().map(|i| i.as_str().to_owned()))
            .bind(&m.kind)
            .bind(Json(&m.metadata))
            .bind(Json(&m.data))
            .bind(now)
            .execute(&mut *tx)
            .await?;
            event
        });
        Ok(m)
    }

    pub async fn get_measurement(&self, id: MeasurementId) -> Result<Measurement> {
        let row: Option<MeasurementRow> = self
            .fetch_by_id(COLUMNS, "measurements", Bind::Uuid(id.0))
            .await?;
        row.ok_or_else(|| StoreError::not_found(EntityKind::Measurement, id))?
            .try_into()
    }

    pub async fn list_measurements(
        &self,
        experiment_id: Option<ExperimentId>,
        page: &PageRequest,
    ) -> Result<Page<Measurement>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(COLUMNS, "measurements")
            .eq("experiment_id", experiment_id.map(|e| Bind::Uuid(e.0)))
            .filter("id", ">", after.map(Bind::Uuid))
            .page("id", limit + 1);
        let rows: Vec<MeasurementRow> = self.fetch_rows(&select).await?;
        Ok(Page::from_overfetch(
            convert_all(rows)?,
            limit,
            |m: &Measurement| m.id.to_string(),
        ))
    }

    pub async fn insert_analysis(&self, new: NewAnalysis, actor: &str) -> Result<Analysis> {
        if let Some(c) = new.confidence {
            if !(0.0..=1.0).contains(&c) {
                return Err(athanor_core::ValidationError::new(
                    "confidence",
                    "must lie between 0 and 1",
                )
                .into());
            }
        }
        let measurement = self.get_measurement(new.measurement_id).await?;
        let campaign = campaign_of(self, measurement.experiment_id).await?;
        let now = Utc::now();
        let a = Analysis {
            id: AnalysisId::new(),
            measurement_id: new.measurement_id,
            experiment_id: measurement.experiment_id,
            kind: new.kind,
            result: new.result,
            confidence: new.confidence,
            created_at: now,
        };
        let event = NewEvent {
            campaign_id: campaign,
            entity: EntityKind::Analysis,
            entity_id: a.id.to_string(),
            kind: "analysis.recorded".into(),
            actor: actor.to_owned(),
            payload: json!({ "kind": a.kind, "measurement_id": a.measurement_id, "confidence": a.confidence }),
        };
        write_with_event!(self, now, |tx, _lock| {
            sqlx::query(
                "INSERT INTO analyses (id, measurement_id, experiment_id, kind, result, confidence, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(a.id.0)
            .bind(a.measurement_id.0)
            .bind(a.experiment_id.map(|e| e.0))
            .bind(&a.kind)
            .bind(Json(&a.result))
            .bind(a.confidence)
            .bind(now)
            .execute(&mut *tx)
            .await?;
            event
        });
        Ok(a)
    }

    pub async fn get_analysis(&self, id: AnalysisId) -> Result<Analysis> {
        let row: Option<AnalysisRow> = self
            .fetch_by_id(ANALYSIS_COLUMNS, "analyses", Bind::Uuid(id.0))
            .await?;
        Ok(row
            .ok_or_else(|| StoreError::not_found(EntityKind::Analysis, id))?
            .into())
    }

    /// Analyses of one measurement or one experiment (or all), in creation order.
    pub async fn list_analyses(
        &self,
        measurement_id: Option<MeasurementId>,
        experiment_id: Option<ExperimentId>,
        page: &PageRequest,
    ) -> Result<Page<Analysis>> {
        let limit = page.effective_limit();
        let after = page.after.as_deref().map(parse_cursor).transpose()?;
        let select = Select::from(ANALYSIS_COLUMNS, "analyses")
            .eq("measurement_id", measurement_id.map(|m| Bind::Uuid(m.0)))
            .eq("experiment_id", experiment_id.map(|e| Bind::Uuid(e.0)))
            .filter("id", ">", after.map(Bind::Uuid))
            .page("id", limit + 1);
        let rows: Vec<AnalysisRow> = self.fetch_rows(&select).await?;
        let items: Vec<Analysis> = rows.into_iter().map(Analysis::from).collect();
        Ok(Page::from_overfetch(items, limit, |a: &Analysis| {
            a.id.to_string()
        }))
    }
}
