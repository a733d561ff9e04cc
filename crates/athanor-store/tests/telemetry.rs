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
    TelemetryRecord::reading(
        id.clone(),
        // Sub-second instants of varying precision: the range query must still order them.
        t0() + TimeDelta::microseconds(i64::try_from(seq).unwrap() * 250_001),
        seq,
        json!({"temperature_c": 600.0 + seq as f64, "heater": seq.is_multiple_of(2)}),
        Utc::now(),
    )
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

    let newest = store.latest_telemetry(&a).await.unwrap().unwrap();
    assert_eq!(newest.seq, 2500, "the newest by time, the one added last");
    assert!(store
        .latest_telemetry(&InstrumentId::parse("nothing").unwrap())
        .await
        .unwrap()
        .is_none());

    // A reading that cannot be stored fails the whole batch: nothing of it is written.
    let mut bad = vec![reading(&a, 5000)];
    bad.push(TelemetryRecord {
        seq: u64::MAX,
        ..reading(&a, 5001)
    });
    assert!(store.insert_telemetry_batch(&bad).await.is_err());
    assert_eq!(store.telemetry_count(Some(&a)).await.unwrap(), 2501);
}

/// Readings of `id` every `step_ms` from `start`, with temperature = 100 + seq.
fn series(id: &InstrumentId, start: DateTime<Utc>, n: u64, step_ms: i64) -> Vec<TelemetryRecord> {
    (0..n)
        .map(|seq| {
            TelemetryRecord::reading(
                id.clone(),
                start + TimeDelta::milliseconds(step_ms * i64::try_from(seq).unwrap()),
                seq,
                json!({"temperature_c": 100.0 + seq as f64, "mode": format!("m{seq}")}),
                Utc::now(),
            )
        })
        .collect()
}

async fn downsampling(store: Store) {
    let minute = TimeDelta::minutes(1);
    let noon = t0() - TimeDelta::milliseconds(250);
    let a = InstrumentId::parse("furnace-1").unwrap();
    // 10 readings a second for 5 minutes, starting 0.25 s after noon.
    let raw = series(&a, t0(), 3000, 100);
    store.insert_telemetry_batch(&raw).await.unwrap();
    // 25,000 readings in one minute: more than one downsampling read.
    let c = InstrumentId::parse("furnace-2").unwrap();
    let dense = series(&c, noon, 25_000, 2);
    store.insert_telemetry_batch(&dense).await.unwrap();

    let cutoff = noon + TimeDelta::seconds(3 * 60 + 30);
    let stats = store.downsample_telemetry(cutoff, minute).await.unwrap();
    // Whole minutes before the cut-off: 12:00, 12:01, 12:02 for furnace-1, 12:00 for furnace-2.
    // The dense minute takes two reads: 20,000 rows become one, which then merges with the
    // other 5,000 (so it is counted twice).
    let expected_merged = raw.iter().filter(|r| r.at < noon + minute * 3).count() as u64 + 25_001;
    assert_eq!(stats.rows_merged, expected_merged);
    assert_eq!(stats.buckets_written, 3 + 2);

    let got = store
        .telemetry_range(&a, noon, noon + TimeDelta::hours(1), 10_000)
        .await
        .unwrap();
    for (i, row) in got.iter().take(3).enumerate() {
        let bucket_start = noon + minute * i32::try_from(i).unwrap();
        let members: Vec<&TelemetryRecord> = raw
            .iter()
            .filter(|r| r.at >= bucket_start && r.at < bucket_start + minute)
            .collect();
        let mean = members
            .iter()
            .map(|r| r.values["temperature_c"].as_f64().unwrap())
            .sum::<f64>()
            / members.len() as f64;
        assert_eq!(row.at, bucket_start);
        assert_eq!(row.samples, members.len() as u64);
        assert!((row.values["temperature_c"].as_f64().unwrap() - mean).abs() < 1e-9);
        assert_eq!(
            row.values["mode"],
            members.last().unwrap().values["mode"],
            "text keeps the latest"
        );
    }
    let untouched = raw.iter().filter(|r| r.at >= noon + minute * 3).count();
    assert_eq!(
        got.len(),
        3 + untouched,
        "readings after the last whole minute stay as they came"
    );
    assert!(got[3..].iter().all(|r| r.samples == 1));

    let dense_rows = store
        .telemetry_range(&c, noon, noon + minute, 10)
        .await
        .unwrap();
    assert_eq!(dense_rows.len(), 1);
    assert_eq!(dense_rows[0].samples, 25_000);
    // mean of 100 + seq over seq = 0..24999
    assert!(
        (dense_rows[0].values["temperature_c"].as_f64().unwrap() - (100.0 + 12_499.5)).abs() < 1e-6
    );

    // Again: nothing new to merge. Then a late reading for an old minute joins its bucket's mean.
    assert_eq!(
        store.downsample_telemetry(cutoff, minute).await.unwrap(),
        Default::default()
    );
    let late = TelemetryRecord::reading(
        a.clone(),
        noon + TimeDelta::seconds(30),
        99_999,
        json!({"temperature_c": 10_000.0}),
        Utc::now(),
    );
    store
        .insert_telemetry_batch(std::slice::from_ref(&late))
        .await
        .unwrap();
    let before = got[0].clone();
    store.downsample_telemetry(cutoff, minute).await.unwrap();
    let after = store
        .telemetry_range(&a, noon, noon + minute, 10)
        .await
        .unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].samples, before.samples + 1);
    let expected = (before.values["temperature_c"].as_f64().unwrap() * before.samples as f64
        + 10_000.0)
        / (before.samples + 1) as f64;
    assert!((after[0].values["temperature_c"].as_f64().unwrap() - expected).abs() < 1e-6);
}

#[tokio::test]
async fn sqlite_telemetry() {
    let db = TestDb::new("sqlite").await.unwrap();
    batches_duplicates_and_ranges(db.store.clone()).await;
    db.cleanup().await;
}

#[tokio::test]
async fn sqlite_downsampling() {
    let db = TestDb::new("sqlite").await.unwrap();
    downsampling(db.store.clone()).await;
    db.cleanup().await;
}

/// A fresh PostgreSQL database, or None when none is configured (a failure when required).
async fn postgres() -> Option<TestDb> {
    if std::env::var(POSTGRES_ENV).map_or(true, |u| u.is_empty()) {
        assert!(
            std::env::var("ATHANOR_REQUIRE_POSTGRES").is_err(),
            "ATHANOR_REQUIRE_POSTGRES is set but {POSTGRES_ENV} is not"
        );
        eprintln!("skipped: {POSTGRES_ENV} is not set");
        return None;
    }
    Some(TestDb::new("postgres").await.unwrap())
}

#[tokio::test]
async fn postgres_telemetry() {
    if let Some(db) = postgres().await {
        batches_duplicates_and_ranges(db.store.clone()).await;
        db.cleanup().await;
    }
}

#[tokio::test]
async fn postgres_downsampling() {
    if let Some(db) = postgres().await {
        downsampling(db.store.clone()).await;
        db.cleanup().await;
    }
}
