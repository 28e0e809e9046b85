//! Campaigns (issue #7, item 5): suspicious messages that share a sender domain, a URL domain or
//! a normalised subject, close together in time. A campaign is a run of messages with the same
//! key where no two consecutive ones are more than the window apart; singletons are not
//! campaigns.
//!
//! Only messages that carry a threat type or are named by alert evidence are grouped (the
//! `triage_messages` summary kept by [`crate::triage::refresh`]), so clean bulk mail — a
//! newsletter to the whole company — never forms a campaign. Campaigns are listed by
//! recipients delivered, then recipients reached, then messages.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use chrono::Utc;
use rusqlite::{Connection, params};
use serde::Serialize;

use crate::Failure;
use crate::cli::{CampaignsArgs, GlobalOpts};
use crate::config::{self, LoadOptions};
use crate::store::Store;
use crate::terminal::{fit, width as cells};

/// What messages of a campaign have in common.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyType {
    SenderDomain,
    UrlDomain,
    Subject,
}

impl KeyType {
    /// As stored and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::SenderDomain => "sender_domain",
            KeyType::UrlDomain => "url_domain",
            KeyType::Subject => "subject",
        }
    }

    fn parse(s: &str) -> KeyType {
        match s {
            "sender_domain" => KeyType::SenderDomain,
            "url_domain" => KeyType::UrlDomain,
            _ => KeyType::Subject,
        }
    }

    /// The kind in a table's narrow first column.
    pub fn short(self) -> &'static str {
        match self {
            KeyType::SenderDomain => "from",
            KeyType::UrlDomain => "url",
            KeyType::Subject => "subj",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            KeyType::SenderDomain => "sender domain",
            KeyType::UrlDomain => "URL domain",
            KeyType::Subject => "subject",
        }
    }
}

/// One suspicious message, as summarised in `triage_messages`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Message {
    pub tenant: String,
    pub network_message_id: String,
    pub time_ms: i64,
    pub sender_domain: Option<String>,
    pub subject: Option<String>,
    pub subject_key: Option<String>,
    pub url_domain: Option<String>,
    pub recipients: Vec<String>,
    pub delivered: Vec<String>,
    pub alert_ids: Vec<String>,
}

/// One campaign.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Campaign {
    pub tenant: String,
    pub key_type: KeyType,
    pub key: String,
    pub first_seen_ms: i64,
    pub last_seen_ms: i64,
    pub messages: usize,
    /// Distinct recipients of its messages.
    pub recipients: usize,
    /// … of whom these got it delivered (inbox, or DeliveryAction Delivered).
    pub delivered: usize,
    /// Distinct alerts naming its messages.
    pub alerts: usize,
    /// The most frequent subject as sent.
    pub top_subject: Option<String>,
}

/// The campaign's key as a filter of the dashboard's syntax, over its time span. It lists
/// every message of the campaign; a URL domain's (`urlhost:`, the host exactly) lists no other
/// message of the evidence, while a sender domain's and a subject's also list the clean mail
/// of that domain or with those words in the span, which campaigns leave out (README,
/// "Campaigns").
pub fn filter_of(c: &Campaign) -> String {
    use crate::search::{Filter, Query, Term, TimeBound};
    let key = match c.key_type {
        KeyType::SenderDomain => Filter::Domain(c.key.clone()),
        KeyType::UrlDomain => Filter::UrlHost(c.key.clone()),
        // The longest stretch of the normalised subject without a collapsed number: text
        // that every message of the campaign contains.
        KeyType::Subject => Filter::Text(
            c.key
                .split('#')
                .map(str::trim)
                .max_by_key(|s| s.len())
                .filter(|s| !s.is_empty())
                .unwrap_or(&c.key)
                .to_string(),
        ),
    };
    let mut q = Query::of(key);
    // Whole seconds: the filter syntax writes times to the second.
    for filter in [
        Filter::Since(TimeBound::At(c.first_seen_ms.div_euclid(1000) * 1000)),
        Filter::Until(TimeBound::At((c.last_seen_ms.div_euclid(1000) + 1) * 1000)),
    ] {
        q.terms.push(Term {
            negated: false,
            filter,
        });
    }
    q.to_string()
}

