//! The full-text indexes (schema/0004_fts.sql) seen from the lists: how many rows a word
//! matches decides how a list reaches them ([`TextAccess`]). The dashboard and
//! `mailtrail search` build their conditions here; the SQL itself is [`crate::search`]'s.

use rusqlite::{params, params_from_iter};

use super::Store;
use crate::search::{
    Filter, Query, SqlWhere, Table, TextAccess, email_where_with, fts_exact, fts_params,
    fts_phrase, threat_where_with,
};

/// Below this many matching rows a list starts from the matches and sorts them (a few
/// milliseconds per thousand); from it on, it walks its own order and tests each row.
pub const LOOKUP_MAX: i64 = 10_000;

/// How many of the newest rows tell whether a frequent word is in most rows: seeking each row
/// of a walk pays only when at least half of them match.
const DENSITY_SAMPLE: i64 = 1_000;

/// Evidence rows per threat above which a word's evidence rows are likely to name more
/// threats than a capped count needs.
const EVIDENCE_PER_THREAT: i64 = 4;

impl Store {
    /// How a list should reach the rows of `table` that `word` matches. Counting stops at
    /// [`LOOKUP_MAX`], so asking costs at most that many index entries.
    pub fn text_access(&self, table: Table, word: &str) -> TextAccess {
        let Some(phrase) = fts_phrase(word) else {
            return TextAccess::Scan;
        };
        let own = match table {
            Table::Threats => "alert_fts",
            Table::Emails => "email_fts",
        };
        // The exact phrase first: FTS5 streams it, while a prefix it merges in full (~100 ms
        // for a word in a million rows). What it matches, the prefix matches too.
        let exact = fts_exact(word);
        if self.frequent_in(own, &exact) {
            // Dense among the newest rows (a list's first page): seek row by row.
            return if self.dense_in(own, &exact) {
                TextAccess::Seek
            } else {
                TextAccess::Scan
            };
        }
        // A threat's evidence is as much its text as its title: a word in most evidence rows
        // (a tenant's domain) is sought evidence row by evidence row, never gathered.
        if table == Table::Threats
            && self.frequent_in("evidence_fts", &exact)
            && self.dense_in("evidence_fts", &exact)
        {
            return TextAccess::Seek;
        }
        // The two indexes' own counts (no join to the rows): a bound on the rows that match.
        let sql = format!(
            "SELECT (SELECT count(*) FROM (SELECT 1 FROM {own} WHERE {own} MATCH ?1 LIMIT {LOOKUP_MAX}))
                  + (SELECT count(*) FROM (SELECT 1 FROM evidence_fts WHERE evidence_fts MATCH ?2 LIMIT {LOOKUP_MAX}))"
        );
        let n = self.conn.prepare_cached(&sql).and_then(|mut s| {
            s.query_row(params_from_iter(fts_params(table, &phrase)), |r| {
                r.get::<_, i64>(0)
            })
        });
        // On an error the list's own query reports it; scanning is right for any count.
        match n {
            Ok(n) if n < LOOKUP_MAX => TextAccess::Lookup,
            _ => TextAccess::Scan,
        }
    }

