-- Instrument telemetry: one row per reading message, written in batches by the MQTT ingest.
-- (instrument_id, at, seq) is the message's identity, so a duplicate delivery (MQTT QoS 1 is
-- "at least once") is dropped by the insert instead of stored twice. No foreign key to
-- instruments: telemetry keeps arriving while an instrument is being registered or removed.
CREATE TABLE telemetry (
    instrument_id TEXT NOT NULL,
    at            TIMESTAMPTZ NOT NULL,
    seq           BIGINT NOT NULL,
    readings      JSONB NOT NULL,
    received_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (instrument_id, at, seq)
);