/// A subject reduced to what stays the same across a campaign: lowercase, reply and forward
/// prefixes and `[EXTERNAL]` tags removed, every word with a digit (a number, a ticket or
/// invoice id, `#13530`) collapsed to a single `#` between the brackets and punctuation around
/// it, whitespace collapsed.
/// None when nothing is left.
pub fn normalise_subject(subject: &str) -> Option<String> {
    let mut s = subject.to_lowercase();
    loop {
        let t = s.trim_start();
        let stripped = [
            "re:",
            "fw:",
            "fwd:",
            "aw:",
            "wg:",
            "sv:",
            "[external]",
            "external:",
            "[ext]",
        ]
        .iter()
        .find_map(|p| t.strip_prefix(p));
        match stripped {
            Some(rest) => s = rest.to_string(),
            None => {
                s = t.to_string();
                break;
            }
        }
    }
    let words: Vec<String> = s
        .split_whitespace()
        .map(|w| {
            // A word with a digit is a number, a ticket, an invoice id: collapse it.
            if w.chars().any(|c| c.is_ascii_digit()) {
                // `#13530` is one `#`, not `##`.
                let edge = |c: &char| !c.is_alphanumeric() && *c != '#';
                let lead: String = w.chars().take_while(edge).collect();
                let trail: String = w
                    .chars()
                    .rev()
                    .take_while(edge)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                format!("{lead}#{trail}")
            } else {
                w.to_string()
            }
        })
        .collect();
    let out = words.join(" ");
    (!out.is_empty() && out.chars().any(char::is_alphabetic)).then_some(out)
}

/// Groups messages into campaigns: per tenant and key, runs whose consecutive messages are at
/// most `window_ms` apart; runs of fewer than `min_messages` (at least 2) are dropped.
pub fn group(messages: &[Message], window_ms: i64, min_messages: usize) -> Vec<Campaign> {
    let min_messages = min_messages.max(2);
    let mut by_key: HashMap<(&str, KeyType, &str), Vec<&Message>> = HashMap::new();
    for m in messages {
        let keys = [
            (KeyType::SenderDomain, m.sender_domain.as_deref()),
            (KeyType::UrlDomain, m.url_domain.as_deref()),
            (KeyType::Subject, m.subject_key.as_deref()),
        ];
        for (t, k) in keys {
            if let Some(k) = k.filter(|k| !k.is_empty()) {
                by_key.entry((m.tenant.as_str(), t, k)).or_default().push(m);
            }
        }
    }
    let mut out = Vec::new();
    for ((tenant, key_type, key), mut ms) in by_key {
        ms.sort_by_key(|m| (m.time_ms, m.network_message_id.as_str()));
        let mut start = 0;
        for i in 1..=ms.len() {
            if i == ms.len() || ms[i].time_ms - ms[i - 1].time_ms > window_ms {
                let run = &ms[start..i];
                if run.len() >= min_messages {
                    out.push(campaign(tenant, key_type, key, run));
                }
                start = i;
            }
        }
    }
    out.sort_by(|a, b| {
        (b.delivered, b.recipients, b.messages)
            .cmp(&(a.delivered, a.recipients, a.messages))
            .then_with(|| b.last_seen_ms.cmp(&a.last_seen_ms))
            .then_with(|| (a.key_type, &a.key, &a.tenant).cmp(&(b.key_type, &b.key, &b.tenant)))
    });
    out
}

