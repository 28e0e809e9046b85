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
        None | Some(NotesAction::List) => return list(path, args.json),
        Some(NotesAction::Add(a)) => add(&mut open_writable(path)?, a)?,
        Some(NotesAction::Rm(t)) => remove(&mut open_writable(path)?, t)?,
    };
    if !global.quiet {
        println!("{line}");
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
        write_table(&mut out, &notes)
    };
    written.map_err(|e| Failure::runtime(format!("cannot write the list: {e}")))
}

/// The store for a write, which must exist already (a note needs something to be about).
fn open_writable(path: &Path) -> Result<Store, Failure> {
    if !path.exists() {
        return Err(Failure::usage(format!(
            "no store at {}; fix: run `mailtrail sync` (or `mailtrail demo`) first, or point --db at your store",
            path.display()
        )));
    }
    Ok(Store::open(path)?)
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
        NoteTarget::Message {
            tenant,
            network_message_id: nmid,
            recipient: t.recipient.clone(),
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
    let matches = |target: &NoteTarget| match target {
        NoteTarget::Threat { alert_id, .. } => kind == "threat" && *alert_id == id,
        NoteTarget::Message {
            network_message_id,
            recipient,
            ..
        } => kind == "message" && *network_message_id == id && *recipient == t.recipient,
    };
    let mut tenants: Vec<String> = store
        .list_notes()?
        .into_iter()
        .filter(|n| matches(&n.annotation.target))
        .map(|n| n.annotation.target.tenant().to_string())
        .collect();
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
    let target = if kind == "threat" {
        NoteTarget::Threat {
            tenant,
            alert_id: id,
        }
    } else {
        NoteTarget::Message {
            tenant,
            network_message_id: id,
            recipient: t.recipient.clone(),
        }
    };
    store.annotate(&target, &NoteChange::Remove, None)?;
    Ok(format!(
        "removed the bookmark and note of {}",
        what(&target)
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

fn write_table(out: &mut dyn Write, notes: &[ListedNote]) -> std::io::Result<()> {
    if notes.is_empty() {
        return writeln!(
            out,
            "no bookmarks or notes yet (b and n in `mailtrail tui`, or `mailtrail notes add`)"
        );
    }
    writeln!(
        out,
        "{:<20}  {:<12} {:<1} {:<7} {:<40} {:<12} NOTE",
        "UPDATED", "TENANT", "★", "KIND", "ID", "AUTHOR"
    )?;
    for n in notes {
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
        let about = match &n.about {
            Some(t) => format!("  [{}]", clean(t)),
            None => "  [not in the store]".to_string(),
        };
        writeln!(
            out,
            "{:<20}  {:<12} {:<1} {:<7} {:<40} {:<12} {}{about}",
            format_ms(a.updated_ms),
            clean(a.target.tenant()),
            if a.bookmarked { "★" } else { " " },
            kind,
            id,
            clean(a.author.as_deref().unwrap_or("-")),
            if a.note.is_empty() {
                "-".to_string()
            } else {
                clean(&a.note)
            },
        )?;
    }
    Ok(())
}
