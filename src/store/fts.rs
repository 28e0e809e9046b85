//! The full-text indexes (schema/0004_fts.sql, 0009_threat_text.sql) seen from the lists: how
//! many rows a word or a tenant matches decides how a list reaches them ([`Access`]). The
//! dashboard and `mailtrail search` build their conditions here, from [`crate::search`]'s
//! terms; the probes that decide, capped counts and index rebuilds are this module's SQL.

use rusqlite::types::Value;

use super::Store;
use crate::search::{
    Access, Filter, Query, SqlWhere, Table, email_where, email_where_with, fts_exact, fts_params,
    fts_phrase, threat_where, threat_where_with,
};

/// Below this many matching rows a list starts from the matches and sorts them (a few
/// milliseconds per thousand); from it on, it walks its own order and tests each row.
pub const LOOKUP_MAX: i64 = 10_000;

/// How many index entries per counted row a capped count from the index reads before giving
/// up: enough when at least half the word's rows pass the other terms (a tenant, a time span).
const COUNT_EXAMINE: i64 = 2;

/// Writes the full-text documents of alerts (schema/0009_threat_text.sql); a `WHERE` on
/// `rowid` picks which.
pub(crate) const INDEX_ALERT_TEXT: &str =
    "INSERT INTO alert_fts (rowid, title, description, evidence, recipients)
     SELECT rowid, title, description, evidence, recipients FROM alert_fts_source";

/// How many of the newest rows tell whether a frequent word is in most rows: seeking each row
/// of a walk pays only when at least half of them match.
const DENSITY_SAMPLE: i64 = 1_000;

