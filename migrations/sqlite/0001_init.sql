-- Athanor schema, SQLite flavour. Ids are UUIDs stored as 16-byte BLOBs (UUIDv7: they sort by
-- creation time); states are snake_case TEXT checked by the application's state machines;
-- structured values are JSON TEXT. The events table is append-only.

CREATE TABLE campaigns (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    spec        TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE hypotheses (
    id          BLOB PRIMARY KEY NOT NULL,
    campaign_id BLOB NOT NULL REFERENCES campaigns(id),
    statement   TEXT NOT NULL,
    claim       TEXT NOT NULL,
    prior       REAL NOT NULL,
    belief      REAL NOT NULL,
    state       TEXT NOT NULL,
    origin      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE INDEX hypotheses_campaign ON hypotheses(campaign_id, id);

CREATE TABLE samples (
    id            BLOB PRIMARY KEY NOT NULL,
    label         TEXT NOT NULL,
    campaign_id   BLOB REFERENCES campaigns(id),
    experiment_id BLOB,
    location      TEXT,
    notes         TEXT NOT NULL,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX samples_campaign ON samples(campaign_id, id);

CREATE TABLE experiments (
    id            BLOB PRIMARY KEY NOT NULL,
    campaign_id   BLOB NOT NULL REFERENCES campaigns(id),
    hypothesis_id BLOB REFERENCES hypotheses(id),
    sample_id     BLOB REFERENCES samples(id),
    parameters    TEXT NOT NULL,
    rationale     TEXT NOT NULL,
    predicted     TEXT,
    state         TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX experiments_campaign ON experiments(campaign_id, id);

CREATE TABLE instruments (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    class       TEXT NOT NULL,
    transport   TEXT NOT NULL,
    limits      TEXT NOT NULL,
    state       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);

CREATE TABLE steps (
    id            BLOB PRIMARY KEY NOT NULL,
    experiment_id BLOB NOT NULL REFERENCES experiments(id),
    seq           INTEGER NOT NULL,
    kind          TEXT NOT NULL,
    instrument_id TEXT REFERENCES instruments(id),
    parameters    TEXT NOT NULL,
    state         TEXT NOT NULL,
    error         TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (experiment_id, seq)
);

CREATE TABLE commands (
    id            BLOB PRIMARY KEY NOT NULL,
    step_id       BLOB REFERENCES steps(id),
    instrument_id TEXT NOT NULL REFERENCES instruments(id),
    action        TEXT NOT NULL,
    parameters    TEXT NOT NULL,
    deadline      TEXT,
    state         TEXT NOT NULL,
    result        TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX commands_instrument ON commands(instrument_id, state);

CREATE TABLE measurements (
    id            BLOB PRIMARY KEY NOT NULL,
    experiment_id BLOB REFERENCES experiments(id),
    sample_id     BLOB REFERENCES samples(id),
    instrument_id TEXT REFERENCES instruments(id),
    kind          TEXT NOT NULL,
    metadata      TEXT NOT NULL,
    data          TEXT NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX measurements_experiment ON measurements(experiment_id, id);

CREATE TABLE analyses (
    id             BLOB PRIMARY KEY NOT NULL,
    measurement_id BLOB NOT NULL REFERENCES measurements(id),
    experiment_id  BLOB REFERENCES experiments(id),
    kind           TEXT NOT NULL,
    result         TEXT NOT NULL,
    confidence     REAL,
    created_at     TEXT NOT NULL
);
CREATE INDEX analyses_measurement ON analyses(measurement_id, id);

CREATE TABLE events (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    at          TEXT NOT NULL,
    campaign_id BLOB,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    payload     TEXT NOT NULL
);
CREATE INDEX events_campaign ON events(campaign_id, seq);

-- The event log is append-only: the database itself refuses edits.
CREATE TRIGGER events_no_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;
CREATE TRIGGER events_no_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are append-only'); END;

CREATE TABLE tokens (
    id          BLOB PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL,
    secret_hash BLOB NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
