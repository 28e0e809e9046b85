-- Retention (`mailtrail prune`, and `run` once a day): one row per prune, so `run` knows when
-- the last one happened and an operator can see what each removed. Only a new table.
CREATE TABLE IF NOT EXISTS prune_runs (
    id              INTEGER PRIMARY KEY,
    started_ms      INTEGER NOT NULL,
    ended_ms        INTEGER,
    cutoff_ms       INTEGER NOT NULL,   -- rows older than this were removed
    outcome         TEXT    NOT NULL,   -- running | ok | interrupted | failed
    rows_removed    INTEGER NOT NULL DEFAULT 0,
    bytes_reclaimed INTEGER NOT NULL DEFAULT 0,
    vacuum          TEXT,               -- incremental | full | skipped: why
    error_message   TEXT
);
