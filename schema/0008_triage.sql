-- Triage (src/triage.rs, src/campaigns.rs): a priority score per alert with the reasons behind
-- it, and a compact summary of each suspicious message that campaigns are grouped from. Both
-- are derived data, rebuilt by `triage::refresh` after each sync pass; nothing here is a source
-- of truth.

-- The score of each alert's current version and its reasons: a JSON array of
-- {"points": n, "reason": "…"}, written together with alerts.triage_score by the same function.
CREATE TABLE alert_triage (
    tenant      TEXT    NOT NULL,
    alert_id    TEXT    NOT NULL,
    score       INTEGER NOT NULL,
    reasons     TEXT    NOT NULL,
    computed_ms INTEGER NOT NULL,
    PRIMARY KEY (tenant, alert_id)
);

-- A copy of the score on the alert, so the threat list sorts by it through an index (NULL: not
-- scored yet). The sort expression must match src/store/views.rs exactly.
ALTER TABLE alerts ADD COLUMN triage_score INTEGER;
CREATE INDEX alerts_tui_score ON alerts (coalesce(triage_score, -1), created_ms);
-- What a refresh re-scores: alerts updated since the last one.
CREATE INDEX alerts_updated ON alerts (updated_ms);

-- One row per message that carries a threat type or is named by alert evidence (clean mail is
-- left out: campaigns are about threats). Recipient and alert lists are newline-separated.
CREATE TABLE triage_messages (
    tenant             TEXT    NOT NULL,
    network_message_id TEXT    NOT NULL,
    first_ms           INTEGER NOT NULL,
    sender_domain      TEXT,
    subject            TEXT,
    subject_key        TEXT,
    url_domain         TEXT,
    recipients         TEXT    NOT NULL,
    delivered          TEXT    NOT NULL,
    alert_ids          TEXT    NOT NULL,
    threat             INTEGER NOT NULL,
    PRIMARY KEY (tenant, network_message_id)
);
CREATE INDEX triage_messages_time ON triage_messages (first_ms);

-- The dashboard's campaigns (the 7 days up to the newest suspicious message, 24-hour window),
-- most delivered first, ready to show.
CREATE TABLE triage_campaigns (
    rank          INTEGER PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    key_type      TEXT    NOT NULL,   -- sender_domain | url_domain | subject
    key           TEXT    NOT NULL,
    first_seen_ms INTEGER NOT NULL,
    last_seen_ms  INTEGER NOT NULL,
    messages      INTEGER NOT NULL,
    recipients    INTEGER NOT NULL,
    delivered     INTEGER NOT NULL,
    alerts        INTEGER NOT NULL,
    top_subject   TEXT
);

-- Where the next incremental refresh starts: one row.
CREATE TABLE triage_state (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    refreshed_ms  INTEGER NOT NULL,   -- alerts updated at or after this are re-scored
    event_rowid   INTEGER NOT NULL,   -- email events above this rowid are new
    alerts        INTEGER NOT NULL,   -- alerts scored by that refresh
    duration_ms   INTEGER NOT NULL
);