fn campaign(tenant: &str, key_type: KeyType, key: &str, run: &[&Message]) -> Campaign {
    let distinct = |f: &dyn Fn(&Message) -> &Vec<String>| {
        run.iter()
            .flat_map(|m| f(m).iter())
            .collect::<BTreeSet<_>>()
            .len()
    };
    let mut subjects: HashMap<&str, usize> = HashMap::new();
    for m in run {
        if let Some(s) = m.subject.as_deref() {
            *subjects.entry(s).or_default() += 1;
        }
    }
    let top_subject = subjects
        .into_iter()
        .max_by(|a, b| a.1.cmp(&b.1).then_with(|| b.0.cmp(a.0)))
        .map(|(s, _)| s.to_string());
    Campaign {
        tenant: tenant.to_string(),
        key_type,
        key: key.to_string(),
        first_seen_ms: run.first().map_or(0, |m| m.time_ms),
        last_seen_ms: run.last().map_or(0, |m| m.time_ms),
        messages: run.len(),
        recipients: distinct(&|m| &m.recipients),
        delivered: distinct(&|m| &m.delivered),
        alerts: distinct(&|m| &m.alert_ids),
        top_subject,
    }
}

/// The suspicious messages of `[since_ms, until_ms)` from `triage_messages`.
pub fn messages(conn: &Connection, since_ms: i64, until_ms: i64) -> rusqlite::Result<Vec<Message>> {
    let mut stmt = conn.prepare_cached(
        "SELECT tenant, network_message_id, first_ms, sender_domain, subject, subject_key,
                url_domain, recipients, delivered, alert_ids
         FROM triage_messages WHERE first_ms >= ?1 AND first_ms < ?2",
    )?;
    let split = |s: String| -> Vec<String> {
        s.split('\n')
            .filter(|x| !x.is_empty())
            .map(str::to_string)
            .collect()
    };
    stmt.query_map(params![since_ms, until_ms], |r| {
        let subject: Option<String> = r.get(4)?;
        // Normalised again: a key stored by an older mailtrail must not split a campaign.
        let subject_key = match subject.as_deref() {
            Some(s) => normalise_subject(s),
            None => r.get(5)?,
        };
        Ok(Message {
            tenant: r.get(0)?,
            network_message_id: r.get(1)?,
            time_ms: r.get(2)?,
            sender_domain: r.get(3)?,
            subject,
            subject_key,
            url_domain: r.get(6)?,
            recipients: split(r.get(7)?),
            delivered: split(r.get(8)?),
            alert_ids: split(r.get(9)?),
        })
    })?
    .collect()
}

/// The campaigns of a period.
pub fn campaigns(
    store: &Store,
    since_ms: i64,
    until_ms: i64,
    window_ms: i64,
    min_messages: usize,
) -> Result<Vec<Campaign>, crate::store::StoreError> {
    let ms = messages(store.conn(), since_ms, until_ms).map_err(|e| store.err(e))?;
    Ok(group(&ms, window_ms, min_messages))
}

/// The dashboard's campaigns, as the last [`crate::triage::refresh`] left them.
pub fn dashboard_campaigns(store: &Store) -> Result<Vec<Campaign>, crate::store::StoreError> {
    let mut stmt = store
        .conn()
        .prepare_cached(
            "SELECT tenant, key_type, key, first_seen_ms, last_seen_ms, messages, recipients,
                    delivered, alerts, top_subject
             FROM triage_campaigns ORDER BY rank",
        )
        .map_err(|e| store.err(e))?;
    let rows = stmt
        .query_map([], |r| {
            Ok(Campaign {
                tenant: r.get(0)?,
                key_type: KeyType::parse(&r.get::<_, String>(1)?),
                key: r.get(2)?,
                first_seen_ms: r.get(3)?,
                last_seen_ms: r.get(4)?,
                messages: r.get::<_, i64>(5)? as usize,
                recipients: r.get::<_, i64>(6)? as usize,
                delivered: r.get::<_, i64>(7)? as usize,
                alerts: r.get::<_, i64>(8)? as usize,
                top_subject: r.get(9)?,
            })
        })
        .map_err(|e| store.err(e))?;
    rows.collect::<Result<_, _>>().map_err(|e| store.err(e))
}

