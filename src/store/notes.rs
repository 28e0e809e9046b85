//! Analyst annotations (`schema/0005_notes.sql`): a bookmark and a note on a threat (tenant,
//! alert id) or a message (tenant, NetworkMessageId, optionally one recipient). They are
//! local analyst work, never sent to the tenant, and independent of the data tables: a
//! re-sync or a prune never touches them, and a note outlives the data it is about.
//!
//! One annotation per target: its bookmark flag and one note text. An annotation with neither
//! is deleted. A message-level annotation (no recipient) applies to every recipient's row.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde::Serialize;

use super::views::{EventRow, ThreatRow};
use super::{Store, StoreError, now_ms, sqlite_err};

/// What an annotation is about.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum NoteTarget {
    Threat {
        tenant: String,
        alert_id: String,
    },
    Message {
        tenant: String,
        network_message_id: String,
        /// None: the message as a whole (every recipient).
        recipient: Option<String>,
    },
}

impl NoteTarget {
    pub fn tenant(&self) -> &str {
        match self {
            NoteTarget::Threat { tenant, .. } | NoteTarget::Message { tenant, .. } => tenant,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            NoteTarget::Threat { .. } => "threat",
            NoteTarget::Message { .. } => "message",
        }
    }

    fn target(&self) -> &str {
        match self {
            NoteTarget::Threat { alert_id, .. } => alert_id,
            NoteTarget::Message {
                network_message_id, ..
            } => network_message_id,
        }
    }

    fn recipient(&self) -> &str {
        match self {
            NoteTarget::Message {
                recipient: Some(r), ..
            } => r,
            _ => "",
        }
    }
}

/// One stored annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Annotation {
    pub target: NoteTarget,
    pub bookmarked: bool,
    /// "" when there is only a bookmark.
    pub note: String,
    pub author: Option<String>,
    pub created_ms: i64,
    pub updated_ms: i64,
}

/// What a list row shows in its mark column: the union of the annotations that apply to it,
/// and the text of the one the dashboard edits (the threat's, or the message's as a whole).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mark {
    pub bookmarked: bool,
    pub noted: bool,
    pub note: String,
}

impl Annotation {
    /// Whether this annotation is about the row of `recipient` (an email event's recipient;
    /// None for a threat): a note on one recipient's copy of a message applies to that copy
    /// only, any other note to every row of its threat or message.
    pub fn applies_to(&self, recipient: Option<&str>) -> bool {
        match (&self.target, recipient) {
            (
                NoteTarget::Message {
                    recipient: Some(r), ..
                },
                row,
            ) => row.is_some_and(|row| r.eq_ignore_ascii_case(row)),
            _ => true,
        }
    }
}

impl Mark {
    /// The mark of a row from the annotations of its threat or message; `recipient` is the
    /// row's recipient for an email event (None for a threat).
    pub fn of(annotations: &[Annotation], recipient: Option<&str>) -> Mark {
        let mut mark = Mark::default();
        for a in annotations {
            if !a.applies_to(recipient) {
                continue;
            }
            mark.bookmarked |= a.bookmarked;
            mark.noted |= !a.note.is_empty();
            let edited = match &a.target {
                NoteTarget::Threat { .. } => true,
                NoteTarget::Message { recipient, .. } => recipient.is_none(),
            };
            if edited {
                mark.note = a.note.clone();
            }
        }
        mark
    }

    /// The mark column's two cells: `★` bookmarked, `✎` a note.
    pub fn symbols(&self) -> &'static str {
        match (self.bookmarked, self.noted) {
            (true, true) => "★✎",
            (true, false) => "★",
            (false, true) => " ✎",
            (false, false) => "",
        }
    }
}

/// A change to one target's annotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoteChange {
    /// Set or clear the bookmark. Clearing a whole message's bookmark clears it for every
    /// recipient; clearing one recipient's leaves the whole message's as it is.
    Bookmark(bool),
    /// Replace the note text ("" removes it).
    Text(String),
    /// Either or both at once (the `notes add` command); None leaves it as it is.
    Both {
        bookmark: Option<bool>,
        text: Option<String>,
    },
    /// Remove the annotation altogether.
    Remove,
}

