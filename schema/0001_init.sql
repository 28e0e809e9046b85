-- mailtrail store, schema version 1: raw Graph records with typed columns, alert history,
-- checkpoints, gaps and sync runs. Raw JSON is kept verbatim: it is the source of truth.
-- Times: *_ns are epoch nanoseconds (Graph has 100 ns precision), *_ms epoch milliseconds.

-- One row per alert: its current (newest) version.
CREATE TABLE alerts (
    tenant           TEXT    NOT NULL,
    id               TEXT    NOT NULL,
    created_ms       INTEGER NOT NULL,
    last_update_ns   INTEGER NOT NULL,
    last_update      TEXT    NOT NULL,   -- as Graph wrote it
    status           TEXT,
    severity         TEXT,
    classification   TEXT,
    determination    TEXT,
    title            TEXT,
    category         TEXT,
    service_source   TEXT,
    detection_source TEXT,
    incident_id      TEXT,
    assigned_to      TEXT,
    resolved_ms      INTEGER,
    versions         INTEGER NOT NULL DEFAULT 1,
    first_stored_ms  INTEGER NOT NULL,
    updated_ms       INTEGER NOT NULL,
    raw              TEXT    NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE INDEX alerts_created ON alerts (created_ms);
CREATE INDEX alerts_last_update ON alerts (tenant, last_update_ns);

-- Every distinct version of every alert ever seen.
CREATE TABLE alert_versions (
    tenant         TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    last_update_ns INTEGER NOT NULL,
    last_update    TEXT    NOT NULL,
    status         TEXT,
    stored_ms      INTEGER NOT NULL,
    raw            TEXT    NOT NULL,
    PRIMARY KEY (tenant, id, last_update_ns)
);

-- The evidence of each alert's current version; replaced (not merged) on every update.
CREATE TABLE alert_evidence (
    tenant             TEXT    NOT NULL,
    alert_id           TEXT    NOT NULL,
    position           INTEGER NOT NULL,
    odata_type         TEXT    NOT NULL,
    verdict            TEXT,
    remediation_status TEXT,
    network_message_id TEXT,
    recipient          TEXT,
    sender             TEXT,
    subject            TEXT,
    delivery_action    TEXT,
    delivery_location  TEXT,
    url                TEXT,
    ip                 TEXT,
    account            TEXT,
    file_name          TEXT,
    file_sha256        TEXT,
    raw                TEXT    NOT NULL,
    PRIMARY KEY (tenant, alert_id, position)
);
CREATE INDEX alert_evidence_message ON alert_evidence (network_message_id);

-- One row per message per recipient (EmailEvents).
CREATE TABLE email_events (
    rowid               INTEGER PRIMARY KEY,
    tenant              TEXT    NOT NULL,
    network_message_id  TEXT    NOT NULL,
    recipient           TEXT    NOT NULL,
    timestamp_ms        INTEGER NOT NULL,
    timestamp           TEXT    NOT NULL,   -- as Graph wrote it
    direction           TEXT,
    sender_from         TEXT,
    sender_mail_from    TEXT,
    sender_display_name TEXT,
    sender_from_domain  TEXT,
    sender_ip           TEXT,
    subject             TEXT,
    delivery_action     TEXT,
    delivery_location   TEXT,
    latest_delivery_location TEXT,
    threat_types        TEXT,
    internet_message_id TEXT,
    report_id           TEXT,
    stored_ms           INTEGER NOT NULL,
    raw                 TEXT    NOT NULL,
    UNIQUE (tenant, network_message_id, recipient)
);
CREATE INDEX email_events_time ON email_events (timestamp_ms);

-- Where each tenant × stream resumes. Written in the same transaction as the rows it covers.
CREATE TABLE checkpoints (
    tenant     TEXT    NOT NULL,
    stream     TEXT    NOT NULL,
    cursor     TEXT    NOT NULL,   -- RFC 3339 with 7 fractional digits
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, stream)
);

-- Activity windows that kept failing ("poison"), retried on later runs until they succeed.
CREATE TABLE gaps (
    tenant         TEXT    NOT NULL,
    stream         TEXT    NOT NULL,
    window_from    TEXT    NOT NULL,
    window_to      TEXT    NOT NULL,
    attempts       INTEGER NOT NULL,
    first_failed_ms INTEGER NOT NULL,
    last_failed_ms INTEGER NOT NULL,
    last_error     TEXT    NOT NULL,
    PRIMARY KEY (tenant, stream, window_from, window_to)
);

-- One row per tenant × stream × pass.
CREATE TABLE sync_runs (
    id               INTEGER PRIMARY KEY,
    tenant           TEXT    NOT NULL,
    stream           TEXT    NOT NULL,
    started_ms       INTEGER NOT NULL,
    ended_ms         INTEGER,
    outcome          TEXT    NOT NULL,   -- running | ok | partial | failed | interrupted
    pages            INTEGER NOT NULL DEFAULT 0,
    rows_new         INTEGER NOT NULL DEFAULT 0,
    rows_updated     INTEGER NOT NULL DEFAULT 0,
    rows_unchanged   INTEGER NOT NULL DEFAULT 0,
    requests         INTEGER NOT NULL DEFAULT 0,
    retries          INTEGER NOT NULL DEFAULT 0,
    throttled        INTEGER NOT NULL DEFAULT 0,
    throttle_wait_ms INTEGER NOT NULL DEFAULT 0,
    token_refreshes  INTEGER NOT NULL DEFAULT 0,
    gaps_opened      INTEGER NOT NULL DEFAULT 0,
    gaps_closed      INTEGER NOT NULL DEFAULT 0,
    error_kind       TEXT,
    error_message    TEXT,
    cursor_before    TEXT,
    cursor_after     TEXT
);
CREATE INDEX sync_runs_stream ON sync_runs (tenant, stream, started_ms);