    /// Whether the exact phrase `exact` is in at least [`LOOKUP_MAX`] rows of the index `fts`.
    fn frequent_in(&self, fts: &str, exact: &str) -> bool {
        let sql = format!(
            "SELECT count(*) FROM (SELECT 1 FROM {fts} WHERE {fts} MATCH ?1 LIMIT {LOOKUP_MAX})"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([exact], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n >= LOOKUP_MAX)
    }

    /// Whether `exact` is in at least half of the newest [`DENSITY_SAMPLE`] rows of `fts`.
    fn dense_in(&self, fts: &str, exact: &str) -> bool {
        let sql = format!(
            "SELECT count(*) FROM {fts} WHERE {fts} MATCH ?1
             AND rowid > (SELECT max(rowid) FROM {fts}) - {DENSITY_SAMPLE}"
        );
        self.conn
            .prepare_cached(&sql)
            .and_then(|mut s| s.query_row([exact], |r| r.get::<_, i64>(0)))
            .is_ok_and(|n| n * 2 >= DENSITY_SAMPLE)
    }

    /// Whether more than `cap` rows of `table` match `query`, answered from the full-text
    /// indexes alone when every term is a free-text word: the rows whose own text holds every
    /// word exactly are a subset of the matches, so counting them (streamed, to `cap + 1`)
    /// settles a capped count without testing any row. False when it does not settle it.
    pub fn text_count_exceeds(&self, table: Table, query: &Query, cap: i64) -> bool {
        let mut words = Vec::new();
        for term in &query.terms {
            match &term.filter {
                Filter::Text(w) if !term.negated && fts_phrase(w).is_some() => {
                    words.push(fts_exact(w));
                }
                _ => return false,
            }
        }
        if words.is_empty() {
            return false;
        }
        let all = words.join(" AND ");
        let limit = cap.saturating_add(1);
        let own = match table {
            Table::Threats => "alert_fts",
            Table::Emails => "email_fts",
        };
        let sql =
            format!("SELECT count(*) FROM (SELECT 1 FROM {own} WHERE {own} MATCH ?1 LIMIT ?2)");
        let count = |sql: &str| {
            self.conn
                .prepare_cached(sql)
                .and_then(|mut s| s.query_row(params![all, limit], |r| r.get::<_, i64>(0)))
                // On an error the list's own count reports it.
                .unwrap_or(0)
        };
        if count(&sql) >= limit {
            return true;
        }
        // A threat also matches through its evidence: the distinct alerts of evidence rows
        // holding every word. Worth it only when those rows are many more than the cap (a
        // threat has several evidence rows).
        if table == Table::Threats {
            let rows = format!(
                "SELECT count(*) FROM (SELECT 1 FROM evidence_fts WHERE evidence_fts MATCH ?1
                 LIMIT ?2 * {EVIDENCE_PER_THREAT})"
            );
            if count(&rows) >= limit * EVIDENCE_PER_THREAT {
                let alerts = "SELECT count(*) FROM (SELECT DISTINCT t.rowid FROM evidence_fts f
                     CROSS JOIN alert_evidence e ON e.rowid = f.rowid
                     CROSS JOIN alerts t ON t.tenant = e.tenant AND t.id = e.alert_id
                     WHERE evidence_fts MATCH ?1 LIMIT ?2)";
                if count(alerts) >= limit {
                    return true;
                }
            }
        }
        false
    }

    /// Rebuilds the three full-text indexes from their rows: for after a full `VACUUM`, which
    /// may renumber the rowids of `alerts` and `alert_evidence` that the indexes key on.
    pub fn rebuild_fts(&mut self) -> Result<(), super::StoreError> {
        let tx = self
            .conn
            .transaction()
            .map_err(|e| super::sqlite_err(&self.path, e))?;
        tx.execute_batch(
            "INSERT INTO email_fts (email_fts) VALUES ('rebuild');
             INSERT INTO alert_fts (alert_fts) VALUES ('delete-all');
             INSERT INTO alert_fts (rowid, title, description)
             SELECT rowid, title, CASE WHEN json_valid(raw) THEN json_extract(raw, '$.description') END
             FROM alerts;
             INSERT INTO evidence_fts (evidence_fts) VALUES ('delete-all');
             INSERT INTO evidence_fts (rowid, subject, sender, recipient, display_names, url)
             SELECT rowid, subject, sender, recipient, display_names, url FROM evidence_fts_source;",
        )
        .and_then(|()| tx.commit())
        .map_err(|e| super::sqlite_err(&self.path, e))
    }

    /// The condition of `query` on `alerts AS a`, free text reached the fast way.
    pub fn threat_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        threat_where_with(query, now_ms, &|w| {
            walkable(query, self.text_access(Table::Threats, w))
        })
    }

    /// The condition of `query` on `email_events AS ev`, free text reached the fast way.
    pub fn email_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        email_where_with(query, now_ms, &|w| {
            walkable(query, self.text_access(Table::Emails, w))
        })
    }
}

