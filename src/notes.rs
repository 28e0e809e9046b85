//! `mailtrail notes`: the analyst's bookmarks and notes on threats and messages — listed
//! (table or `--json`), added, removed. They live in the local store only (never written to
//! Microsoft 365) and survive re-syncs and prunes; see [`crate::store::notes`].
//!
//! A note is taken only on a threat or message that is stored (a typo'd id is refused with
//! exit 2); it is kept after the data it is about is pruned, and can always be removed.

use std::io::Write;
use std::path::Path;

use crate::Failure;
use crate::cli::{GlobalOpts, NoteAddArgs, NoteTargetArgs, NotesAction, NotesArgs};
use crate::config::{self, LoadOptions};
use crate::store::Store;
use crate::store::notes::{AnnotationJson, ListedNote, NoteChange, NoteTarget, current_author};
use crate::store::sync::format_ms;
use crate::terminal::clean;

/// `mailtrail notes`.
pub fn run(global: &GlobalOpts, args: &NotesArgs) -> Result<(), Failure> {
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let path = &cfg.store.path;
    let line = match &args.action {
        None => return list(path, args.json),
        Some(NotesAction::List(l)) => return list(path, args.json || l.json),
        Some(NotesAction::Add(a)) => add(&mut Store::open_existing(path)?, a)?,
        Some(NotesAction::Rm(t)) => remove(&mut Store::open_existing(path)?, t)?,
    };
    if !global.quiet {
        writeln!(std::io::stdout(), "{line}").map_err(|e| Failure::output("the result", e))?;
    }
    Ok(())
}

fn list(path: &Path, json: bool) -> Result<(), Failure> {
    let store = Store::open_read_only(path)?;
    let notes = store.list_notes()?;
    let mut out = std::io::stdout().lock();
    let written = if json {
        writeln!(out, "{}", list_json(&notes))
    } else {
        write_table(&mut out, &notes, table_width())
    };
    written.map_err(|e| Failure::output("the list", e))
}

fn what(target: &NoteTarget) -> String {
    match target {
        NoteTarget::Threat { tenant, alert_id } => {
            format!("threat {} ({})", clean(alert_id), clean(tenant))
        }
        NoteTarget::Message {
            tenant,
            network_message_id,
            recipient,
        } => format!(
            "message {}{} ({})",
            clean(network_message_id),
            recipient
                .as_deref()
                .map(|r| format!(" to {}", clean(r)))
                .unwrap_or_default(),
            clean(tenant)
        ),
    }
}

/// The one tenant a target belongs to, from `candidates` (those that have it).
fn one_tenant(
    wanted: Option<&str>,
    candidates: Vec<String>,
    missing: impl FnOnce() -> Failure,
    label: &str,
) -> Result<String, Failure> {
    let candidates: Vec<String> = match wanted {
        Some(t) => candidates.into_iter().filter(|c| c == t).collect(),
        None => candidates,
    };
    match candidates.as_slice() {
        [] => Err(missing()),
        [one] => Ok(one.clone()),
        several => Err(Failure::usage(format!(
            "{label} is stored for several tenants ({}); fix: add --tenant NAME",
            several
                .iter()
                .map(|t| clean(t))
                .collect::<Vec<_>>()
                .join(", ")
        ))),
    }
}

