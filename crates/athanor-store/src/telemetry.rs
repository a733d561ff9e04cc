//! Instrument telemetry: readings written in batches (one transaction per batch) and read back by
//! time range.
//!
//! Telemetry is not a state change, so it writes no event: at tens of thousands of readings a
//! second the event log would drown. A reading's identity is `(instrument_id, at, seq)`; a
//! duplicate of a stored reading (MQTT QoS 1 delivers at least once) is dropped by the insert.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use athanor_core::InstrumentId;

use crate::backend::dispatch;
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows per INSERT statement: 5 bound values each keeps a statement well below both databases'
/// limits on bound parameters (SQLite 32,766; PostgreSQL 65,535).
const ROWS_PER_STATEMENT: usize = 1000;

/// One telemetry reading.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryRecord {
    pub instrument_id: InstrumentId,
    /// When the controller took the reading.
    pub at: DateTime<Utc>,
    /// The controller's message counter (from 0 since it started).
    pub seq: u64,
    /// Reading names to values (numbers, strings, booleans, null).
    pub values: serde_json::Value,
    /// When the daemon received it.
    pub received_at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct TelemetryRow {
    instrument_id: String,
    at: DateTime<Utc>,
    seq: i64,
    readings: Json<serde_json::Value>,
    received_at: DateTime<Utc>,
}

impl TryFrom<TelemetryRow> for TelemetryRecord {
    type Error = StoreError;
    fn try_from(r: TelemetryRow) -> Result<Self> {
        Ok(TelemetryRecord {
            instrument_id: InstrumentId::parse(&r.instrument_id)
                .map_err(|e| StoreError::corrupt("instrument id", e))?,
            at: r.at,
            seq: u64::try_from(r.seq).map_err(|e| StoreError::corrupt("telemetry seq", e))?,
            values: r.readings.0,
            received_at: r.received_at,
        })
    }
}

impl Store {
    /// Stores a batch of readings in one transaction and returns how many were new (duplicates
    /// of stored readings are skipped). Either the whole batch is stored or nothing is.
    pub async fn insert_telemetry_batch(&self, batch: &[TelemetryRecord]) -> Result<u64> {
        if batch.is_empty() {
            return Ok(0);
        }
        let mut seqs = Vec::with_capacity(batch.len());
        for r in batch {
            seqs.push(i64::try_from(r.seq).map_err(|_| {
                athanor_core::ValidationError::new("seq", "must be at most 2^63 - 1")
            })?);
        }
        let inserted = dispatch!(self, write, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let mut inserted = 0u64;
            for (rows, seqs) in batch
                .chunks(ROWS_PER_STATEMENT)
                .zip(seqs.chunks(ROWS_PER_STATEMENT))
            {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO telemetry (instrument_id, at, seq, readings, received_at) ",
                );
                q.push_values(rows.iter().zip(seqs), |mut b, (r, seq)| {
                    b.push_bind(r.instrument_id.as_str())
                        .push_bind(r.at)
                        .push_bind(*seq)
                        .push_bind(Json(&r.values))
                        .push_bind(r.received_at);
                });
                q.push(" ON CONFLICT DO NOTHING");
                inserted += q.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
            inserted
        });
        Ok(inserted)
    }

    /// Readings of one instrument with `from <= at < to`, oldest first, at most `limit`.
    pub async fn telemetry_range(
        &self,
        instrument_id: &InstrumentId,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TelemetryRecord>> {
        let sql = "SELECT instrument_id, at, seq, readings, received_at FROM telemetry \
                   WHERE instrument_id = $1 AND at >= $2 AND at < $3 ORDER BY at, seq LIMIT $4";
        let rows: Vec<TelemetryRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as(sql)
                .bind(instrument_id.as_str())
                .bind(from)
                .bind(to)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// How many readings of one instrument are stored (all of them when `instrument_id` is None).
    pub async fn telemetry_count(&self, instrument_id: Option<&InstrumentId>) -> Result<u64> {
        let n: i64 = dispatch!(self, read, |pool, _lock| {
            match instrument_id {
                Some(id) => {
                    sqlx::query_scalar("SELECT COUNT(*) FROM telemetry WHERE instrument_id = $1")
                        .bind(id.as_str())
                        .fetch_one(pool)
                        .await?
                }
                None => {
                    sqlx::query_scalar("SELECT COUNT(*) FROM telemetry")
                        .fetch_one(pool)
                        .await?
                }
            }
        });
        u64::try_from(n).map_err(|e| StoreError::corrupt("telemetry count", e))
    }
}
