//! Telemetry ingest: readings from the MQTT loop go through a bounded queue to one writer task
//! that stores them in batches, one transaction per batch (whatever has queued up while the
//! previous batch was being written, up to a maximum). A full queue slows the MQTT loop down
//! (and with it the broker's delivery) instead of dropping readings.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use athanor_core::InstrumentId;
use athanor_store::{Store, TelemetryRecord};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::MqttError;

/// Batch and queue sizes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IngestConfig {
    /// Most readings written in one transaction.
    pub max_batch: usize,
    /// Readings that may wait in the queue.
    pub queue: usize,
    /// Attempts to write a batch before its readings are counted as lost.
    pub attempts: u32,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            max_batch: 4000,
            queue: 50_000,
            attempts: 5,
        }
    }
}

#[derive(Debug, Default)]
struct Counters {
    received: AtomicU64,
    stored: AtomicU64,
    duplicates: AtomicU64,
    lost: AtomicU64,
    batches: AtomicU64,
    seq_gaps: AtomicU64,
}

/// What the ingest has done so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestStats {
    /// Readings handed to the writer.
    pub received: u64,
    /// Readings stored (new rows).
    pub stored: u64,
    /// Readings already stored (a duplicate delivery).
    pub duplicates: u64,
    /// Readings that could not be stored after every attempt.
    pub lost: u64,
    pub batches: u64,
    /// Readings missing according to the controllers' `seq` counters.
    pub seq_gaps: u64,
}

/// The sending side, cloned into the MQTT loop.
#[derive(Debug, Clone)]
pub struct IngestSender {
    tx: mpsc::Sender<TelemetryRecord>,
}

impl IngestSender {
    /// Queues one reading, waiting while the queue is full.
    pub async fn send(&self, r: TelemetryRecord) -> Result<(), MqttError> {
        self.tx.send(r).await.map_err(|_| MqttError::Stopped)
    }
}

/// The running ingest.
#[derive(Debug)]
pub struct TelemetryIngest {
    tx: Option<mpsc::Sender<TelemetryRecord>>,
    counters: Arc<Counters>,
    task: JoinHandle<()>,
}

impl TelemetryIngest {
    pub fn spawn(store: Store, config: IngestConfig) -> Self {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(writer(store, config, rx, counters.clone()));
        Self {
            tx: Some(tx),
            counters,
            task,
        }
    }

    pub fn sender(&self) -> IngestSender {
        IngestSender {
            // `tx` is only taken by `close`, which consumes self.
            tx: self.tx.clone().unwrap_or_else(|| mpsc::channel(1).0),
        }
    }

    pub fn stats(&self) -> IngestStats {
        let c = &self.counters;
        IngestStats {
            received: c.received.load(Ordering::Relaxed),
            stored: c.stored.load(Ordering::Relaxed),
            duplicates: c.duplicates.load(Ordering::Relaxed),
            lost: c.lost.load(Ordering::Relaxed),
            batches: c.batches.load(Ordering::Relaxed),
            seq_gaps: c.seq_gaps.load(Ordering::Relaxed),
        }
    }

    /// Stops accepting readings, writes what is queued, and returns the final counts. Every
    /// [`IngestSender`] must have been dropped (the MQTT loop stopped) for this to return.
    pub async fn close(mut self) -> IngestStats {
        self.tx.take();
        let _ = (&mut self.task).await;
        self.stats()
    }
}

async fn writer(
    store: Store,
    config: IngestConfig,
    mut rx: mpsc::Receiver<TelemetryRecord>,
    c: Arc<Counters>,
) {
    let mut batch = Vec::with_capacity(config.max_batch);
    let mut last_seq: HashMap<InstrumentId, u64> = HashMap::new();
    loop {
        batch.clear();
        if rx.recv_many(&mut batch, config.max_batch.max(1)).await == 0 {
            return; // every sender dropped and the queue is empty
        }
        c.received.fetch_add(batch.len() as u64, Ordering::Relaxed);
        for r in &batch {
            let prev = last_seq.insert(r.instrument_id.clone(), r.seq);
            // A smaller seq is a controller restart (or a late duplicate), not a gap.
            if let Some(p) = prev {
                if r.seq > p + 1 {
                    c.seq_gaps.fetch_add(r.seq - p - 1, Ordering::Relaxed);
                }
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            match store.insert_telemetry_batch(&batch).await {
                Ok(new) => {
                    c.stored.fetch_add(new, Ordering::Relaxed);
                    c.duplicates
                        .fetch_add(batch.len() as u64 - new, Ordering::Relaxed);
                    c.batches.fetch_add(1, Ordering::Relaxed);
                    break;
                }
                Err(e) if attempt < config.attempts => {
                    tracing::warn!(error = %e, attempt, rows = batch.len(), "telemetry batch not stored; retrying");
                    tokio::time::sleep(Duration::from_millis(100 << attempt.min(6))).await;
                }
                Err(e) => {
                    tracing::error!(error = %e, rows = batch.len(), "telemetry batch lost");
                    c.lost.fetch_add(batch.len() as u64, Ordering::Relaxed);
                    break;
                }
            }
        }
    }
}