/// The OS user writing a note, best effort: `$USER`, `$LOGNAME` (`%USERNAME%` on Windows),
/// then the account name of the effective uid — a container's root often has no `$USER`.
pub fn current_author() -> Option<String> {
    author_from(
        |k| std::env::var(k).ok(),
        || {
            let uid = effective_uid(&std::fs::read_to_string("/proc/self/status").ok()?)?;
            account_name(&std::fs::read_to_string("/etc/passwd").ok()?, uid)
        },
    )
}

fn author_from(
    env: impl Fn(&str) -> Option<String>,
    account: impl FnOnce() -> Option<String>,
) -> Option<String> {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .filter_map(|k| env(k))
        .map(|v| v.trim().to_string())
        .find(|v| !v.is_empty())
        .or_else(account)
}

/// The effective uid from Linux's `/proc/self/status` (`Uid: real effective saved fs`).
fn effective_uid(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

/// The account name of `uid` in `/etc/passwd` (`name:password:uid:…`).
fn account_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|l| {
        let mut fields = l.split(':');
        let name = fields.next()?.trim();
        let found = fields.nth(1)?.parse::<u32>().ok()? == uid;
        (found && !name.is_empty()).then(|| name.to_string())
    })
}

/// Why a note could not be saved from the dashboard.
pub const READ_ONLY: &str = "store is read-only, note not saved";

fn annotation_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Annotation> {
    let tenant: String = r.get(0)?;
    let kind: String = r.get(1)?;
    let target: String = r.get(2)?;
    let recipient: String = r.get(3)?;
    let target = if kind == "threat" {
        NoteTarget::Threat {
            tenant,
            alert_id: target,
        }
    } else {
        NoteTarget::Message {
            tenant,
            network_message_id: target,
            recipient: (!recipient.is_empty()).then_some(recipient),
        }
    };
    Ok(Annotation {
        target,
        bookmarked: r.get(4)?,
        note: r.get(5)?,
        author: r.get(6)?,
        created_ms: r.get(7)?,
        updated_ms: r.get(8)?,
    })
}

const COLUMNS: &str =
    "tenant, kind, target, recipient, bookmarked, note, author, created_ms, updated_ms";

/// Applies `change` to `target` on `conn` in one transaction; returns every annotation of the
/// target's threat or message afterwards (what the dashboard redraws its marks from).
pub fn apply(
    conn: &mut Connection,
    target: &NoteTarget,
    change: &NoteChange,
    author: Option<&str>,
    now_ms: i64,
) -> rusqlite::Result<Vec<Annotation>> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let key = params![
        target.tenant(),
        target.kind(),
        target.target(),
        target.recipient()
    ];
    let (bookmark, text) = match change {
        NoteChange::Bookmark(b) => (Some(*b), None),
        NoteChange::Text(t) => (None, Some(t.as_str())),
        NoteChange::Both { bookmark, text } => (*bookmark, text.as_deref()),
        NoteChange::Remove => (None, None),
    };
    if *change == NoteChange::Remove {
        tx.execute(
            "DELETE FROM notes WHERE tenant = ?1 AND kind = ?2 AND target = ?3 AND recipient = ?4",
            key,
        )?;
    } else {
        tx.execute(
            "INSERT INTO notes (tenant, kind, target, recipient, bookmarked, note, author, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, coalesce(?5, 0), coalesce(?6, ''), ?7, ?8, ?8)
             ON CONFLICT (tenant, kind, target, recipient) DO UPDATE SET
                bookmarked = coalesce(?5, bookmarked), note = coalesce(?6, note),
                author = coalesce(?7, author), updated_ms = ?8",
            params![
                target.tenant(),
                target.kind(),
                target.target(),
                target.recipient(),
                bookmark,
                text.map(str::trim),
                author,
                now_ms
            ],
        )?;
        // Unbookmarking the whole message unbookmarks each recipient's copy too; one
        // recipient's copy changes only itself.
        if bookmark == Some(false)
            && matches!(
                target,
                NoteTarget::Message {
                    recipient: None,
                    ..
                }
            )
        {
            tx.execute(
                "UPDATE notes SET bookmarked = 0, updated_ms = ?3
                 WHERE tenant = ?1 AND kind = 'message' AND target = ?2 AND bookmarked AND recipient <> ''",
                params![target.tenant(), target.target(), now_ms],
            )?;
        }
        tx.execute(
            "DELETE FROM notes WHERE tenant = ?1 AND kind = ?2 AND target = ?3 AND NOT bookmarked AND note = ''",
            params![target.tenant(), target.kind(), target.target()],
        )?;
    }
    let all = of_target(&tx, target.tenant(), target.kind(), target.target())?;
    tx.commit()?;
    Ok(all)
}