fn add(store: &mut Store, args: &NoteAddArgs) -> Result<String, Failure> {
    let t = &args.target;
    let text = Some(args.text.join(" ")).filter(|t| !t.trim().is_empty());
    let bookmark = match (args.bookmark, args.no_bookmark) {
        (true, _) => Some(true),
        (_, true) => Some(false),
        _ => None,
    };
    if text.is_none() && bookmark.is_none() {
        return Err(Failure::usage(
            "nothing to add; fix: give the note TEXT, --bookmark, or both",
        ));
    }
    let target = if let Some(id) = &t.threat {
        let tenant = one_tenant(
            t.tenant.as_deref(),
            store.tenants_with_alert(id)?,
            || {
                Failure::usage(format!(
                    "no threat with id '{}'{} in {}; fix: copy the id from `mailtrail tui` (the threat's detail) or `mailtrail query`, or run `mailtrail sync` first",
                    clean(id),
                    in_tenant(t),
                    store.path().display()
                ))
            },
            &format!("threat '{}'", clean(id)),
        )?;
        NoteTarget::Threat {
            tenant,
            alert_id: id.clone(),
        }
    } else {
        let nmid = t.message.clone().unwrap_or_default();
        let tenant = one_tenant(
            t.tenant.as_deref(),
            store.tenants_with_message(&nmid, t.recipient.as_deref())?,
            || {
                Failure::usage(format!(
                    "no message with NetworkMessageId '{}'{}{} in {}; fix: copy it from `mailtrail tui` (M pivots on it) or run `mailtrail sync` first",
                    clean(&nmid),
                    t.recipient
                        .as_deref()
                        .map(|r| format!(" to {}", clean(r)))
                        .unwrap_or_default(),
                    in_tenant(t),
                    store.path().display()
                ))
            },
            &format!("message '{}'", clean(&nmid)),
        )?;
        // The address as the store spells it, so a note typed in another case is the same
        // note (the key is exact) and matches its row.
        let recipient = match &t.recipient {
            Some(r) => Some(
                store
                    .stored_recipient(&tenant, &nmid, r)?
                    .unwrap_or_else(|| r.clone()),
            ),
            None => None,
        };
        NoteTarget::Message {
            tenant,
            network_message_id: nmid,
            recipient,
        }
    };
    let after = store.annotate(
        &target,
        &NoteChange::Both { bookmark, text },
        current_author().as_deref(),
    )?;
    let saved = after.iter().find(|a| a.target == target);
    Ok(match saved {
        Some(a) => format!(
            "{}{} {}",
            if a.bookmarked {
                "bookmarked"
            } else {
                "not bookmarked"
            },
            if a.note.is_empty() { "" } else { ", noted" },
            what(&target)
        ),
        None => format!("{} has no bookmark or note now", what(&target)),
    })
}

fn in_tenant(t: &NoteTargetArgs) -> String {
    t.tenant
        .as_deref()
        .map(|n| format!(" for tenant '{}'", clean(n)))
        .unwrap_or_default()
}

fn remove(store: &mut Store, t: &NoteTargetArgs) -> Result<String, Failure> {
    // Notes outlive their data: look in the notes, not in the data tables.
    let (kind, id) = match (&t.threat, &t.message) {
        (Some(id), _) => ("threat", id.clone()),
        (_, Some(id)) => ("message", id.clone()),
        _ => return Err(Failure::usage("give --threat ID or --message NMID")),
    };
    let same_recipient = |stored: &Option<String>| match (stored, &t.recipient) {
        (Some(s), Some(given)) => s.eq_ignore_ascii_case(given),
        (None, None) => true,
        _ => false,
    };
    let matches = |target: &NoteTarget| match target {
        NoteTarget::Threat { alert_id, .. } => kind == "threat" && *alert_id == id,
        NoteTarget::Message {
            network_message_id,
            recipient,
            ..
        } => kind == "message" && *network_message_id == id && same_recipient(recipient),
    };
    let found: Vec<NoteTarget> = store
        .list_notes()?
        .into_iter()
        .map(|n| n.annotation.target)
        .filter(matches)
        .collect();
    let mut tenants: Vec<String> = found.iter().map(|f| f.tenant().to_string()).collect();
    tenants.sort();
    tenants.dedup();
    let tenant = one_tenant(
        t.tenant.as_deref(),
        tenants,
        || {
            Failure::usage(format!(
                "no bookmark or note on {kind} '{}'{}{}; fix: `mailtrail notes` lists them",
                clean(&id),
                t.recipient
                    .as_deref()
                    .map(|r| format!(" to {}", clean(r)))
                    .unwrap_or_default(),
                in_tenant(t)
            ))
        },
        &format!("the note on {kind} '{}'", clean(&id)),
    )?;
    // Each note of that tenant (one, or several spellings of a recipient stored before
    // addresses were stored as the store spells them).
    let targets: Vec<&NoteTarget> = found.iter().filter(|f| f.tenant() == tenant).collect();
    for target in &targets {
        store.annotate(target, &NoteChange::Remove, None)?;
    }
    Ok(format!(
        "removed the bookmark and note of {}",
        targets.first().map(|t| what(t)).unwrap_or_default()
    ))
}

