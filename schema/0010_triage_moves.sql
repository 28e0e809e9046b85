-- Messages whose stored email events changed in place since the last triage refresh: a later
-- move (ZAP, an admin, the user) re-read inside the overlap updates the row but keeps its
-- rowid, which the refresh's "new since" test (`rowid > triage_state.event_rowid`) cannot see.
-- Updates are rare next to inserts, so a trigger on them costs the ingest nothing; the refresh
-- (src/triage.rs) rescores the alerts of each message listed here and empties the list.
CREATE TABLE triage_moved (
    tenant             TEXT NOT NULL,
    network_message_id TEXT NOT NULL,
    PRIMARY KEY (tenant, network_message_id)
) WITHOUT ROWID;

CREATE TRIGGER email_events_triage_moved AFTER UPDATE ON email_events
WHEN old.latest_delivery_location IS NOT new.latest_delivery_location
  OR old.delivery_location IS NOT new.delivery_location
  OR old.threat_types IS NOT new.threat_types
BEGIN
    INSERT OR IGNORE INTO triage_moved (tenant, network_message_id)
    VALUES (new.tenant, new.network_message_id);
END;
