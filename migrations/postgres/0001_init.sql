-- Athanor schema, PostgreSQL flavour. Ids are native UUIDs (UUIDv7: they sort by creation time);
-- states are snake_case TEXT checked by the application's state machines; structured values are
-- JSONB. The events table is append-only.

CREATE TABLE campaigns (
    id          UUID PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    spec        JSONB NOT NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE hypotheses (
    id          UUID PRIMARY KEY NOT NULL,
    campaign_id UUID NOT NULL REFERENCES campaigns(id),
    statement   TEXT NOT NULL,
    claim       JSONB NOT NULL,
    prior       DOUBLE PRECISION NOT NULL,
    belief      DOUBLE PRECISION NOT NULL,
    state       TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX hypotheses_campaign ON hypotheses(campaign_id, id);

CREATE TABLE samples (
    id            UUID PRIMARY KEY NOT NULL,
    label         TEXT NOT NULL,
    campaign_id   UUID REFERENCES campaigns(id),
    experiment_id UUID,
    location      TEXT,
    notes         TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX samples_campaign ON samples(campaign_id, id);

CREATE TABLE experiments (
    id            UUID PRIMARY KEY NOT NULL,
    campaign_id   UUID NOT NULL REFERENCES campaigns(id),
    hypothesis_id UUID REFERENCES hypotheses(id),
    sample_id     UUID REFERENCES samples(id),
    parameters    JSONB NOT NULL,
    rationale     TEXT NOT NULL,
    predicted     JSONB,
    state         TEXT NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX experiments_campaign ON experiments(campaign_id, id);

CREATE TABLE instruments (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    class       TEXT NOT NULL,
    transport   JSONB NOT NULL,
    limits      JSONB NOT NULL,
    state       TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

CREATE TABLE steps (
    id            UUID PRIMARY KEY NOT NULL,
    experiment_id UUID NOT NULL REFERENCES experiments(id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    instrument_id TEXT REFERENCES instruments(id),
    parameters    JSONB NOT NULL,
    state         TEXT NOT NULL,
    error         TEXT,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL,
    UNIQUE (experiment_id, seq)
);

CREATE TABLE commands (
    id            UUID PRIMARY KEY NOT NULL,
    step_id       UUID REFERENCES steps(id),
    instrument_id TEXT NOT NULL REFERENCES instruments(id),
    action        TEXT NOT NULL,
    parameters    JSONB NOT NULL,
    deadline      TIMESTAMPTZ,
    state         TEXT NOT NULL,
    result        JSONB,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX commands_instrument ON commands(instrument_id, state);

CREATE TABLE measurements (
    id            UUID PRIMARY KEY NOT NULL,
    experiment_id UUID REFERENCES experiments(id),
    sample_id     UUID REFERENCES samples(id),
    instrument_id TEXT REFERENCES instruments(id),
    kind          TEXT NOT NULL,
    metadata      JSONB NOT NULL,
    data          JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL
);
CREATE INDEX measurements_experiment ON measurements(experiment_id, id);

CREATE TABLE analyses (
    id             UUID PRIMARY KEY NOT NULL,
    measurement_id UUID NOT NULL REFERENCES measurements(id),
    experiment_id  UUID REFERENCES experiments(id),
    kind           TEXT NOT NULL,
    result         JSONB NOT NULL,
    confidence     DOUBLE PRECISION,
    created_at     TIMESTAMPTZ NOT NULL
);
CREATE INDEX analyses_measurement ON analyses(measurement_id, id);

CREATE TABLE events (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          TIMESTAMPTZ NOT NULL,
    campaign_id UUID,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    payload     JSONB NOT NULL
);
CREATE INDEX events_campaign ON events(campaign_id, seq);

-- The event log is append-only: the database itself refuses edits.
CREATE FUNCTION athanor_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN RAISE EXCEPTION 'events are append-only'; END $$;
CREATE TRIGGER events_no_update BEFORE UPDATE OR DELETE ON events
FOR EACH ROW EXECUTE FUNCTION athanor_events_append_only();

CREATE TABLE tokens (
    id          UUID PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    secret_hash BYTEA NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