/// `--min-messages`: a campaign is two or more messages.
pub fn parse_min_messages(v: &str) -> Result<u64, String> {
    match v.parse::<u64>() {
        Ok(n) if n >= 2 => Ok(n),
        Ok(_) => Err("at least 2 (a campaign is two or more messages)".into()),
        Err(_) => Err("a whole number, at least 2 (a campaign is two or more messages)".into()),
    }
}

/// The period of `--since`/`--until`, in the time forms of the filter's `since:`/`until:`.
fn period(args: &CampaignsArgs, now_ms: i64) -> Result<(i64, i64), Failure> {
    let bound = |flag: &str, v: &str| {
        crate::search::parse_time_bound(v)
            .map(|t| t.resolve(now_ms))
            .ok_or_else(|| {
                Failure::usage(format!(
                    "{flag} {v:?} is not a time; use a duration back from now (30m, 24h, 7d), \
                     an RFC 3339 time (2026-11-20T12:00:00Z) or a date (2026-11-20)"
                ))
            })
    };
    let since = bound("--since", &args.since)?;
    let until = match args.until.as_deref() {
        Some(v) => bound("--until", v)?,
        None => now_ms,
    };
    if since >= until {
        return Err(Failure::usage(match args.until {
            Some(_) => format!(
                "--since {} is not before --until {}: the period is empty",
                args.since,
                args.until.as_deref().unwrap_or_default()
            ),
            None => format!(
                "--since {} is not in the past: the period ends now unless --until is given",
                args.since
            ),
        }));
    }
    Ok((since, until))
}

/// `mailtrail campaigns`.
pub fn run(global: &GlobalOpts, args: &CampaignsArgs) -> Result<(), Failure> {
    let (since, until) = period(args, Utc::now().timestamp_millis())?;
    let window = crate::duration::parse_duration(&args.window)
        .map_err(|e| Failure::usage(format!("--window: {e}")))?;
    if window.is_zero() {
        return Err(Failure::usage("--window must be longer than 0, e.g. 24h"));
    }
    let cfg = config::load(&LoadOptions::from_process(global))?;
    let store = Store::open_read_only(&cfg.store.path)?;
    let mut list = campaigns(
        &store,
        since,
        until,
        i64::try_from(window.as_millis()).unwrap_or(i64::MAX / 2),
        usize::try_from(args.min_messages).unwrap_or(usize::MAX),
    )?;
    // 0: no limit, as `search --limit 0`.
    if let Some(n) = args.limit.filter(|n| *n > 0) {
        list.truncate(n);
    }
    let text = if args.json {
        let mut v = serde_json::to_vec_pretty(&list)
            .map_err(|e| Failure::runtime(format!("cannot encode the campaigns: {e}")))?;
        v.push(b'\n');
        v
    } else {
        // Fitted to a terminal; whole values for a pipe or a file.
        table(&list, crate::terminal::stdout_width()).into_bytes()
    };
    let mut out = std::io::stdout().lock();
    out.write_all(&text)
        .and_then(|()| out.flush())
        .map_err(|e| Failure::output("the campaigns", e))
}

/// `s` padded or cut (with `…`) to exactly `width` terminal cells.
fn cell(s: &str, width: usize) -> String {
    let s = fit(s, width);
    let pad = width.saturating_sub(cells(&s));
    format!("{s}{}", " ".repeat(pad))
}

