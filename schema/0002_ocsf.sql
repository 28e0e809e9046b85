-- OCSF 1.8.0 events, materialized at ingest in the same transaction as their source rows.
-- Derived data: each row carries the mapping version that produced it; `mailtrail remap`
-- rebuilds rows whose version is older than the running build's.

-- One Detection Finding per stored alert version (Create, Update…, Close).
CREATE TABLE ocsf_findings (
    tenant          TEXT    NOT NULL,
    alert_id        TEXT    NOT NULL,
    last_update_ns  INTEGER NOT NULL,
    activity_id     INTEGER NOT NULL,
    time_ms         INTEGER NOT NULL,   -- finding creation time (createdDateTime)
    mapping_version INTEGER NOT NULL,
    event           TEXT    NOT NULL,
    PRIMARY KEY (tenant, alert_id, last_update_ns)
);
CREATE INDEX ocsf_findings_time ON ocsf_findings (time_ms);

-- One Email Activity per email_events row.
CREATE TABLE ocsf_email (
    event_rowid     INTEGER PRIMARY KEY,   -- email_events.rowid
    mapping_version INTEGER NOT NULL,
    event           TEXT    NOT NULL
);

-- The Entra tenant id behind each configured tenant name (metadata.tenant_uid).
CREATE TABLE tenants (
    name      TEXT PRIMARY KEY,
    tenant_id TEXT NOT NULL
);
