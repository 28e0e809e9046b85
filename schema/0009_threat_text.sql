-- One full-text document per threat: its title, its description and the text of all its
-- evidence (subjects, senders, recipients, display names, URLs). Before, a word reached a
-- threat through the evidence index joined back to the alerts — a join per matching evidence
-- row, ~200 ms for a common word at 80,000 alerts and 650,000 evidence rows; now it is one
-- doclist of alert rowids, as for messages.
--
-- The document of an alert depends on its evidence, which is written after the alert row in
-- the same transaction; a trigger per evidence row would rebuild a many-recipient alert's
-- document once per row. So the one writer of alerts (src/store/alerts.rs, ingest and import)
-- indexes the alerts a page wrote after their evidence, from `alert_fts_source`, in one
-- statement; only deleting an alert (prune) goes through a trigger.
--
-- The evidence index keeps only what messages are searched by (the URLs alerts saw in them).

DROP TRIGGER alerts_fts_insert;
DROP TRIGGER alerts_fts_update;
DROP TRIGGER alerts_fts_delete;
DROP TABLE alert_fts;

DROP TRIGGER alert_evidence_fts_insert;
DROP TRIGGER alert_evidence_fts_delete;
DROP TRIGGER alert_evidence_fts_update;
DROP TABLE evidence_fts;
DROP VIEW evidence_fts_source;

-- The searchable text of each evidence row.
CREATE VIEW evidence_text AS
SELECT rowid, tenant, alert_id, subject, sender, recipient,
       CASE WHEN json_valid(raw) THEN
           concat_ws(' ', json_extract(raw, '$.p1Sender.displayName'),
                          json_extract(raw, '$.p2Sender.displayName'))
       END AS display_names,
       coalesce(CASE WHEN json_valid(raw) AND json_type(raw, '$.urls') = 'array' THEN
                    (SELECT group_concat(u.value, ' ') FROM json_each(raw, '$.urls') u)
                END, url) AS url
FROM alert_evidence;

-- The document of each alert. A message sent to 500 recipients is 500 evidence rows with one
-- subject and sender: each distinct text is indexed once.
CREATE VIEW alert_fts_source AS
SELECT a.rowid AS rowid, a.title AS title,
       CASE WHEN json_valid(a.raw) THEN json_extract(a.raw, '$.description') END AS description,
       (SELECT group_concat(DISTINCT concat_ws(' ', e.subject, e.sender, e.display_names, e.url))
        FROM evidence_text e WHERE e.tenant = a.tenant AND e.alert_id = a.id) AS evidence,
       (SELECT group_concat(DISTINCT e.recipient)
        FROM evidence_text e WHERE e.tenant = a.tenant AND e.alert_id = a.id) AS recipients
FROM alerts a;

CREATE VIRTUAL TABLE alert_fts USING fts5(
    title, description, evidence, recipients,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO alert_fts (rowid, title, description, evidence, recipients)
SELECT rowid, title, description, evidence, recipients FROM alert_fts_source;

CREATE TRIGGER alerts_fts_delete AFTER DELETE ON alerts BEGIN
    DELETE FROM alert_fts WHERE rowid = old.rowid;
END;

-- One document per evidence row: its URLs (a message evidence lists them all in `urls`).
CREATE VIRTUAL TABLE evidence_fts USING fts5(
    url,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO evidence_fts (rowid, url) SELECT rowid, url FROM evidence_text WHERE url IS NOT NULL;

CREATE TRIGGER alert_evidence_fts_insert AFTER INSERT ON alert_evidence BEGIN
    INSERT INTO evidence_fts (rowid, url)
    SELECT rowid, url FROM evidence_text WHERE rowid = new.rowid AND url IS NOT NULL;
END;
CREATE TRIGGER alert_evidence_fts_delete AFTER DELETE ON alert_evidence BEGIN
    DELETE FROM evidence_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER alert_evidence_fts_update AFTER UPDATE ON alert_evidence BEGIN
    DELETE FROM evidence_fts WHERE rowid = old.rowid;
    INSERT INTO evidence_fts (rowid, url)
    SELECT rowid, url FROM evidence_text WHERE rowid = new.rowid AND url IS NOT NULL;
END;
