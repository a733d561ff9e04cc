-- Telemetry older than the configured age is downsampled: the readings of one time bucket
-- become one row whose numbers are the mean of theirs. `samples` says how many readings a row
-- stands for (1 for a reading as it arrived).
ALTER TABLE telemetry ADD COLUMN samples BIGINT NOT NULL DEFAULT 1;
