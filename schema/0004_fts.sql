-- Full-text search (src/search.rs, free text): FTS5 indexes over what an analyst types from
-- memory — subjects, senders, recipients, display names, URLs, alert titles and descriptions.
--
-- Triggers keep them in the same transaction as every write to the source rows (ingest,
-- import, remap, prune), so no writer has to know they exist. Text is stored once: the email
-- index reads email_events as its external content, and the alert and evidence indexes are
-- contentless (their text comes out of the raw JSON) with delete-by-rowid. Search only asks
-- "which rows match", so no per-column sizes are kept (columnsize=0: no ranking).
--
-- Tokens are words (unicode61, case and diacritics folded): `ceo@contoso.com` is indexed as
-- ceo, contoso, com and searched as that phrase. The indexes key on each source row's rowid,
-- which must therefore stay stable (incremental vacuum keeps them; a full VACUUM may not).

CREATE VIRTUAL TABLE email_fts USING fts5(
    subject, sender_from, sender_display_name, recipient,
    content = 'email_events', content_rowid = 'rowid',
    columnsize = 0, tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO email_fts (email_fts) VALUES ('rebuild');

CREATE TRIGGER email_events_fts_insert AFTER INSERT ON email_events BEGIN
    INSERT INTO email_fts (rowid, subject, sender_from, sender_display_name, recipient)
    VALUES (new.rowid, new.subject, new.sender_from, new.sender_display_name, new.recipient);
END;
CREATE TRIGGER email_events_fts_delete AFTER DELETE ON email_events BEGIN
    INSERT INTO email_fts (email_fts, rowid, subject, sender_from, sender_display_name, recipient)
    VALUES ('delete', old.rowid, old.subject, old.sender_from, old.sender_display_name, old.recipient);
END;
-- Re-reading a row whose searchable text is unchanged (most updates) costs the index nothing.
CREATE TRIGGER email_events_fts_update AFTER UPDATE ON email_events
WHEN old.rowid IS NOT new.rowid OR old.subject IS NOT new.subject
  OR old.sender_from IS NOT new.sender_from OR old.sender_display_name IS NOT new.sender_display_name
  OR old.recipient IS NOT new.recipient
BEGIN
    INSERT INTO email_fts (email_fts, rowid, subject, sender_from, sender_display_name, recipient)
    VALUES ('delete', old.rowid, old.subject, old.sender_from, old.sender_display_name, old.recipient);
    INSERT INTO email_fts (rowid, subject, sender_from, sender_display_name, recipient)
    VALUES (new.rowid, new.subject, new.sender_from, new.sender_display_name, new.recipient);
END;

-- One document per alert (its current version): title and description.
CREATE VIRTUAL TABLE alert_fts USING fts5(
    title, description,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO alert_fts (rowid, title, description)
SELECT rowid, title, CASE WHEN json_valid(raw) THEN json_extract(raw, '$.description') END
FROM alerts;

CREATE TRIGGER alerts_fts_insert AFTER INSERT ON alerts BEGIN
    INSERT INTO alert_fts (rowid, title, description)
    VALUES (new.rowid, new.title,
            CASE WHEN json_valid(new.raw) THEN json_extract(new.raw, '$.description') END);
END;
CREATE TRIGGER alerts_fts_delete AFTER DELETE ON alerts BEGIN
    DELETE FROM alert_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER alerts_fts_update AFTER UPDATE ON alerts
WHEN old.rowid IS NOT new.rowid OR old.title IS NOT new.title OR old.raw IS NOT new.raw
BEGIN
    DELETE FROM alert_fts WHERE rowid = old.rowid;
    INSERT INTO alert_fts (rowid, title, description)
    VALUES (new.rowid, new.title,
            CASE WHEN json_valid(new.raw) THEN json_extract(new.raw, '$.description') END);
END;

-- One document per evidence row: the message's subject, sender and recipient, the sender's
-- display names (P1 and P2), and every URL (a message evidence lists them all in `urls`).
CREATE VIRTUAL TABLE evidence_fts USING fts5(
    subject, sender, recipient, display_names, url,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE VIEW evidence_fts_source AS
SELECT rowid, subject, sender, recipient,
       CASE WHEN json_valid(raw) THEN
           concat_ws(' ', json_extract(raw, '$.p1Sender.displayName'),
                          json_extract(raw, '$.p2Sender.displayName'))
       END AS display_names,
       coalesce(CASE WHEN json_valid(raw) AND json_type(raw, '$.urls') = 'array' THEN
                    (SELECT group_concat(u.value, ' ') FROM json_each(raw, '$.urls') u)
                END, url) AS url
FROM alert_evidence;
INSERT INTO evidence_fts (rowid, subject, sender, recipient, display_names, url)
SELECT rowid, subject, sender, recipient, display_names, url FROM evidence_fts_source;

CREATE TRIGGER alert_evidence_fts_insert AFTER INSERT ON alert_evidence BEGIN
    INSERT INTO evidence_fts (rowid, subject, sender, recipient, display_names, url)
    SELECT rowid, subject, sender, recipient, display_names, url
    FROM evidence_fts_source WHERE rowid = new.rowid;
END;
CREATE TRIGGER alert_evidence_fts_delete AFTER DELETE ON alert_evidence BEGIN
    DELETE FROM evidence_fts WHERE rowid = old.rowid;
END;
CREATE TRIGGER alert_evidence_fts_update AFTER UPDATE ON alert_evidence BEGIN
    DELETE FROM evidence_fts WHERE rowid = old.rowid;
    INSERT INTO evidence_fts (rowid, subject, sender, recipient, display_names, url)
    SELECT rowid, subject, sender, recipient, display_names, url
    FROM evidence_fts_source WHERE rowid = new.rowid;
END;