/// [`TextAccess::Seek`] only when nothing but free text and time bounds narrows the list: then
/// the list walks its time index and a page is found after a short walk. Another filter (a
/// tenant, a sender…) may lead the planner to another index and a sort, and a per-row seek over
/// every row of it costs tens of seconds at a million rows; gathering the set is bounded.
fn walkable(query: &Query, access: TextAccess) -> TextAccess {
    let only_text_and_time = query.terms.iter().all(|t| {
        matches!(
            t.filter,
            Filter::Text(_) | Filter::Since(_) | Filter::Until(_)
        )
    });
    match access {
        TextAccess::Seek if !only_text_and_time => TextAccess::Scan,
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use serde_json::value::RawValue;

    use super::*;
    use crate::search::parse;
    use crate::store::sync::Advance;
    use crate::store::views::{Direction, ThreatOrder};

    fn raw(v: serde_json::Value) -> Box<RawValue> {
        RawValue::from_string(v.to_string()).unwrap()
    }

    fn alert(
        id: &str,
        updated: &str,
        title: &str,
        description: &str,
        subject: &str,
    ) -> Box<RawValue> {
        raw(json!({
            "id": id,
            "createdDateTime": "2026-11-01T10:00:00Z",
            "lastUpdateDateTime": updated,
            "title": title,
            "description": description,
            "severity": "high",
            "status": "new",
            "evidence": [{
                "@odata.type": "#microsoft.graph.security.analyzedMessageEvidence",
                "networkMessageId": format!("nm-{id}"),
                "recipientEmailAddress": "bob@contoso.com",
                "subject": subject,
                "p2Sender": {"emailAddress": "eve@evil.test", "displayName": "Zelda Payroll"},
                "urls": ["https://first.test/a", "https://second-link.test/b"]
            }]
        }))
    }

    fn email(nmid: &str, recipient: &str, subject: &str) -> Box<RawValue> {
        raw(json!({
            "Timestamp": "2026-11-01T10:00:00Z",
            "NetworkMessageId": nmid,
            "RecipientEmailAddress": recipient,
            "SenderFromAddress": "Jürgen@Fabrikam.com",
            "SenderDisplayName": "Jürgen Müller",
            "Subject": subject,
        }))
    }

    /// Alert ids matching `text`, through both ways of reaching the matches (they must agree).
    fn threats(s: &Store, text: &str) -> Vec<String> {
        let q = parse(text).unwrap();
        let mut out = Vec::new();
        for access in [TextAccess::Scan, TextAccess::Seek, TextAccess::Lookup] {
            let w = threat_where_with(&q, 0, &|_| access);
            let sql = format!("SELECT a.id FROM alerts a WHERE {} ORDER BY a.id", w.expr());
            let mut stmt = s.conn().prepare(&sql).unwrap();
            let ids: Vec<String> = stmt
                .query_map(params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            if access != TextAccess::Scan {
                assert_eq!(ids, out, "{text}: {access:?} and scan disagree");
            }
            out = ids;
        }
        let page = s
            .threat_page(&q, 0, ThreatOrder::default(), None, Direction::Forward, 50)
            .unwrap();
        let mut via_store: Vec<String> = page.into_iter().map(|r| r.id).collect();
        via_store.sort();
        assert_eq!(via_store, out, "{text}: the store's page disagrees");
        out
    }

    /// (NetworkMessageId, recipient) of the messages matching `text`, both ways.
    fn messages(s: &Store, text: &str) -> Vec<String> {
        let q = parse(text).unwrap();
        let mut out = Vec::new();
        for access in [TextAccess::Scan, TextAccess::Seek, TextAccess::Lookup] {
            let w = email_where_with(&q, 0, &|_| access);
            let sql = format!(
                "SELECT ev.network_message_id || '/' || ev.recipient FROM email_events ev WHERE {} ORDER BY 1",
                w.expr()
            );
            let mut stmt = s.conn().prepare(&sql).unwrap();
            let ids: Vec<String> = stmt
                .query_map(params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            if access != TextAccess::Scan {
                assert_eq!(ids, out, "{text}: {access:?} and scan disagree");
            }
            out = ids;
        }
        let n = s.event_count(&q, 0, 1_000).unwrap().n;
        assert_eq!(n as usize, out.len(), "{text}: the store's count disagrees");
        out
    }

    fn none() -> Vec<String> {
        Vec::new()
    }

    #[test]
    fn every_indexed_field_is_searchable_with_word_semantics() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        s.ingest_alerts(
            "t",
            &[alert(
                "a1",
                "2026-11-01T10:00:00Z",
                "Email messages containing malicious URL removed",
                "A phishing campaign impersonating the CFO",
                "Invoice-2026 overdue",
            )],
            Advance::No,
        )
        .unwrap();
        s.ingest_email_events(
            "t",
            &[email("m1", "alex@contoso.com", "Quarterly Report")],
            Advance::No,
            None,
        )
        .unwrap();
        for text in [
            "malicious",            // title
            "impersonating",        // description
            "invoice",              // evidence subject, a word of "Invoice-2026"
            "2026",                 // the other word
            "eve@evil.test",        // an address as a phrase
            "evil.test",            // its domain
            "zelda",                // the sender's display name
            "second-link.test",     // the second of the evidence's URLs
            "https://first.test/a", // a whole URL
            "INVO",                 // a prefix, any case
        ] {
            assert_eq!(threats(&s, text), ["a1"], "{text}");
        }
        assert_eq!(
            threats(&s, "voice"),
            none(),
            "not from the middle of a word"
        );
        assert_eq!(
            threats(&s, "\"campaign phishing\""),
            none(),
            "a phrase keeps its order"
        );
        assert_eq!(threats(&s, "-malicious"), none());

        for text in [
            "quarterly",
            "report",
            "jurgen",
            "MÜLLER",
            "fabrikam.com",
            "alex@contoso.com",
        ] {
            assert_eq!(messages(&s, text), ["m1/alex@contoso.com"], "{text}");
        }
        // A message is found by the URLs the evidence of its alert lists.
        s.ingest_email_events(
            "t",
            &[email("nm-a1", "bob@contoso.com", "hello")],
            Advance::No,
            None,
        )
        .unwrap();
        assert_eq!(messages(&s, "second-link"), ["nm-a1/bob@contoso.com"]);
        assert_eq!(
            messages(&s, "malicious"),
            none(),
            "alert titles are not message text"
        );
    }

    #[test]
    fn an_update_replaces_the_old_text_in_the_index() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        s.ingest_alerts(
            "t",
            &[alert(
                "a1",
                "2026-11-01T10:00:00Z",
                "Phish delivered",
                "alpha",
                "Salary notice",
            )],
            Advance::No,
        )
        .unwrap();
        assert_eq!(threats(&s, "phish"), ["a1"]);
        s.ingest_alerts(
            "t",
            &[alert(
                "a1",
                "2026-11-02T10:00:00Z",
                "Malware blocked",
                "omega",
                "Tax refund",
            )],
            Advance::No,
        )
        .unwrap();
        for gone in ["phish", "alpha", "salary"] {
            assert_eq!(threats(&s, gone), none(), "{gone} is stale");
        }
        for now in ["malware", "omega", "refund"] {
            assert_eq!(threats(&s, now), ["a1"], "{now}");
        }

        s.ingest_email_events(
            "t",
            &[email("m1", "a@x.com", "Lunch plans")],
            Advance::No,
            None,
        )
        .unwrap();
        s.ingest_email_events(
            "t",
            &[email("m1", "a@x.com", "Dinner plans")],
            Advance::No,
            None,
        )
        .unwrap();
        assert_eq!(messages(&s, "lunch"), none());
        assert_eq!(messages(&s, "dinner"), ["m1/a@x.com"]);
        // The external-content index agrees with its rows.
        s.conn()
            .execute_batch("INSERT INTO email_fts (email_fts, rank) VALUES ('integrity-check', 1)")
            .unwrap();
    }

    #[test]
    fn deleted_and_replaced_rows_leave_nothing_stale() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        s.ingest_alerts(
            "t",
            &[
                alert(
                    "old",
                    "2026-11-01T10:00:00Z",
                    "Ancient phish",
                    "x",
                    "Yesterday",
                ),
                alert("new", "2026-11-01T10:00:00Z", "Fresh phish", "y", "Today"),
            ],
            Advance::No,
        )
        .unwrap();
        s.ingest_email_events(
            "t",
            &[
                email("m1", "a@x.com", "Ancient memo"),
                email("m2", "b@x.com", "Fresh memo"),
            ],
            Advance::No,
            None,
        )
        .unwrap();
        // What a prune does: delete rows (the triggers take their text out of the indexes).
        s.conn()
            .execute_batch(
                "DELETE FROM alert_evidence WHERE alert_id = 'old';
                 DELETE FROM alerts WHERE id = 'old';
                 DELETE FROM email_events WHERE network_message_id = 'm1';",
            )
            .unwrap();
        assert_eq!(threats(&s, "phish"), ["new"]);
        assert_eq!(threats(&s, "ancient"), none());
        assert_eq!(threats(&s, "yesterday"), none());
        assert_eq!(messages(&s, "memo"), ["m2/b@x.com"]);
        assert_eq!(messages(&s, "ancient"), none());
        // A row replaced in place (an import may write INSERT OR REPLACE) keeps one entry.
        s.conn()
            .execute_batch(
                "INSERT OR REPLACE INTO email_events (tenant, network_message_id, recipient, timestamp_ms, timestamp, subject, stored_ms, raw)
                 VALUES ('t', 'm2', 'b@x.com', 1, 'x', 'Rewritten memo', 0, '{}');
                 INSERT INTO email_fts (email_fts, rank) VALUES ('integrity-check', 1);",
            )
            .unwrap();
        assert_eq!(messages(&s, "fresh"), none());
        assert_eq!(messages(&s, "rewritten"), ["m2/b@x.com"]);
        // Contentless indexes: nothing is left under a deleted row's id.
        let left: i64 = s
            .conn()
            .query_row(
                "SELECT count(*) FROM alert_fts WHERE alert_fts MATCH 'ancient OR yesterday'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn a_rebuild_reindexes_renumbered_rows() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        s.ingest_alerts(
            "t",
            &[alert("a1", "2026-11-01T10:00:00Z", "Phish", "d", "Salary")],
            Advance::No,
        )
        .unwrap();
        // What a VACUUM may do: new rowids, without the triggers knowing.
        s.conn()
            .execute_batch(
                "PRAGMA recursive_triggers = OFF;
                 DROP TRIGGER alerts_fts_update;
                 UPDATE alerts SET rowid = rowid + 100;",
            )
            .unwrap();
        assert_eq!(
            threats_by_title(&s, "phish"),
            none(),
            "the index is stale now"
        );
        s.rebuild_fts().unwrap();
        assert_eq!(threats_by_title(&s, "phish"), ["a1"]);
    }

    fn threats_by_title(s: &Store, word: &str) -> Vec<String> {
        let mut stmt = s
            .conn()
            .prepare("SELECT id FROM alerts WHERE rowid IN (SELECT rowid FROM alert_fts WHERE alert_fts MATCH ?1)")
            .unwrap();
        stmt.query_map([word], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    #[test]
    fn the_access_follows_how_many_rows_match() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        s.ingest_email_events("t", &[email("m1", "a@x.com", "Lunch")], Advance::No, None)
            .unwrap();
        assert_eq!(s.text_access(Table::Emails, "lunch"), TextAccess::Lookup);
        assert_eq!(s.text_access(Table::Emails, "%"), TextAccess::Scan);
        let many: Vec<Box<RawValue>> = (0..LOOKUP_MAX)
            .map(|i| email(&format!("n{i}"), "a@x.com", "Weekly digest"))
            .collect();
        s.ingest_email_events("t", &many, Advance::No, None)
            .unwrap();
        // In nearly every row as a whole word: each row seeks its own entry.
        assert_eq!(s.text_access(Table::Emails, "digest"), TextAccess::Seek);
        // Frequent only as a prefix: the walk tests rows against the set.
        assert_eq!(s.text_access(Table::Emails, "dige"), TextAccess::Scan);
        assert_eq!(s.text_access(Table::Emails, "lunch"), TextAccess::Lookup);
    }

    #[test]
    fn only_free_text_and_time_bounds_may_seek_row_by_row() {
        for (query, seek) in [
            ("digest", true),
            ("digest since:7d until:1d", true),
            ("digest -weekly", true),
            ("digest tenant:contoso", false),
            ("digest sender:a@x.com", false),
            ("digest severity:high", false),
        ] {
            let q = parse(query).unwrap();
            let expected = if seek {
                TextAccess::Seek
            } else {
                TextAccess::Scan
            };
            assert_eq!(walkable(&q, TextAccess::Seek), expected, "{query}");
            assert_eq!(
                walkable(&q, TextAccess::Lookup),
                TextAccess::Lookup,
                "{query}"
            );
        }
    }
}