fn of_target(
    conn: &Connection,
    tenant: &str,
    kind: &str,
    target: &str,
) -> rusqlite::Result<Vec<Annotation>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM notes WHERE tenant = ?1 AND kind = ?2 AND target = ?3 ORDER BY recipient"
    ))?;
    let rows = stmt.query_map(params![tenant, kind, target], annotation_from_row)?;
    rows.collect()
}

/// Saves a change from the dashboard, which holds the store read-only: a short-lived
/// read-write connection to the existing file, closed again at once. Errors are one line for
/// the status bar; a store that cannot be written says [`READ_ONLY`].
pub fn save_at(
    path: &Path,
    target: &NoteTarget,
    change: &NoteChange,
) -> Result<Vec<Annotation>, String> {
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| save_error(&e))?;
    conn.busy_timeout(Duration::from_secs(5))
        .map_err(|e| save_error(&e))?;
    apply(
        &mut conn,
        target,
        change,
        current_author().as_deref(),
        now_ms(),
    )
    .map_err(|e| save_error(&e))
}

/// The status-bar text for a failed save.
pub fn save_error(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen)
        | Some(rusqlite::ErrorCode::PermissionDenied) => READ_ONLY.to_string(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => {
            "the store is busy (a sync is writing), note not saved; try again".to_string()
        }
        _ => format!("note not saved: {e}"),
    }
}

/// Every annotation, keyed for lookups while streaming an export.
#[derive(Debug, Default)]
pub struct NoteIndex {
    threats: HashMap<(String, String), Annotation>,
    /// (tenant, NetworkMessageId) → the message's annotations (whole message and recipients).
    messages: HashMap<(String, String), Vec<Annotation>>,
}

impl NoteIndex {
    pub fn is_empty(&self) -> bool {
        self.threats.is_empty() && self.messages.is_empty()
    }

    pub fn threat(&self, tenant: &str, alert_id: &str) -> Option<&Annotation> {
        self.threats
            .get(&(tenant.to_string(), alert_id.to_string()))
    }

