//! Instrument telemetry: readings written in batches (one transaction per batch), read back by
//! time range, and downsampled beyond a configurable age.
//!
//! Telemetry is not a state change, so it writes no event: at tens of thousands of readings a
//! second the event log would drown. A reading's identity is `(instrument_id, at, seq)`; a
//! duplicate of a stored reading (MQTT QoS 1 delivers at least once) is dropped by the insert.

use chrono::{DateTime, TimeDelta, Utc};
use sqlx::types::Json;

use athanor_core::InstrumentId;

use crate::backend::dispatch;
use crate::downsample::{bucket_start, merge, Weighted};
use crate::error::{Result, StoreError};
use crate::Store;

/// Rows a downsampling pass reads at a time.
const DOWNSAMPLE_ROWS: i64 = 20_000;

/// Rows per INSERT statement: 6 bound values each keeps a statement well below both databases'
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
    /// When the daemon received it (the latest reading's, for a downsampled row).
    pub received_at: DateTime<Utc>,
    /// How many readings this row stands for: 1 as it arrived, more once downsampled (its values
    /// are then the readings' means, and `at` the start of its time bucket).
    pub samples: u64,
}

impl TelemetryRecord {
    /// A reading as it arrived from its controller.
    pub fn reading(
        instrument_id: InstrumentId,
        at: DateTime<Utc>,
        seq: u64,
        values: serde_json::Value,
        received_at: DateTime<Utc>,
    ) -> Self {
        Self {
            instrument_id,
            at,
            seq,
            values,
            received_at,
            samples: 1,
        }
    }
}

/// What a downsampling pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DownsampleStats {
    /// Rows replaced by their buckets' merged rows.
    pub rows_merged: u64,
    /// Merged rows written.
    pub buckets_written: u64,
}