impl Store {
    /// How a list should reach the rows of `table` that `word` matches. Each probe stops
    /// counting at [`LOOKUP_MAX`]; only a frequent word's prefix is merged in full by FTS5.
    pub fn text_access(&self, table: Table, word: &str) -> Access {
        let Some(phrase) = fts_phrase(word) else {
            return Access::Scan;
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
                Access::Seek
            } else {
                Access::Scan
            };
        }
        // The indexes' own counts (no join to the rows): a bound on the rows that match.
        let indexes: &[&str] = match table {
            Table::Threats => &["alert_fts"],
            Table::Emails => &["email_fts", "evidence_fts"],
        };
        let mut n = 0;
        for (index, param) in indexes.iter().zip(fts_params(table, &phrase)) {
            match self.capped_count(
                &format!("{index} WHERE {index} MATCH ?"),
                &[param],
                LOOKUP_MAX,
            ) {
                Ok(c) => n += c.n,
                // The list's own query reports it; scanning is right for any count.
                Err(_) => return Access::Scan,
            }
        }
        if n < LOOKUP_MAX {
            Access::Lookup
        } else {
            Access::Scan
        }
    }

    /// Whether `from_where` has at least `n` rows (reading no more than that). False on an
    /// error, which the list's own query reports.
    fn at_least(&self, from_where: &str, params: &[Value], n: i64) -> bool {
        self.capped_count(from_where, params, n - 1)
            .is_ok_and(|c| c.capped)
    }

    /// Whether the exact phrase `exact` is in at least [`LOOKUP_MAX`] rows of the index `fts`.
    fn frequent_in(&self, fts: &str, exact: &str) -> bool {
        self.at_least(
            &format!("{fts} WHERE {fts} MATCH ?"),
            &[Value::Text(exact.to_string())],
            LOOKUP_MAX,
        )
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
    /// index when the query is free-text words narrowed at most by tenants and time bounds: the
    /// rows whose own document holds every word exactly are a subset of the matches, so
    /// counting those of them that pass the other terms (streamed from the index newest first,
    /// as a time span keeps the newest, at most [`COUNT_EXAMINE`] × `cap` entries, to `cap + 1`)
    /// settles a capped count without a set of every match. False when it does not settle it.
    pub fn text_count_exceeds(&self, table: Table, query: &Query, now_ms: i64, cap: i64) -> bool {
        let mut words = Vec::new();
        let mut rest = Query::default();
        for term in &query.terms {
            match &term.filter {
                Filter::Text(w) if !term.negated && fts_phrase(w).is_some() => {
                    words.push(fts_exact(w));
                }
                // Tested on each row the index yields: only what a row answers by itself.
                Filter::Tenant(_) | Filter::Since(_) | Filter::Until(_) => {
                    rest.terms.push(term.clone());
                }
                _ => return false,
            }
        }
        if words.is_empty() {
            return false;
        }
        let all = Value::Text(words.join(" AND "));
        let index = match table {
            Table::Threats => "alert_fts",
            Table::Emails => "email_fts",
        };
        let (from_where, params) = if rest.terms.is_empty() {
            // Nothing else to test: the index's rows are the count.
            (format!("{index} WHERE {index} MATCH ?"), vec![all])
        } else {
            let (source, alias, w) = match table {
                Table::Threats => ("alerts", "a", threat_where(&rest, now_ms)),
                Table::Emails => ("email_events", "ev", email_where(&rest, now_ms)),
            };
            let examine = cap.saturating_add(1).saturating_mul(COUNT_EXAMINE);
            let mut params = vec![all, Value::Integer(examine)];
            params.extend(w.params.iter().cloned());
            (
                format!(
                    "(SELECT rowid FROM {index} WHERE {index} MATCH ? ORDER BY rowid DESC LIMIT ?) f
                     CROSS JOIN {source} {alias} ON {alias}.rowid = f.rowid WHERE {}",
                    w.expr()
                ),
                params,
            )
        };
        // On an error the list's own count reports it.
        self.capped_count(&from_where, &params, cap)
            .is_ok_and(|c| c.capped)
    }

    /// Rebuilds the three full-text indexes from their rows: for after a full `VACUUM`, which
    /// may renumber the rowids of `alerts` and `alert_evidence` that the indexes key on.
    pub fn rebuild_fts(&mut self) -> Result<(), super::StoreError> {
        let tx = self.begin_write()?;
        tx.tx
            .execute_batch(&format!(
                "INSERT INTO email_fts (email_fts) VALUES ('rebuild');
                 INSERT INTO alert_fts (alert_fts) VALUES ('delete-all');
                 {INDEX_ALERT_TEXT};
                 INSERT INTO evidence_fts (evidence_fts) VALUES ('delete-all');
                 INSERT INTO evidence_fts (rowid, url)
                 SELECT rowid, url FROM evidence_text WHERE url IS NOT NULL;"
            ))
            .map_err(|e| super::sqlite_err(tx.path, e))?;
        tx.commit()
    }

    /// How a list should reach the rows of `table` of `tenants`: from the tenant's own rows
    /// when they are few (fewer than [`LOOKUP_MAX`], counted through the key's index), else by
    /// walking the list's order.
    pub fn tenant_access(&self, table: Table, tenants: &[String]) -> Access {
        let source = match table {
            Table::Threats => "alerts",
            Table::Emails => "email_events",
        };
        let list = serde_json::Value::from(tenants.to_vec()).to_string();
        if self.at_least(
            &format!("{source} WHERE tenant IN (SELECT value FROM json_each(?))"),
            &[Value::Text(list)],
            LOOKUP_MAX,
        ) {
            Access::Scan
        } else {
            Access::Lookup
        }
    }

    /// The condition of `query` on `alerts AS a` for a page in time order, each term reached
    /// the fast way.
    pub fn threat_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        let plan = self.plan(Table::Threats, query, Purpose::Page);
        threat_where_with(query, now_ms, &plan)
    }

    /// [`Store::threat_filter`] for counting the matches.
    pub fn threat_count_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        let plan = self.plan(Table::Threats, query, Purpose::Count);
        threat_where_with(query, now_ms, &plan)
    }

    /// The condition of `query` on `email_events AS ev` for a page in time order, each term
    /// reached the fast way.
    pub fn email_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        let plan = self.plan(Table::Emails, query, Purpose::Page);
        email_where_with(query, now_ms, &plan)
    }

    /// [`Store::email_filter`] for counting the matches.
    pub fn email_count_filter(&self, query: &Query, now_ms: i64) -> SqlWhere {
        let plan = self.plan(Table::Emails, query, Purpose::Count);
        email_where_with(query, now_ms, &plan)
    }

    /// How each term of `query` reaches its rows of `table`.
    fn plan<'a>(
        &'a self,
        table: Table,
        query: &'a Query,
        purpose: Purpose,
    ) -> impl Fn(&Filter) -> Access + 'a {
        let tenants: Vec<(&Filter, Access)> = query
            .terms
            .iter()
            .filter_map(|t| match &t.filter {
                Filter::Tenant(v) => Some((&t.filter, self.tenant_access(table, v))),
                _ => None,
            })
            .collect();
        let walked = walks_in_order(query, &tenants);
        move |filter: &Filter| match filter {
            Filter::Text(w) => {
                let started = std::time::Instant::now();
                let access = match self.text_access(table, w) {
                    Access::Seek if !walked => Access::Scan,
                    other => other,
                };
                // A count reads every match in any order: the planner may start from the
                // matching rows (a word in fewer than most rows).
                let access = match (access, purpose) {
                    (Access::Scan, Purpose::Count) => Access::Lookup,
                    (other, _) => other,
                };
                tracing::debug!(
                    "{table:?} {w:?}: {access:?} (asked in {} ms)",
                    started.elapsed().as_millis()
                );
                access
            }
            Filter::Tenant(_) => tenants
                .iter()
                .find(|(f, _)| *f == filter)
                .map_or(Access::Scan, |(_, a)| *a),
            _ => Access::Scan,
        }
    }
}