/// The campaigns as a text table (strings cleaned for the terminal). `width`: the terminal's
/// columns — the table then fits them: the key, which tells campaigns apart, keeps its width
/// and the top subject takes what is left (no column when under 8 characters); every cut is
/// marked with `…`. None prints whole values.
pub fn table(list: &[Campaign], width: Option<usize>) -> String {
    use crate::store::sync::format_ms;
    use crate::terminal::clean;
    if list.is_empty() {
        return "no campaigns in this period (a campaign needs 2 or more suspicious messages sharing a key)\n".into();
    }
    let keys: Vec<String> = list.iter().map(|c| clean(&c.key)).collect();
    let subjects: Vec<String> = list
        .iter()
        .map(|c| clean(c.top_subject.as_deref().unwrap_or("-")))
        .collect();
    let longest = |v: &[String], header: &str| {
        v.iter()
            .map(|s| cells(s))
            .chain([cells(header)])
            .max()
            .unwrap_or(0)
    };
    let key_len = longest(&keys, "KEY");
    let subject_len = longest(&subjects, "TOP SUBJECT");
    let mut out = String::new();
    let Some(width) = width else {
        out.push_str(&format!(
            "{:<13} {} {:<19} {:<19} {:>8} {:>10} {:>9} {:>6}  TOP SUBJECT\n",
            "KEY TYPE",
            cell("KEY", key_len),
            "FIRST SEEN (UTC)",
            "LAST SEEN (UTC)",
            "MESSAGES",
            "RECIPIENTS",
            "DELIVERED",
            "ALERTS",
        ));
        for (c, (key, subject)) in list.iter().zip(keys.iter().zip(&subjects)) {
            let first: String = format_ms(c.first_seen_ms).chars().take(19).collect();
            let last: String = format_ms(c.last_seen_ms).chars().take(19).collect();
            out.push_str(&format!(
                "{:<13} {} {first:<19} {last:<19} {:>8} {:>10} {:>9} {:>6}  {subject}\n",
                c.key_type.label(),
                cell(key, key_len),
                c.messages,
                c.recipients,
                c.delivered,
                c.alerts,
            ));
        }
        return out;
    };
    // TYPE, LAST SEEN (MM-DD HH:MM), MSGS, RCPTS, DLVRD, ALRT and the spaces around KEY.
    const FIXED: usize = 4 + 1 + 1 + 11 + 1 + 4 + 1 + 5 + 1 + 5 + 1 + 4;
    // A top subject cut shorter than this says nothing: the column goes instead.
    const SUBJECT_MIN: usize = 8;
    let room = width.saturating_sub(FIXED);
    let key_w = key_len.min(room).max(12);
    let subject_w = match room.saturating_sub(key_w + 1) {
        w if w >= SUBJECT_MIN => Some(w.min(subject_len)),
        _ => None,
    };
    let subject_cell = |s: &str| subject_w.map_or(String::new(), |w| format!(" {}", fit(s, w)));
    out.push_str(&format!(
        "{:<4} {} {:<11} {:>4} {:>5} {:>5} {:>4}{}\n",
        "TYPE",
        cell("KEY", key_w),
        "LAST (UTC)",
        "MSGS",
        "RCPTS",
        "DLVRD",
        "ALRT",
        subject_cell("TOP SUBJECT"),
    ));
    for (c, (key, subject)) in list.iter().zip(keys.iter().zip(&subjects)) {
        let kind = c.key_type.short();
        // YYYY-MM-DDTHH:MM → MM-DD HH:MM
        let last: String = format_ms(c.last_seen_ms)
            .chars()
            .skip(5)
            .take(11)
            .map(|ch| if ch == 'T' { ' ' } else { ch })
            .collect();
        out.push_str(
            format!(
                "{kind:<4} {} {last:<11} {:>4} {:>5} {:>5} {:>4}{}",
                cell(key, key_w),
                c.messages,
                c.recipients,
                c.delivered,
                c.alerts,
                subject_cell(subject),
            )
            .trim_end(),
        );
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::triage::tests::{alert, event, put};
    use crate::triage::{Scope, refresh};

    #[test]
    fn subjects_are_normalised() {
        let n = |s: &str| normalise_subject(s);
        assert_eq!(
            n("RE: FW: [EXTERNAL] Invoice 48213 overdue"),
            Some("invoice # overdue".into())
        );
        assert_eq!(
            n("Fwd:   Invoice  INV-2026-0042   overdue "),
            Some("invoice # overdue".into())
        );
        assert_eq!(
            n("Your parcel (ref A1B2C3) is waiting"),
            Some("your parcel (ref #) is waiting".into())
        );
        assert_eq!(n("Re: 12345"), None, "nothing but a number is no key");
        // A word with a digit is a single `#`, as the README says: not `##`.
        assert_eq!(
            n("Action required: invoice #13530 payment failed"),
            Some("action required: invoice # payment failed".into())
        );
        assert_eq!(n("Ticket (#A-77)"), Some("ticket (#)".into()));
        assert_eq!(n("   "), None);
    }

    fn msg(
        id: &str,
        minute: i64,
        domain: &str,
        recipients: &[&str],
        delivered: &[&str],
    ) -> Message {
        Message {
            tenant: "t".into(),
            network_message_id: id.into(),
            time_ms: minute * 60_000,
            sender_domain: Some(domain.into()),
            subject: Some(format!("Invoice {id}")),
            subject_key: normalise_subject(&format!("Invoice {id}")),
            url_domain: None,
            recipients: recipients.iter().map(|s| s.to_string()).collect(),
            delivered: delivered.iter().map(|s| s.to_string()).collect(),
            alert_ids: Vec::new(),
        }
    }

    #[test]
    fn a_quiet_gap_longer_than_the_window_splits_a_campaign() {
        let ms = vec![
            msg("1", 0, "evil.test", &["a", "b"], &["a"]),
            msg("2", 50, "evil.test", &["b", "c"], &["b", "c"]),
            msg("3", 100, "evil.test", &["d"], &[]),
            // Three hours later: a new run, a singleton on its own.
            msg("4", 300, "evil.test", &["e"], &["e"]),
            msg("5", 10, "other.test", &["f"], &["f"]),
        ];
        let cs = group(&ms, 60 * 60_000, 2);
        let domains: Vec<_> = cs
            .iter()
            .filter(|c| c.key_type == KeyType::SenderDomain)
            .collect();
        assert_eq!(domains.len(), 1, "{cs:#?}");
        let c = domains[0];
        assert_eq!(
            (c.key.as_str(), c.messages, c.recipients, c.delivered),
            ("evil.test", 3, 4, 3)
        );
        assert_eq!((c.first_seen_ms, c.last_seen_ms), (0, 100 * 60_000));
        // Every message's subject normalises to "invoice #": one campaign in the window 60m…
        let subjects: Vec<_> = cs
            .iter()
            .filter(|c| c.key_type == KeyType::Subject)
            .collect();
        assert_eq!(subjects.len(), 1);
        assert_eq!(
            subjects[0].messages, 4,
            "messages 1, 5, 2, 3 (10-50 min apart)"
        );
        // … and none when at least 5 messages are asked for.
        assert!(group(&ms, 60 * 60_000, 5).is_empty());
        // The filter a pivot sets.
        assert_eq!(
            filter_of(c),
            "domain:evil.test since:1970-01-01T00:00:00Z until:1970-01-01T01:40:01Z"
        );
    }

    #[test]
    fn campaigns_group_stored_threat_mail_and_leave_clean_mail_out() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("t.db")).unwrap();
        let url = Some("https://pay.evil.test/x");
        put(
            &mut store,
            &[
                alert(
                    "a1",
                    "high",
                    "new",
                    &[("m1", "ann@c.test", "inbox", "none")],
                    url,
                ),
                alert(
                    "a2",
                    "high",
                    "new",
                    &[("m2", "bob@c.test", "quarantine", "none")],
                    url,
                ),
            ],
            &[
                event(
                    "m1",
                    "ann@c.test",
                    0,
                    "evil.test",
                    "RE: Invoice 1 overdue",
                    "Inbox/folder",
                    "Inbox/folder",
                    "",
                ),
                event(
                    "m2",
                    "bob@c.test",
                    20,
                    "evil.test",
                    "Invoice 2 overdue",
                    "Quarantine",
                    "Quarantine",
                    "Phish",
                ),
                event(
                    "m3",
                    "cat@c.test",
                    40,
                    "evil.test",
                    "Invoice 3 overdue",
                    "Inbox/folder",
                    "Inbox/folder",
                    "Phish",
                ),
                // Clean bulk mail from one sender: not suspicious, never a campaign.
                event(
                    "n1",
                    "ann@c.test",
                    1,
                    "news.test",
                    "Weekly news 1",
                    "Inbox/folder",
                    "Inbox/folder",
                    "",
                ),
                event(
                    "n2",
                    "bob@c.test",
                    2,
                    "news.test",
                    "Weekly news 2",
                    "Inbox/folder",
                    "Inbox/folder",
                    "",
                ),
            ],
        );
        refresh(&mut store, Scope::Changed).unwrap();
        let cs = campaigns(&store, 0, i64::MAX, 3_600_000, 2).unwrap();
        let keys: Vec<(KeyType, &str, usize, usize, usize, usize)> = cs
            .iter()
            .map(|c| {
                (
                    c.key_type,
                    c.key.as_str(),
                    c.messages,
                    c.recipients,
                    c.delivered,
                    c.alerts,
                )
            })
            .collect();
        assert_eq!(
            keys,
            vec![
                (KeyType::SenderDomain, "evil.test", 3, 3, 2, 2),
                (KeyType::Subject, "invoice # overdue", 3, 3, 2, 2),
                (KeyType::UrlDomain, "pay.evil.test", 2, 2, 1, 2),
            ]
        );
        assert_eq!(cs[0].top_subject.as_deref(), Some("Invoice 2 overdue"));
    }

    fn wide(key_type: KeyType, key: &str, subject: &str) -> Campaign {
        Campaign {
            tenant: "t".into(),
            key_type,
            key: key.into(),
            first_seen_ms: 1_700_000_000_000,
            last_seen_ms: 1_700_100_000_000,
            messages: 281,
            recipients: 1_234,
            delivered: 999,
            alerts: 321,
            top_subject: Some(subject.into()),
        }
    }

    #[test]
    fn the_table_fits_a_terminal_keeps_keys_whole_and_marks_every_cut() {
        let list = vec![
            wide(
                KeyType::UrlDomain,
                "verify.m365-account-alerts.example",
                "Microsoft 365: unusual sign-in activity on your account",
            ),
            wide(
                KeyType::Subject,
                "microsoft #: unusual sign-in activity",
                "Microsoft 365: unusual sign-in activity",
            ),
        ];
        for width in [80, 100, 120] {
            let text = table(&list, Some(width));
            for line in text.lines() {
                assert!(line.chars().count() <= width, "{width}: {line:?}");
            }
            assert!(
                text.contains("verify.m365-account-alerts.example "),
                "{text}"
            );
            assert!(
                text.contains("microsoft #: unusual sign-in activity "),
                "{text}"
            );
        }
        let text = table(&list, Some(100));
        assert!(text.contains("Microsoft 365: unusual…"), "{text}");
        // A key longer than the terminal is cut too, and says so.
        let long = "x".repeat(200);
        let text = table(&[wide(KeyType::SenderDomain, &long, "s")], Some(80));
        assert!(text.lines().all(|l| l.chars().count() <= 80), "{text}");
        assert!(text.contains("x…"), "{text}");
        // Wide characters take two cells each: the table still fits the terminal.
        let cjk = "請求書".repeat(30);
        let text = table(&[wide(KeyType::Subject, &cjk, &cjk)], Some(80));
        assert!(text.lines().all(|l| cells(l) <= 80), "{text}");
        // Not a terminal: whole values.
        let text = table(&list, None);
        assert!(text.contains("Microsoft 365: unusual sign-in activity on your account"));
        assert!(!text.contains('…'));
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }

    #[test]
    fn a_url_domain_campaign_pivots_on_the_exact_host() {
        let c = wide(
            KeyType::UrlDomain,
            "verify.m365-account-alerts.example",
            "s",
        );
        assert_eq!(
            filter_of(&c),
            "urlhost:verify.m365-account-alerts.example since:2023-11-14T22:13:20Z until:2023-11-16T02:00:01Z"
        );
    }
}