/// The list as a JSON array with stable keys.
pub fn list_json(notes: &[ListedNote]) -> String {
    let items: Vec<serde_json::Value> = notes
        .iter()
        .map(|n| {
            let a = &n.annotation;
            let (kind, id_key, id) = match &a.target {
                NoteTarget::Threat { alert_id, .. } => ("threat", "alert_id", alert_id),
                NoteTarget::Message {
                    network_message_id, ..
                } => ("message", "network_message_id", network_message_id),
            };
            let mut v = serde_json::json!({
                "tenant": a.target.tenant(),
                "kind": kind,
                id_key: id,
                "bookmarked": a.bookmarked,
                "note": a.note,
                "author": a.author,
                "created": format_ms(a.created_ms),
                "updated": format_ms(a.updated_ms),
                "about": n.about,
            });
            if let (Some(obj), Some(r)) = (v.as_object_mut(), AnnotationJson::from(a).recipient) {
                obj.insert("recipient".into(), r.into());
            }
            v
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap_or_else(|_| "[]".into())
}

use crate::terminal::{fit, width as cells};

/// `s` padded with spaces to `width` cells.
fn pad(s: &str, width: usize) -> String {
    format!("{s}{}", " ".repeat(width.saturating_sub(cells(s))))
}

/// The width of the table: the terminal's when stdout is one, else unlimited (full values).
fn table_width() -> Option<usize> {
    crate::terminal::stdout_width()
}

/// The table of `mailtrail notes`, in aligned columns. With `width` (a terminal's) each line
/// fits it: the tenant and author are cut first to a few cells, then the ID and the note share
/// what is left (`…` marks a cut; `--json` has the full values).
pub fn write_table(
    out: &mut dyn Write,
    notes: &[ListedNote],
    width: Option<usize>,
) -> std::io::Result<()> {
    if notes.is_empty() {
        return writeln!(
            out,
            "no bookmarks or notes yet (b and n in `mailtrail tui`, or `mailtrail notes add`)"
        );
    }
    const HEADER: [&str; 7] = ["UPDATED", "TENANT", "★", "KIND", "ID", "AUTHOR", "NOTE"];
    let mut rows: Vec<[String; 7]> = notes
        .iter()
        .map(|n| {
            let a = &n.annotation;
            let (kind, id) = match &a.target {
                NoteTarget::Threat { alert_id, .. } => ("threat", clean(alert_id)),
                NoteTarget::Message {
                    network_message_id,
                    recipient,
                    ..
                } => (
                    "message",
                    match recipient {
                        Some(r) => format!("{} to {}", clean(network_message_id), clean(r)),
                        None => clean(network_message_id),
                    },
                ),
            };
            let note = if a.note.is_empty() {
                "-".to_string()
            } else {
                clean(&a.note)
            };
            let about = match &n.about {
                Some(t) => clean(t),
                None => "not in the store".to_string(),
            };
            [
                format_ms(a.updated_ms),
                clean(a.target.tenant()),
                if a.bookmarked { "★" } else { " " }.to_string(),
                kind.to_string(),
                id,
                clean(a.author.as_deref().unwrap_or("-")),
                format!("{note}  [{about}]"),
            ]
        })
        .collect();
    let natural = |rows: &[[String; 7]]| -> Vec<usize> {
        (0..HEADER.len())
            .map(|i| {
                rows.iter()
                    .map(|r| cells(&r[i]))
                    .chain([cells(HEADER[i])])
                    .max()
                    .unwrap_or(0)
            })
            .collect()
    };
    let mut widths = natural(&rows);
    if let Some(limit) = width {
        // One space between columns (two after UPDATED).
        let gaps = HEADER.len();
        let total = |w: &[usize]| w.iter().sum::<usize>() + gaps;
        if total(&widths) > limit {
            // To the minute, still UTC: "2026-11-20 10:00".
            for r in &mut rows {
                if r[0].len() == 20 && r[0].ends_with('Z') {
                    r[0] = r[0][..16].replacen('T', " ", 1);
                }
            }
            widths = natural(&rows);
        }
        for (i, cap) in [(1, 8), (5, 8)] {
            if total(&widths) > limit {
                widths[i] = widths[i].min(cap);
            }
        }
        let fixed = total(&widths) - widths[4] - widths[6];
        let room = limit.saturating_sub(fixed);
        if widths[4] + widths[6] > room {
            // The ID gets up to half (at least its header), the note the rest.
            let id = widths[4].min((room / 2).max(cells(HEADER[4])));
            widths[6] = widths[6].min(room.saturating_sub(id));
            widths[4] = room.saturating_sub(widths[6]).max(cells(HEADER[4]));
        }
    }
    let last = HEADER.len() - 1;
    let line = |cols: [&str; 7]| -> String {
        let mut s = String::new();
        for (i, c) in cols.iter().enumerate() {
            let c = fit(c, widths[i]);
            if i == last {
                s.push_str(&c);
            } else {
                s.push_str(&pad(&c, widths[i]));
                s.push_str(if i == 0 { "  " } else { " " });
            }
        }
        s
    };
    writeln!(out, "{}", line(HEADER))?;
    for r in &rows {
        writeln!(out, "{}", line(r.each_ref().map(String::as_str)))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::notes::Annotation;

    fn listed(target: NoteTarget, note: &str, author: &str, about: Option<&str>) -> ListedNote {
        ListedNote {
            annotation: Annotation {
                target,
                bookmarked: true,
                note: note.into(),
                author: Some(author.into()),
                created_ms: 1_790_000_000_000,
                updated_ms: 1_790_000_000_000,
            },
            about: about.map(str::to_string),
        }
    }

    fn notes() -> Vec<ListedNote> {
        vec![
            listed(
                NoteTarget::Message {
                    tenant: "contoso-production".into(),
                    network_message_id: "5f0c2a4e-8b1d-4c6a-9e3f-7a2b1c0d9e8f".into(),
                    recipient: Some("kenji.zimmerman@contoso.com".into()),
                },
                "clicked the link before the ZAP, reset the password",
                "administrator",
                Some("Your mailbox is almost full"),
            ),
            listed(
                NoteTarget::Threat {
                    tenant: "contoso".into(),
                    alert_id: "da637845912345678901_-1234567890".into(),
                },
                "CEO wire fraud",
                "ana",
                None,
            ),
        ]
    }

    fn table(width: Option<usize>) -> String {
        let mut out = Vec::new();
        write_table(&mut out, &notes(), width).unwrap();
        String::from_utf8(out).unwrap()
    }

    /// The cell column where each header starts, and that every row has a value starting there.
    fn assert_aligned(table: &str) {
        let lines: Vec<&str> = table.lines().collect();
        for header in ["TENANT", "KIND", "ID", "AUTHOR", "NOTE"] {
            let at = cells(&lines[0][..lines[0].find(header).unwrap()]);
            for l in &lines[1..] {
                let before: String = l.chars().take(at).collect();
                assert_eq!(cells(&before), at, "{header} in\n{table}");
                assert!(before.ends_with(' '), "{header} in\n{table}");
                assert!(
                    !l.chars().nth(at).unwrap().is_whitespace(),
                    "{header} out of line in\n{table}"
                );
            }
        }
    }

    #[test]
    fn a_terminal_80_wide_gets_an_aligned_table_that_fits() {
        let t = table(Some(80));
        for l in t.lines() {
            assert!(cells(l) <= 80, "{} cells: {l}", cells(l));
        }
        assert_aligned(&t);
        assert!(t.contains('…'), "{t}");
        assert!(t.contains("2026-09-21 14:13 "), "{t}");
    }

    #[test]
    fn without_a_terminal_the_table_has_full_values_in_aligned_columns() {
        let t = table(None);
        assert_aligned(&t);
        assert!(!t.contains('…'), "{t}");
        assert!(t.contains(
            "5f0c2a4e-8b1d-4c6a-9e3f-7a2b1c0d9e8f to kenji.zimmerman@contoso.com administrator"
        ));
        assert!(t.contains(
            "clicked the link before the ZAP, reset the password  [Your mailbox is almost full]"
        ));
        assert!(t.contains("CEO wire fraud  [not in the store]"), "{t}");
    }
}