#[derive(sqlx::FromRow)]
struct TelemetryRow {
    instrument_id: String,
    at: DateTime<Utc>,
    seq: i64,
    readings: Json<serde_json::Value>,
    received_at: DateTime<Utc>,
    samples: i64,
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
            samples: u64::try_from(r.samples)
                .map_err(|e| StoreError::corrupt("telemetry samples", e))?,
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
            seqs.push(to_i64(r.seq, "seq")?);
            to_i64(r.samples, "samples")?;
        }
        let inserted = dispatch!(self, write, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let mut inserted = 0u64;
            for (rows, seqs) in batch
                .chunks(ROWS_PER_STATEMENT)
                .zip(seqs.chunks(ROWS_PER_STATEMENT))
            {
                let mut q = sqlx::QueryBuilder::new(
                    "INSERT INTO telemetry (instrument_id, at, seq, readings, received_at, samples) ",
                );
                q.push_values(rows.iter().zip(seqs), |mut b, (r, seq)| {
                    b.push_bind(r.instrument_id.as_str())
                        .push_bind(r.at)
                        .push_bind(*seq)
                        .push_bind(Json(&r.values))
                        .push_bind(r.received_at)
                        .push_bind(i64::try_from(r.samples).unwrap_or(i64::MAX));
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
        self.telemetry_rows_from(instrument_id.as_str(), from, to, i64::from(limit))
            .await
    }

    /// The newest reading of one instrument, if any.
    pub async fn latest_telemetry(
        &self,
        instrument_id: &InstrumentId,
    ) -> Result<Option<TelemetryRecord>> {
        let sql = "SELECT instrument_id, at, seq, readings, received_at, samples FROM telemetry \
                   WHERE instrument_id = $1 ORDER BY at DESC, seq DESC LIMIT 1";
        let row: Option<TelemetryRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as(sql)
                .bind(instrument_id.as_str())
                .fetch_optional(pool)
                .await?
        });
        row.map(TryFrom::try_from).transpose()
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

    /// Downsamples every instrument's readings taken before `before`: the readings of each time
    /// bucket of width `width` (buckets counted from the Unix epoch; only whole buckets before
    /// `before`) become one row at the bucket's start, holding the readings' means
    /// ([`crate::downsample::merge`]) and how many readings it stands for. Run it again and it
    /// only merges what arrived since. A reading that arrives while a bucket is being merged is
    /// never lost: the pass sees the count change and leaves that bucket for the next run.
    pub async fn downsample_telemetry(
        &self,
        before: DateTime<Utc>,
        width: TimeDelta,
    ) -> Result<DownsampleStats> {
        if width <= TimeDelta::zero() {
            return Err(athanor_core::ValidationError::new("width", "must be positive").into());
        }
        let cutoff = bucket_start(before, width);
        let instruments: Vec<(String, DateTime<Utc>)> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as(
                "SELECT instrument_id, MIN(at) FROM telemetry WHERE at < $1 GROUP BY instrument_id",
            )
            .bind(cutoff)
            .fetch_all(pool)
            .await?
        });
        let mut stats = DownsampleStats::default();
        for (instrument, oldest) in instruments {
            let mut from = oldest;
            loop {
                let rows = self
                    .telemetry_rows_from(&instrument, from, cutoff, DOWNSAMPLE_ROWS)
                    .await?;
                let Some(last) = rows.last() else { break };
                let full = rows.len() as i64 == DOWNSAMPLE_ROWS;
                let last_bucket = bucket_start(last.at, width);
                let mut groups = group_by_bucket(&rows, width);
                if full && groups.len() > 1 {
                    // The last bucket may go on beyond what was read: leave it to the next read.
                    groups.pop();
                }
                for g in &groups {
                    if g.len() > 1 {
                        stats.rows_merged += g.len() as u64;
                        stats.buckets_written += 1;
                        self.replace_with_merged(g, width).await?;
                    }
                }
                if !full {
                    break;
                }
                // A bucket larger than one read was merged in part and is read again, now
                // starting with its merged row; otherwise go on from the first unfinished bucket.
                from = last_bucket;
            }
        }
        Ok(stats)
    }

    async fn telemetry_rows_from(
        &self,
        instrument: &str,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        limit: i64,
    ) -> Result<Vec<TelemetryRecord>> {
        let sql = "SELECT instrument_id, at, seq, readings, received_at, samples FROM telemetry \
                   WHERE instrument_id = $1 AND at >= $2 AND at < $3 ORDER BY at, seq LIMIT $4";
        let rows: Vec<TelemetryRow> = dispatch!(self, read, |pool, _lock| {
            sqlx::query_as(sql)
                .bind(instrument)
                .bind(from)
                .bind(to)
                .bind(limit)
                .fetch_all(pool)
                .await?
        });
        rows.into_iter().map(TryFrom::try_from).collect()
    }

    /// Replaces the rows of `group` (one bucket, oldest first) by their merged row, in one
    /// transaction that rolls back when the rows in the group's key range are not exactly those.
    async fn replace_with_merged(&self, group: &[TelemetryRecord], width: TimeDelta) -> Result<()> {
        let (Some(first), Some(last)) = (group.first(), group.last()) else {
            return Ok(());
        };
        let weighted: Vec<Weighted<'_>> = group
            .iter()
            .map(|r| Weighted {
                values: &r.values,
                samples: r.samples,
            })
            .collect();
        let merged = TelemetryRecord {
            instrument_id: first.instrument_id.clone(),
            at: bucket_start(first.at, width),
            seq: group.iter().map(|r| r.seq).min().unwrap_or(first.seq),
            values: merge(&weighted),
            received_at: group
                .iter()
                .map(|r| r.received_at)
                .max()
                .unwrap_or(first.received_at),
            samples: group.iter().map(|r| r.samples).sum(),
        };
        let (first_seq, last_seq) = (to_i64(first.seq, "seq")?, to_i64(last.seq, "seq")?);
        let expected = group.len() as u64;
        let delete = "DELETE FROM telemetry WHERE instrument_id = $1 AND at >= $2 AND at <= $3 \
                      AND NOT (at = $2 AND seq < $4) AND NOT (at = $3 AND seq > $5)";
        let insert =
            "INSERT INTO telemetry (instrument_id, at, seq, readings, received_at, samples) \
                      VALUES ($1, $2, $3, $4, $5, $6)";
        let done: bool = dispatch!(self, write, |pool, _lock| {
            let mut tx = pool.begin().await?;
            let deleted = sqlx::query(delete)
                .bind(first.instrument_id.as_str())
                .bind(first.at)
                .bind(last.at)
                .bind(first_seq)
                .bind(last_seq)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if deleted == expected {
                sqlx::query(insert)
                    .bind(merged.instrument_id.as_str())
                    .bind(merged.at)
                    .bind(to_i64(merged.seq, "seq")?)
                    .bind(Json(&merged.values))
                    .bind(merged.received_at)
                    .bind(to_i64(merged.samples, "samples")?)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                true
            } else {
                tx.rollback().await?;
                false
            }
        });
        if !done {
            tracing::debug!(instrument = %first.instrument_id, at = %merged.at, "telemetry arrived during downsampling; bucket left for the next pass");
        }
        Ok(())
    }
}

/// Splits rows (ordered by time) into runs of the same bucket.
fn group_by_bucket(rows: &[TelemetryRecord], width: TimeDelta) -> Vec<&[TelemetryRecord]> {
    let mut groups = Vec::new();
    let mut start = 0;
    for i in 1..=rows.len() {
        if i == rows.len() || bucket_start(rows[i].at, width) != bucket_start(rows[start].at, width)
        {
            groups.push(&rows[start..i]);
            start = i;
        }
    }
    groups
}

fn to_i64(v: u64, field: &str) -> Result<i64> {
    i64::try_from(v)
        .map_err(|_| athanor_core::ValidationError::new(field, "must be at most 2^63 - 1").into())
}
