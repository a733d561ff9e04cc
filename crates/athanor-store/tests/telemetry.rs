//! Telemetry storage on SQLite, and on PostgreSQL when ATHANOR_TEST_POSTGRES_URL is set: batches
//! are one transaction, duplicates are dropped, ranges come back in time order.
#![allow(clippy::unwrap_used)]

use athanor_core::InstrumentId;
use athanor_store::testing::{TestDb, POSTGRES_ENV};
use athanor_store::{Store, TelemetryRecord};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;

fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-11-25T12:00:00.250Z")
        .unwrap()
        .with_timezone(&Utc)
}

fn reading(id: &InstrumentId, seq: u64) -> TelemetryRecord {
    TelemetryRecord {
        instrument_id: id.clone(),
        // Sub-second instants of varying precision: the range query must still order them.
        at: t0() + TimeDelta::microseconds(i64::try_from(seq).unwrap() * 250_001),
        seq,
        values: json!({"temperature_c": 600.0 + seq as f64, "heater": seq.is_multiple_of(2)}),
        received_at: Utc::now(),
    }
}

async fn batches_duplicates_and_ranges(store: Store) {
    let a = InstrumentId::parse("furnace-1").unwrap();
    let b = InstrumentId::parse("xrd-a").unwrap();
    let batch: Vec<_> = (0..2500)
        .map(|s| reading(&a, s))
        .chain((0..10).map(|s| reading(&b, s)))
        .collect();
    assert_eq!(store.insert_telemetry_batch(&batch).await.unwrap(), 2510);
    // The same readings again (a QoS 1 redelivery) and one new one: only the new one is stored.
    let mut again = batch[..100].to_vec();
    again.push(reading(&a, 2500));
    assert_eq!(store.insert_telemetry_batch(&again).await.unwrap(), 1);
    assert_eq!(store.telemetry_count(Some(&a)).await.unwrap(), 2501);
    assert_eq!(store.telemetry_count(None).await.unwrap(), 2511);
    assert_eq!(store.insert_telemetry_batch(&[]).await.unwrap(), 0);

    let from = reading(&a, 10).at;
    let to = reading(&a, 20).at;
    let got = store.telemetry_range(&a, from, to, 100).await.unwrap();
    assert_eq!(
        got.iter().map(|r| r.seq).collect::<Vec<_>>(),
        (10..20).collect::<Vec<_>>()
    );
    assert_eq!(
        got[0].values,
        json!({"temperature_c": 610.0, "heater": true})
    );
    assert_eq!(got[0].at, reading(&a, 10).at);
    assert_eq!(
        store.telemetry_range(&a, from, to, 3).await.unwrap().len(),
        3
    );
    assert!(
        store
            .telemetry_range(&b, from, to, 100)
            .await
            .unwrap()
            .len()
            < 10
    );

    // A reading that cannot be stored fails the whole batch: nothing of it is written.
    let mut bad = vec![reading(&a, 5000)];
    bad.push(TelemetryRecord {
        seq: u64::MAX,
        ..reading(&a, 5001)
    });
    assert!(store.insert_telemetry_batch(&bad).await.is_err());
    assert_eq!(store.telemetry_count(Some(&a)).await.unwrap(), 2501);
}

#[tokio::test]
async fn sqlite_telemetry() {
    let db = TestDb::new("sqlite").await.unwrap();
    batches_duplicates_and_ranges(db.store.clone()).await;
    db.cleanup().await;
}

#[tokio::test]
async fn postgres_telemetry() {
    if std::env::var(POSTGRES_ENV).map_or(true, |u| u.is_empty()) {
        assert!(
            std::env::var("ATHANOR_REQUIRE_POSTGRES").is_err(),
            "ATHANOR_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not"
        );
        eprintln!("skipped: {POSTGRES_ENV} is not set");
        return;
    }
    let db = TestDb::new("postgres").await.unwrap();
    batches_duplicates_and_ranges(db.store.clone()).await;
    db.cleanup().await;
}
