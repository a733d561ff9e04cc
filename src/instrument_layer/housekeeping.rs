//! Periodic upkeep of instrument data: telemetry older than the configured age is downsampled.

use std::time::Duration;

use chrono::{TimeDelta, Utc};
use tokio_util::sync::CancellationToken;

use athanor_store::Store;

use crate::config::TelemetryConfig;

/// Downsamples telemetry at start and then every `downsample_every_secs`, until shutdown.
pub async fn downsample_periodically(
    store: Store,
    config: TelemetryConfig,
    shutdown: CancellationToken,
) {
    let keep =
        TimeDelta::hours(i64::try_from(config.keep_raw_hours).unwrap_or(i64::MAX / 3_600_000_000));
    let bucket = TimeDelta::seconds(
        i64::try_from(config.downsample_bucket_secs).unwrap_or(i64::MAX / 1_000_000),
    );
    let mut ticks = tokio::time::interval(Duration::from_secs(config.downsample_every_secs));
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticks.tick() => {}
        }
        let before = Utc::now()
            .checked_sub_signed(keep)
            .unwrap_or(chrono::DateTime::<Utc>::MIN_UTC);
        match store.downsample_telemetry(before, bucket).await {
            Ok(s) if s.rows_merged > 0 => tracing::info!(
                rows = s.rows_merged,
                buckets = s.buckets_written,
                %before,
                "telemetry downsampled"
            ),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "telemetry downsampling failed; will try again"),
        }
    }
}
