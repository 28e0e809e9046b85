-- Indexes for the dashboard and `search` (src/store/views.rs, src/search.rs): pivots and
-- filters answer through an index, lists page in index order, the overview reads covering
-- indexes. Only indexes: no table changes. Columns compared case-insensitively are indexed
-- with NOCASE so `= ? COLLATE NOCASE` can use them.

-- Pivots on email events, each in time order (keyset pages by timestamp_ms, rowid).
CREATE INDEX IF NOT EXISTS email_events_sender ON email_events (sender_from COLLATE NOCASE, timestamp_ms);
CREATE INDEX IF NOT EXISTS email_events_recipient ON email_events (recipient COLLATE NOCASE, timestamp_ms);
CREATE INDEX IF NOT EXISTS email_events_domain ON email_events (sender_from_domain COLLATE NOCASE, timestamp_ms);
CREATE INDEX IF NOT EXISTS email_events_message ON email_events (network_message_id);
-- The overview's threat-mail tiles: a covering index over threat mail only.
CREATE INDEX IF NOT EXISTS email_events_threats ON email_events (timestamp_ms, threat_types, recipient, sender_from_domain)
    WHERE threat_types IS NOT NULL;

-- Threat filters that go through the evidence.
CREATE INDEX IF NOT EXISTS alert_evidence_sender ON alert_evidence (sender COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS alert_evidence_recipient ON alert_evidence (recipient COLLATE NOCASE);
CREATE INDEX IF NOT EXISTS alert_evidence_sender_domain ON alert_evidence (substr(sender, instr(sender, '@') + 1) COLLATE NOCASE)
    WHERE sender IS NOT NULL;
CREATE INDEX IF NOT EXISTS alert_evidence_url ON alert_evidence (url COLLATE NOCASE);
-- The overview's "delivered to inbox" call-out: inbox evidence only, covering what it reads.
CREATE INDEX IF NOT EXISTS alert_evidence_inbox ON alert_evidence (tenant, alert_id, delivery_location, remediation_status)
    WHERE delivery_location LIKE 'inbox%';

-- Threat list sort orders (the expressions must match src/store/views.rs exactly) and the
-- overview's severity × status counts.
CREATE INDEX IF NOT EXISTS alerts_tui_severity ON alerts ((CASE severity WHEN 'high' THEN 3 WHEN 'medium' THEN 2 WHEN 'low' THEN 1 WHEN 'informational' THEN 0 ELSE -1 END), created_ms);
CREATE INDEX IF NOT EXISTS alerts_tui_status ON alerts (coalesce(status, ''), created_ms);
CREATE INDEX IF NOT EXISTS alerts_tui_title ON alerts (coalesce(title, ''), created_ms);
CREATE INDEX IF NOT EXISTS alerts_tui_overview ON alerts (created_ms, severity, status, tenant, id);