/// What a condition is for: a page walks the list's order, a count may start anywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Purpose {
    Page,
    Count,
}

/// Whether a list filtered by `query` surely walks its own order's index, so that free text may be
/// sought row by row ([`Access::Seek`]): only free text, time bounds and walked tenants narrow
/// it. Another filter (a sender, a severity…) may lead the planner to another index and a
/// sort, and a per-row seek over every row of it costs tens of seconds at a million rows;
/// gathering the set is bounded.
fn walks_in_order(query: &Query, tenants: &[(&Filter, Access)]) -> bool {
    query.terms.iter().all(|t| match &t.filter {
        Filter::Text(_) | Filter::Since(_) | Filter::Until(_) => true,
        Filter::Tenant(_) => tenants
            .iter()
            .any(|(f, a)| *f == &t.filter && *a == Access::Scan),
        _ => false,
    })
}

#[cfg(test)]
mod tests {
    use rusqlite::params_from_iter;
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
        for access in [Access::Scan, Access::Seek, Access::Lookup] {
            let w = threat_where_with(&q, 0, &|_| access);
            let sql = format!("SELECT a.id FROM alerts a WHERE {} ORDER BY a.id", w.expr());
            let mut stmt = s.conn().prepare(&sql).unwrap();
            let ids: Vec<String> = stmt
                .query_map(params_from_iter(w.params.iter()), |r| r.get(0))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            if access != Access::Scan {
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
        for access in [Access::Scan, Access::Seek, Access::Lookup] {
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
            if access != Access::Scan {
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
                "DROP TRIGGER alert_evidence_fts_update;
                 UPDATE alerts SET rowid = rowid + 100;
                 UPDATE alert_evidence SET rowid = rowid + 100;",
            )
            .unwrap();
        for word in ["phish", "salary"] {
            assert_eq!(threats_by_title(&s, word), none(), "the index is stale now");
        }
        s.rebuild_fts().unwrap();
        for word in ["phish", "salary", "\"second-link\""] {
            assert_eq!(threats_by_title(&s, word), ["a1"], "{word}");
        }
        s.ingest_email_events(
            "t",
            &[email("nm-a1", "bob@contoso.com", "hi")],
            Advance::No,
            None,
        )
        .unwrap();
        assert_eq!(messages(&s, "second-link"), ["nm-a1/bob@contoso.com"]);
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
        assert_eq!(s.text_access(Table::Emails, "lunch"), Access::Lookup);
        assert_eq!(s.text_access(Table::Emails, "%"), Access::Scan);
        let many: Vec<Box<RawValue>> = (0..LOOKUP_MAX)
            .map(|i| email(&format!("n{i}"), "a@x.com", "Weekly digest"))
            .collect();
        s.ingest_email_events("t", &many, Advance::No, None)
            .unwrap();
        // In nearly every row as a whole word: each row seeks its own entry.
        assert_eq!(s.text_access(Table::Emails, "digest"), Access::Seek);
        // Frequent only as a prefix: the walk tests rows against the set.
        assert_eq!(s.text_access(Table::Emails, "dige"), Access::Scan);
        assert_eq!(s.text_access(Table::Emails, "lunch"), Access::Lookup);
    }

    #[test]
    fn a_big_tenant_is_walked_and_a_small_one_looked_up() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("f.db")).unwrap();
        let many: Vec<Box<RawValue>> = (0..LOOKUP_MAX)
            .map(|i| email(&format!("n{i}"), "a@x.com", "Weekly digest"))
            .collect();
        s.ingest_email_events("big", &many, Advance::No, None)
            .unwrap();
        s.ingest_email_events(
            "small",
            &[email("m1", "b@x.com", "Weekly digest")],
            Advance::No,
            None,
        )
        .unwrap();
        let text = Filter::Text("digest".into());
        for (query, text_access, tenant_access) in [
            ("digest", Access::Seek, None),
            ("digest since:7d until:1d", Access::Seek, None),
            ("digest -weekly", Access::Seek, None),
            (
                "digest tenant:big",
                Access::Seek,
                Some(("big", Access::Scan)),
            ),
            (
                "digest tenant:small",
                Access::Scan,
                Some(("small", Access::Lookup)),
            ),
            (
                "digest tenant:big,small",
                Access::Seek,
                Some(("big,small", Access::Scan)),
            ),
            ("digest sender:a@x.com", Access::Scan, None),
            ("digest severity:high", Access::Scan, None),
        ] {
            let q = parse(query).unwrap();
            let plan = s.plan(Table::Emails, &q, Purpose::Page);
            assert_eq!(plan(&text), text_access, "{query}");
            if let Some((name, access)) = tenant_access {
                let names: Vec<String> = name.split(',').map(String::from).collect();
                assert_eq!(plan(&Filter::Tenant(names)), access, "{query}");
            }
        }
        assert_eq!(
            s.tenant_access(Table::Emails, &["nobody".into()]),
            Access::Lookup
        );
        // The walk and the lookup find the same rows: every access agrees with a scan.
        assert_eq!(messages(&s, "digest tenant:small"), ["m1/b@x.com"]);
        assert_eq!(
            s.event_count(&parse("digest tenant:big").unwrap(), 0, 100_000)
                .unwrap()
                .n,
            LOOKUP_MAX
        );
        // A capped count is settled from the index, the tenant tested on the rows it yields.
        let exceeds =
            |q: &str, cap: i64| s.text_count_exceeds(Table::Emails, &parse(q).unwrap(), 0, cap);
        assert!(exceeds("digest", 100) && exceeds("digest tenant:big", 100));
        assert!(!exceeds("digest tenant:small", 100), "one row of it");
        assert!(
            !exceeds("digest", LOOKUP_MAX + 1),
            "not more than there are"
        );
        assert!(
            !exceeds("digest sender:a@x.com", 100),
            "a sender is not tested on index rows"
        );
        // The plans: the big tenant's page walks time order; the small one's starts at its rows.
        let sql = |q: &str| {
            let w = s.email_filter(&parse(q).unwrap(), 0);
            let sql = format!(
                "EXPLAIN QUERY PLAN SELECT ev.rowid FROM email_events ev WHERE {} ORDER BY ev.timestamp_ms DESC LIMIT 50",
                w.expr()
            );
            let mut stmt = s.conn().prepare(&sql).unwrap();
            let rows: Vec<String> = stmt
                .query_map(params_from_iter(w.params.iter()), |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect();
            rows.join("\n")
        };
        let big = sql("tenant:big");
        assert!(
            big.contains("email_events_time") && !big.contains("TEMP B-TREE"),
            "{big}"
        );
        let small = sql("tenant:small");
        assert!(!small.contains("email_events_time"), "{small}");
    }
}