    /// The annotations that apply to one recipient's copy of a message.
    pub fn message(&self, tenant: &str, nmid: &str, recipient: &str) -> Vec<&Annotation> {
        self.messages
            .get(&(tenant.to_string(), nmid.to_string()))
            .map(|all| {
                all.iter()
                    .filter(|a| a.applies_to(Some(recipient)))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Of a message's annotations, those that apply to one recipient's copy.
pub fn applying_to(all: Vec<Annotation>, recipient: &str) -> Vec<Annotation> {
    all.into_iter()
        .filter(|a| a.applies_to(Some(recipient)))
        .collect()
}

/// An annotation as it appears in `notes --json` and in exported events.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotationJson<'a> {
    pub bookmarked: bool,
    #[serde(skip_serializing_if = "str::is_empty")]
    pub text: &'a str,
    pub author: Option<&'a str>,
    /// Epoch milliseconds (OCSF's timestamp unit).
    pub created: i64,
    pub updated: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recipient: Option<&'a str>,
}

impl<'a> From<&'a Annotation> for AnnotationJson<'a> {
    fn from(a: &'a Annotation) -> Self {
        AnnotationJson {
            bookmarked: a.bookmarked,
            text: &a.note,
            author: a.author.as_deref(),
            created: a.created_ms,
            updated: a.updated_ms,
            recipient: match &a.target {
                NoteTarget::Message { recipient, .. } => recipient.as_deref(),
                NoteTarget::Threat { .. } => None,
            },
        }
    }
}

/// One line of `mailtrail notes`: an annotation and what it is about, if still stored.
#[derive(Debug, Clone)]
pub struct ListedNote {
    pub annotation: Annotation,
    /// The alert title or the message subject; None when the data is not (or no longer) stored.
    pub about: Option<String>,
}

impl Store {
    /// Applies a change to an annotation (the `notes` command's writes).
    pub fn annotate(
        &mut self,
        target: &NoteTarget,
        change: &NoteChange,
        author: Option<&str>,
    ) -> Result<Vec<Annotation>, StoreError> {
        let path = self.path.clone();
        apply(&mut self.conn, target, change, author, now_ms()).map_err(|e| sqlite_err(&path, e))
    }

    /// Every annotation, for an export: read once, looked up per event.
    pub fn note_index(&self) -> Result<NoteIndex, StoreError> {
        let mut index = NoteIndex::default();
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT {COLUMNS} FROM notes"))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], annotation_from_row)
            .map_err(|e| self.err(e))?;
        for a in rows {
            let a = a.map_err(|e| self.err(e))?;
            match &a.target {
                NoteTarget::Threat { tenant, alert_id } => {
                    index
                        .threats
                        .insert((tenant.clone(), alert_id.clone()), a.clone());
                }
                NoteTarget::Message {
                    tenant,
                    network_message_id,
                    ..
                } => index
                    .messages
                    .entry((tenant.clone(), network_message_id.clone()))
                    .or_default()
                    .push(a.clone()),
            }
        }
        Ok(index)
    }

    /// The annotations of a threat or a whole message (all recipients), for a list row or a
    /// detail pane.
    pub fn annotations_of(&self, target: &NoteTarget) -> Result<Vec<Annotation>, StoreError> {
        of_target(&self.conn, target.tenant(), target.kind(), target.target())
            .map_err(|e| self.err(e))
    }

    /// Every annotation, most recently updated first, with what it is about.
    pub fn list_notes(&self) -> Result<Vec<ListedNote>, StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!(
                "SELECT {COLUMNS},
                    CASE kind WHEN 'threat' THEN
                        (SELECT a.title FROM alerts a WHERE a.tenant = n.tenant AND a.id = n.target)
                    ELSE coalesce(
                        (SELECT ev.subject FROM email_events ev WHERE ev.tenant = n.tenant AND ev.network_message_id = n.target LIMIT 1),
                        (SELECT e.subject FROM alert_evidence e WHERE e.tenant = n.tenant AND e.network_message_id = n.target LIMIT 1))
                    END
                 FROM notes n ORDER BY updated_ms DESC, tenant, kind, target, recipient"
            ))
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map([], |r| {
                Ok(ListedNote {
                    annotation: annotation_from_row(r)?,
                    about: r.get(9)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// The tenants that hold an alert with this id.
    pub fn tenants_with_alert(&self, alert_id: &str) -> Result<Vec<String>, StoreError> {
        self.tenants_where(
            "SELECT DISTINCT tenant FROM alerts WHERE id = ?1 ORDER BY tenant",
            params![alert_id],
        )
    }

    /// The tenants that know this message (from email events or alert evidence), for one
    /// recipient when given.
    pub fn tenants_with_message(
        &self,
        nmid: &str,
        recipient: Option<&str>,
    ) -> Result<Vec<String>, StoreError> {
        self.tenants_where(
            "SELECT tenant FROM email_events WHERE network_message_id = ?1
                 AND (?2 IS NULL OR recipient = ?2 COLLATE NOCASE)
             UNION
             SELECT tenant FROM alert_evidence WHERE network_message_id = ?1
                 AND (?2 IS NULL OR recipient = ?2 COLLATE NOCASE)
             ORDER BY tenant",
            params![nmid, recipient],
        )
    }

    /// The recipient address as stored for this message (email events first, then alert
    /// evidence), matched without regard to case; None when no copy goes to it.
    pub fn stored_recipient(
        &self,
        tenant: &str,
        nmid: &str,
        recipient: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn
            .query_row(
                "SELECT recipient FROM (
                    SELECT 0 AS source, recipient FROM email_events
                        WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3 COLLATE NOCASE
                    UNION ALL
                    SELECT 1, recipient FROM alert_evidence
                        WHERE tenant = ?1 AND network_message_id = ?2 AND recipient = ?3 COLLATE NOCASE)
                 ORDER BY source, recipient = ?3 DESC, recipient LIMIT 1",
                params![tenant, nmid, recipient],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    fn tenants_where(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
    ) -> Result<Vec<String>, StoreError> {
        let mut stmt = self.conn.prepare(sql).map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params, |r| r.get(0))
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Fills the mark of each threat row of a page (one indexed lookup per row).
    pub fn mark_threat_rows(&self, rows: &mut [ThreatRow]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT bookmarked, note FROM notes WHERE tenant = ?1 AND kind = 'threat' AND target = ?2",
            )
            .map_err(|e| self.err(e))?;
        for row in rows {
            row.mark = stmt
                .query_row(params![row.tenant, row.id], |r| {
                    let note: String = r.get(1)?;
                    Ok(Mark {
                        bookmarked: r.get(0)?,
                        noted: !note.is_empty(),
                        note,
                    })
                })
                .optional()
                .map_err(|e| self.err(e))?
                .unwrap_or_default();
        }
        Ok(())
    }

    /// Fills the mark of each email-event row of a page: the message's annotations and its
    /// recipient's.
    pub fn mark_event_rows(&self, rows: &mut [EventRow]) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM notes WHERE tenant = ?1 AND kind = 'message' AND target = ?2
                    AND (recipient = '' OR recipient = ?3 COLLATE NOCASE)"
            ))
            .map_err(|e| self.err(e))?;
        for row in rows {
            let found: Vec<Annotation> = stmt
                .query_map(
                    params![row.tenant, row.network_message_id, row.recipient],
                    annotation_from_row,
                )
                .and_then(|rows| rows.collect())
                .map_err(|e| self.err(e))?;
            row.mark = Mark::of(&found, Some(&row.recipient));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn threat() -> NoteTarget {
        NoteTarget::Threat {
            tenant: "contoso".into(),
            alert_id: "a1".into(),
        }
    }

    fn message(recipient: Option<&str>) -> NoteTarget {
        NoteTarget::Message {
            tenant: "contoso".into(),
            network_message_id: "m1".into(),
            recipient: recipient.map(str::to_string),
        }
    }

    fn store() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("n.db")).unwrap();
        (dir, s)
    }

    #[test]
    fn bookmark_and_text_are_one_annotation_that_disappears_when_empty() {
        let (_d, mut s) = store();
        s.annotate(&threat(), &NoteChange::Bookmark(true), Some("ana"))
            .unwrap();
        let after = s
            .annotate(&threat(), &NoteChange::Text(" wire fraud ".into()), None)
            .unwrap();
        assert_eq!(after.len(), 1);
        assert!(after[0].bookmarked);
        assert_eq!(after[0].note, "wire fraud");
        assert_eq!(after[0].author.as_deref(), Some("ana"), "kept when unknown");
        s.annotate(&threat(), &NoteChange::Bookmark(false), None)
            .unwrap();
        let gone = s
            .annotate(&threat(), &NoteChange::Text(String::new()), None)
            .unwrap();
        assert!(gone.is_empty(), "{gone:?}");
        assert!(s.list_notes().unwrap().is_empty());
    }

    #[test]
    fn message_marks_combine_the_whole_message_and_one_recipient() {
        let (_d, mut s) = store();
        s.annotate(
            &message(Some("bob@contoso.com")),
            &NoteChange::Bookmark(true),
            None,
        )
        .unwrap();
        s.annotate(&message(None), &NoteChange::Text("seen".into()), None)
            .unwrap();
        let marks: Vec<Mark> = [
            ("m1", "BOB@contoso.com"),
            ("m1", "eve@contoso.com"),
            ("m2", "bob@contoso.com"),
        ]
        .iter()
        .map(|(nmid, r)| {
            let all = s
                .annotations_of(&NoteTarget::Message {
                    tenant: "contoso".into(),
                    network_message_id: nmid.to_string(),
                    recipient: None,
                })
                .unwrap();
            Mark::of(&all, Some(r))
        })
        .collect();
        assert!(marks[0].bookmarked && marks[0].noted);
        assert!(!marks[1].bookmarked && marks[1].noted);
        assert_eq!(marks[1].note, "seen");
        assert_eq!(marks[2], Mark::default());
        // Clearing the message's bookmark clears every recipient's.
        let all = s
            .annotate(&message(None), &NoteChange::Bookmark(false), None)
            .unwrap();
        assert_eq!(
            all.len(),
            1,
            "the bookmark-only recipient note went: {all:?}"
        );
        assert_eq!(Mark::of(&all, Some("bob@contoso.com")).symbols(), " ✎");
    }

    #[test]
    fn unbookmarking_one_recipient_leaves_the_whole_message_and_the_others() {
        let (_d, mut s) = store();
        let at = |s: &mut Store, t: &NoteTarget, b: bool, ms: i64| {
            apply(&mut s.conn, t, &NoteChange::Bookmark(b), None, ms).unwrap()
        };
        at(&mut s, &message(None), true, 1);
        at(&mut s, &message(Some("eve@contoso.com")), true, 1);
        at(&mut s, &message(Some("bob@contoso.com")), true, 1);
        let all = at(&mut s, &message(Some("bob@contoso.com")), false, 2);
        let whole = all.iter().find(|a| a.target == message(None)).unwrap();
        assert!(whole.bookmarked, "{all:?}");
        assert_eq!(whole.updated_ms, 1, "the whole message was not touched");
        let eve = all
            .iter()
            .find(|a| a.target == message(Some("eve@contoso.com")))
            .unwrap();
        assert!(eve.bookmarked && eve.updated_ms == 1, "{all:?}");
        assert_eq!(all.len(), 2, "bob's bookmark-only note went: {all:?}");
    }

    #[test]
    fn the_author_falls_back_to_the_account_of_the_effective_uid() {
        let status = "Name:\tmailtrail\nUid:\t1000\t0\t0\t0\nGid:\t0\t0\t0\t0\n";
        let passwd = "root:x:0:0:root:/root:/bin/bash\nana:x:1000:1000::/home/ana:/bin/sh\n";
        assert_eq!(effective_uid(status), Some(0));
        assert_eq!(account_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(account_name(passwd, 1000).as_deref(), Some("ana"));
        assert_eq!(account_name(passwd, 7), None);
        let no_env = |_: &str| None;
        assert_eq!(
            author_from(no_env, || account_name(passwd, 0)).as_deref(),
            Some("root")
        );
        let logname = |k: &str| (k == "LOGNAME").then(|| "kenji".to_string());
        assert_eq!(
            author_from(logname, || Some("root".into())).as_deref(),
            Some("kenji")
        );
        let blank_user = |k: &str| (k == "USER").then(|| " ".to_string());
        assert_eq!(author_from(blank_user, || None), None);
    }

    #[test]
    fn a_read_only_connection_reports_read_only() {
        let (dir, s) = store();
        drop(s);
        let mut ro =
            Connection::open_with_flags(dir.path().join("n.db"), OpenFlags::SQLITE_OPEN_READ_ONLY)
                .unwrap();
        let e = apply(&mut ro, &threat(), &NoteChange::Bookmark(true), None, 1).unwrap_err();
        assert_eq!(save_error(&e), READ_ONLY);
    }
}
