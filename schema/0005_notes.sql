-- Analyst annotations: a bookmark and a note on a threat or a message, written from the
-- dashboard or `mailtrail notes`. Analyst work, not Graph data: keyed by what was marked and
-- independent of the data tables (no foreign key, no cascade), so a re-sync that replaces an
-- alert's row and evidence, or a prune that deletes old data, never removes them.

CREATE TABLE notes (
    tenant      TEXT    NOT NULL,
    kind        TEXT    NOT NULL CHECK (kind IN ('threat', 'message')),
    target      TEXT    NOT NULL,              -- the alert id, or the NetworkMessageId
    recipient   TEXT    NOT NULL DEFAULT '',   -- messages: '' = every recipient; threats: ''
    bookmarked  INTEGER NOT NULL DEFAULT 0,
    note        TEXT    NOT NULL DEFAULT '',
    author      TEXT,                          -- the OS user who wrote it, when known
    created_ms  INTEGER NOT NULL,
    updated_ms  INTEGER NOT NULL,
    PRIMARY KEY (tenant, kind, target, recipient)
);
