//! Messages and their EmailEvents rows (GRAPH.md §5): one row per message × recipient.
//!
//! A message is generated in two layers. Its [`Sketch`] (time, ingestion lag, kind, direction,
//! delivery outcome, recipient count, hostility) costs a handful of hashes: the alert side walks
//! sketches to find the threat an alert is about, and the row iterator uses them to skip
//! invisible messages. The full [`Message`] (addresses, subject, verdict columns, URLs,
//! attachments) is built only for messages that are returned.
//!
//! Which messages are threats is fixed by position: in every block of [`BLOCK`] messages exactly
//! one (at a hashed offset) is phish, malware or impersonation, and threats of the same
//! [`CAMPAIGN_BLOCKS`] blocks share one campaign. That is what lets an alert find "its" message
//! in O(1) and keeps EmailEvents and alerts telling the same story.

use std::sync::Arc;

use serde_json::{Map, Value};

use super::people::Policy;
use super::ticks::{Fraction, MINUTE, SECOND, format_ticks};
use super::words::{self, HostileMail, PHISH_THEMES};
use super::{BLOCK, CAMPAIGN_BLOCKS, Dataset, stream};
use crate::simulator::rng::{Rng, hash};

/// The shortest ingestion lag: nothing younger than this is ever queryable.
pub const MIN_LAG: i64 = 30 * SECOND;

/// A column type as advanced hunting's schema names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    DateTime,
    String,
    Int32,
    Int64,
}

impl ColumnType {
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::DateTime => "DateTime",
            ColumnType::String => "String",
            ColumnType::Int32 => "Int32",
            ColumnType::Int64 => "Int64",
        }
    }
}

/// Every EmailEvents column (GRAPH.md §5), in the table's order. [`EmailEvent::cell`] takes an
/// index into this list.
pub const EMAIL_EVENTS_COLUMNS: &[(&str, ColumnType)] = &[
    ("Timestamp", ColumnType::DateTime),
    ("NetworkMessageId", ColumnType::String),
    ("InternetMessageId", ColumnType::String),
    ("SenderMailFromAddress", ColumnType::String),
    ("SenderFromAddress", ColumnType::String),
    ("SenderDisplayName", ColumnType::String),
    ("SenderObjectId", ColumnType::String),
    ("SenderMailFromDomain", ColumnType::String),
    ("SenderFromDomain", ColumnType::String),
    ("SenderIPv4", ColumnType::String),
    ("SenderIPv6", ColumnType::String),
    ("RecipientEmailAddress", ColumnType::String),
    ("RecipientObjectId", ColumnType::String),
    ("Subject", ColumnType::String),
    ("EmailClusterId", ColumnType::Int64),
    ("EmailDirection", ColumnType::String),
    ("DeliveryAction", ColumnType::String),
    ("DeliveryLocation", ColumnType::String),
    ("ThreatTypes", ColumnType::String),
    ("ThreatNames", ColumnType::String),
    ("DetectionMethods", ColumnType::String),
    ("ConfidenceLevel", ColumnType::String),
    ("BulkComplaintLevel", ColumnType::Int32),
    ("EmailAction", ColumnType::String),
    ("EmailActionPolicy", ColumnType::String),
    ("EmailActionPolicyGuid", ColumnType::String),
    ("AuthenticationDetails", ColumnType::String),
    ("AttachmentCount", ColumnType::Int32),
    ("UrlCount", ColumnType::Int32),
    ("EmailLanguage", ColumnType::String),
    ("Connectors", ColumnType::String),
    ("OrgLevelAction", ColumnType::String),
    ("OrgLevelPolicy", ColumnType::String),
    ("UserLevelAction", ColumnType::String),
    ("UserLevelPolicy", ColumnType::String),
    ("ReportId", ColumnType::String),
    ("AdditionalFields", ColumnType::String),
    ("LatestDeliveryLocation", ColumnType::String),
    ("LatestDeliveryAction", ColumnType::String),
];

/// One value of a row, borrowed from the row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cell<'a> {
    Null,
    Str(&'a str),
    Int(i64),
    /// Already formatted as advanced hunting writes it (7 fraction digits and `Z`).
    DateTime(&'a str),
}

/// The alert evidence's `(deliveryAction, deliveryLocation)` for an EmailEvents
/// `(DeliveryAction, DeliveryLocation)`: the two APIs spell the same facts differently.
pub fn evidence_delivery(action: &str, location: &str) -> (&'static str, &'static str) {
    let action = match action {
        "Delivered" => "delivered",
        "Junked" => "junked",
        "Blocked" => "blocked",
        "Replaced" => "replaced",
        _ => "unknownFutureValue",
    };
    let location = match location {
        "Inbox/folder" => "inbox",
        "Junk" => "junkFolder",
        "Quarantine" => "quarantine",
        "Failed" => "failed",
        "Dropped" => "dropped",
        "Deleted items" => "deletedFolder",
        "On-premises/external" => "external",
        _ => "unknownFutureValue",
    };
    (action, location)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Clean,
    Spam,
    Bulk,
    Phish,
    Malware,
    /// Business e-mail compromise: impersonation of a colleague, no link, no attachment.
    Bec,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
    IntraOrg,
}

impl Direction {
    fn column(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
            Direction::IntraOrg => "Intra-org",
        }
    }

    /// The alert evidence's `antiSpamDirection`.
    pub fn evidence(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
            Direction::IntraOrg => "intraorg",
        }
    }
}

/// Where a message went, and where it is now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Inbox,
    Junk,
    Quarantine,
    Dropped,
    Failed,
    /// Delivered, then moved to quarantine by zero-hour auto purge.
    Zapped,
    /// Delivered with the malicious attachment replaced.
    Replaced,
    DeletedItems,
    External,
    /// A DeliveryAction value no client has seen ("Quarantined2").
    Unknown,
}

impl Outcome {
    /// (DeliveryAction, DeliveryLocation, LatestDeliveryLocation, LatestDeliveryAction)
    fn columns(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Outcome::Inbox => ("Delivered", "Inbox/folder", "Inbox/folder", "Delivered"),
            Outcome::Junk => ("Junked", "Junk", "Junk", "Junked"),
            Outcome::Quarantine => ("Blocked", "Quarantine", "Quarantine", "Blocked"),
            Outcome::Dropped => ("Blocked", "Dropped", "Dropped", "Blocked"),
            Outcome::Failed => ("Blocked", "Failed", "Failed", "Blocked"),
            Outcome::Zapped => (
                "Delivered",
                "Inbox/folder",
                "Quarantine",
                "Moved to quarantine",
            ),
            Outcome::Replaced => ("Replaced", "Inbox/folder", "Inbox/folder", "Replaced"),
            Outcome::DeletedItems => ("Delivered", "Deleted items", "Deleted items", "Delivered"),
            Outcome::External => (
                "Delivered",
                "On-premises/external",
                "On-premises/external",
                "Delivered",
            ),
            Outcome::Unknown => ("Quarantined2", "Quarantine", "Quarantine", "Quarantined2"),
        }
    }
}

/// What is cheap to know about a message.
#[derive(Debug, Clone, Copy)]
pub struct Sketch {
    pub index: u64,
    pub ticks: i64,
    /// Time from `Timestamp` until the row is queryable.
    pub lag: i64,
    pub kind: Kind,
    pub direction: Direction,
    pub outcome: Outcome,
    /// A phish let through by a transport rule (OrgLevelAction Allow).
    pub etr_override: bool,
    pub recipients: u32,
    pub hostile: Option<HostileMail>,
}

/// A text column: absent values are sometimes `""` and sometimes null, as in real MDO data.
#[derive(Debug, Clone)]
pub enum Text {
    Null,
    Static(&'static str),
    Owned(String),
    Shared(Arc<str>),
}

impl Text {
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Null => None,
            Text::Static(s) => Some(s),
            Text::Owned(s) => Some(s),
            Text::Shared(s) => Some(s),
        }
    }

    fn cell(&self) -> Cell<'_> {
        self.as_str().map_or(Cell::Null, Cell::Str)
    }

    /// As a JSON value for alert evidence (null stays null).
    pub fn json(&self) -> Value {
        self.as_str()
            .map_or(Value::Null, |s| Value::String(s.to_string()))
    }
}

#[derive(Debug, Clone)]
pub struct Recipient {
    pub email: Arc<str>,
    pub object_id: Text,
    /// Index in the tenant's directory (None for external recipients of outbound mail).
    pub user: Option<usize>,
    pub report_id: String,
}

/// The malicious attachment of a malware campaign.
#[derive(Debug, Clone)]
pub struct Attachment {
    pub file_name: String,
    pub sha256: String,
    pub sha1: String,
    pub size: u64,
    pub family: &'static str,
    /// Defender's detection name (`ThreatNames`).
    pub detection: &'static str,
}

/// Everything about one message; every row of it is a view of this.
#[derive(Debug)]
pub struct Message {
    pub sketch: Sketch,
    pub timestamp: String,
    pub network_message_id: String,
    pub internet_message_id: String,
    pub mail_from: String,
    pub from: String,
    pub display_name: Text,
    pub sender_object_id: Text,
    pub mail_from_domain: String,
    pub from_domain: String,
    pub ipv4: Text,
    pub ipv6: Text,
    pub subject: Text,
    pub cluster_id: Option<i64>,
    pub delivery_action: &'static str,
    pub delivery_location: &'static str,
    pub threat_types: &'static str,
    pub threat_names: Text,
    /// The detection methods behind `DetectionMethods` (and the evidence's list).
    pub methods: &'static [&'static str],
    detection_methods: Text,
    confidence: Text,
    bulk_complaint_level: Option<i64>,
    email_action: Text,
    email_action_policy: Text,
    email_action_policy_guid: Text,
    authentication: Text,
    pub attachment_count: i64,
    pub url_count: i64,
    pub language: Text,
    connectors: Text,
    org_level_action: Text,
    org_level_policy: Text,
    user_level_action: Text,
    user_level_policy: Text,
    additional_fields: Text,
    latest_location: Text,
    latest_action: Text,
    pub recipients: Vec<Recipient>,
    /// The URLs in the body (threats only; other mail only has a count).
    pub urls: Vec<String>,
    pub attachment: Option<Attachment>,
    /// The index of the campaign this threat belongs to.
    pub campaign: u64,
}

/// One EmailEvents row: a message × one of its recipients. Cheap to clone; the message is shared.
#[derive(Debug, Clone)]
pub struct EmailEvent {
    message: Arc<Message>,
    recipient: usize,
}

impl EmailEvent {
    /// The value of column `column_index` of [`EMAIL_EVENTS_COLUMNS`] (Null past the end).
    pub fn cell(&self, column_index: usize) -> Cell<'_> {
        let m = &*self.message;
        let r = &m.recipients[self.recipient];
        match column_index {
            0 => Cell::DateTime(&m.timestamp),
            1 => Cell::Str(&m.network_message_id),
            2 => Cell::Str(&m.internet_message_id),
            3 => Cell::Str(&m.mail_from),
            4 => Cell::Str(&m.from),
            5 => m.display_name.cell(),
            6 => m.sender_object_id.cell(),
            7 => Cell::Str(&m.mail_from_domain),
            8 => Cell::Str(&m.from_domain),
            9 => m.ipv4.cell(),
            10 => m.ipv6.cell(),
            11 => Cell::Str(&r.email),
            12 => r.object_id.cell(),
            13 => m.subject.cell(),
            14 => m.cluster_id.map_or(Cell::Null, Cell::Int),
            15 => Cell::Str(m.sketch.direction.column()),
            16 => Cell::Str(m.delivery_action),
            17 => Cell::Str(m.delivery_location),
            18 => Cell::Str(m.threat_types),
            19 => m.threat_names.cell(),
            20 => m.detection_methods.cell(),
            21 => m.confidence.cell(),
            22 => m.bulk_complaint_level.map_or(Cell::Null, Cell::Int),
            23 => m.email_action.cell(),
            24 => m.email_action_policy.cell(),
            25 => m.email_action_policy_guid.cell(),
            26 => m.authentication.cell(),
            27 => Cell::Int(m.attachment_count),
            28 => Cell::Int(m.url_count),
            29 => m.language.cell(),
            30 => m.connectors.cell(),
            31 => m.org_level_action.cell(),
            32 => m.org_level_policy.cell(),
            33 => m.user_level_action.cell(),
            34 => m.user_level_policy.cell(),
            35 => Cell::Str(&r.report_id),
            36 => m.additional_fields.cell(),
            37 => m.latest_location.cell(),
            38 => m.latest_action.cell(),
            _ => Cell::Null,
        }
    }

    pub fn timestamp(&self) -> chrono::DateTime<chrono::Utc> {
        super::ticks::from_ticks(self.message.sketch.ticks)
    }

    pub fn network_message_id(&self) -> &str {
        &self.message.network_message_id
    }

    pub fn recipient(&self) -> &str {
        &self.message.recipients[self.recipient].email
    }

    /// The message's index on the data set's grid (the same for all its recipients).
    pub fn message_index(&self) -> u64 {
        self.message.sketch.index
    }

    /// The row as advanced hunting returns it: every column, nulls included.
    pub fn to_json(&self) -> Value {
        let mut row = Map::new();
        for (i, (name, _)) in EMAIL_EVENTS_COLUMNS.iter().enumerate() {
            let v = match self.cell(i) {
                Cell::Null => Value::Null,
                Cell::Str(s) | Cell::DateTime(s) => Value::String(s.to_string()),
                Cell::Int(n) => Value::from(n),
            };
            row.insert((*name).to_string(), v);
        }
        Value::Object(row)
    }
}

/// The rows of a message index range, skipping messages not queryable at `now`.
pub struct EmailEvents<'a> {
    dataset: &'a Dataset,
    next: u64,
    end: u64,
    now: i64,
    oldest: i64,
    current: Option<Arc<Message>>,
    recipient: usize,
}

impl<'a> EmailEvents<'a> {
    pub fn new(dataset: &'a Dataset, start: u64, end: u64, now: i64, oldest: i64) -> Self {
        EmailEvents {
            dataset,
            next: start,
            end,
            now,
            oldest,
            current: None,
            recipient: 0,
        }
    }
}

impl Iterator for EmailEvents<'_> {
    type Item = EmailEvent;

    fn next(&mut self) -> Option<EmailEvent> {
        loop {
            if let Some(message) = &self.current {
                if self.recipient < message.recipients.len() {
                    let row = EmailEvent {
                        message: message.clone(),
                        recipient: self.recipient,
                    };
                    self.recipient += 1;
                    return Some(row);
                }
                self.current = None;
            }
            if self.next >= self.end {
                return None;
            }
            let sketch = self.dataset.sketch(self.next);
            self.next += 1;
            if sketch.ticks < self.oldest || sketch.ticks.saturating_add(sketch.lag) > self.now {
                continue;
            }
            self.current = Some(Arc::new(self.dataset.message_of(sketch)));
            self.recipient = 0;
        }
    }
}

/// Documentation networks (RFC 5737): every sender address comes from one of these.
const DOC_NETS: &[&str] = &["203.0.113", "198.51.100", "192.0.2"];
/// Strides coprime with every directory size (200, 800, 2000), so a message's recipients are
/// distinct users.
const STRIDES: &[u64] = &[7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43];

/// A phishing campaign: one theme, one sender domain, one URL domain, one sending network.
#[derive(Debug)]
pub struct PhishCampaign {
    pub theme: &'static words::PhishTheme,
    pub domain: String,
    pub url_host: String,
    pub net: &'static str,
    pub mta: u64,
    pub k: u64,
}

/// A malware campaign: one family, one file, one sender domain.
#[derive(Debug)]
pub struct MalwareCampaign {
    pub family: &'static str,
    pub detection: &'static str,
    pub file_template: &'static str,
    pub subject: &'static str,
    pub domain: String,
    pub sha256: String,
    pub sha1: String,
    pub size: u64,
    pub net: &'static str,
}

/// `digits` lowercase hex digits drawn from `r`.
pub fn hex_of(r: &mut Rng, digits: usize) -> String {
    let mut s = String::with_capacity(digits);
    while s.len() < digits {
        let w = r.next_u64();
        for i in 0..16 {
            if s.len() == digits {
                break;
            }
            let nibble = ((w >> (i * 4)) & 0xf) as u32;
            s.push(char::from_digit(nibble, 16).unwrap_or('0'));
        }
    }
    s
}

/// Fills a subject or name template: `{n}` a 5-digit number, `{k}` a digit, `{q}` a quarter,
/// `{day}` a weekday, `{p}` a partner, `{org}`/`{Org}` the tenant's name.
fn fill(template: &str, n: u64, k: u64, partner: &str, org: &str, org_title: &str) -> String {
    if !template.contains('{') {
        return template.to_string();
    }
    template
        .replace("{n}", &n.to_string())
        .replace("{k}", &k.to_string())
        .replace("{q}", &(k % 4 + 1).to_string())
        .replace(
            "{day}",
            words::DAYS[(n % words::DAYS.len() as u64) as usize],
        )
        .replace("{p}", partner)
        .replace("{org}", org)
        .replace("{Org}", org_title)
}

/// "Fabrikam" for fabrikam.com.
fn company(domain: &str) -> String {
    let label = domain.split('.').next().unwrap_or(domain);
    label
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

struct Verdict {
    threat_types: &'static str,
    threat_names: Text,
    /// (category key, methods) for `DetectionMethods`; no category means "".
    category: Option<&'static str>,
    methods: &'static [&'static str],
    confidence: Text,
    bcl: Option<i64>,
    action: Text,
    policy: Option<Policy>,
    org_level: Option<(&'static str, &'static str)>,
    user_level: Option<(&'static str, &'static str)>,
}

impl Verdict {
    fn clean(confidence: Text) -> Verdict {
        Verdict {
            threat_types: "",
            threat_names: Text::Static(""),
            category: None,
            methods: &[],
            confidence,
            bcl: None,
            action: Text::Static(""),
            policy: None,
            org_level: None,
            user_level: None,
        }
    }
}

impl Dataset {
    /// Receipt time of message `m` (the same as its sketch's, without the other draws).
    pub(super) fn message_ticks(&self, m: u64) -> i64 {
        let mut r = Rng::new(self.spec.seed, &[stream::SKETCH, m]);
        self.mail.slot(m).0 + r.below(self.mail.step as u64) as i64
    }

    /// The threat message of block `b` (one per block, at a hashed offset).
    pub(super) fn threat_message(&self, block: u64) -> u64 {
        block * BLOCK + hash(self.spec.seed, &[stream::THREAT_SLOT, block]) % BLOCK
    }

    /// The `which`-th low-discrepancy sequence at `index` (a block or a message): uniform on
    /// [0, 1) like a draw, but any run of indices covers the interval evenly (Weyl sequences of
    /// irrational steps, each shifted by the seed).
    fn spread(&self, index: u64, which: usize) -> f64 {
        const STEPS: [f64; 5] = [
            0.414_213_562_373_095_1, // √2 − 1
            0.618_033_988_749_894_8, // φ − 1
            0.754_877_666_246_692_7, // 1 / plastic number
            0.732_050_807_568_877_3, // √3 − 1
            0.236_067_977_499_789_7, // √5 − 2
        ];
        (index as f64 * STEPS[which] + self.spread_offsets[which]).fract()
    }

    pub(super) fn network_message_id(&self, m: u64) -> String {
        let mut r = Rng::new(self.spec.seed, &[stream::NETWORK_MESSAGE_ID, m]);
        // Exchange's ids end in a time-ordered group starting with 08d…
        let g = r.guid();
        format!("{}08de{}", &g[..24], &g[28..])
    }

    fn hostile_variant(&self, m: u64, r: &mut Rng) -> Option<HostileMail> {
        if let Some((first, last)) = self.hostile_mail
            && (first..=last).contains(&m)
        {
            let all = words::HOSTILE_MAIL;
            return Some(all[((m - first) % all.len() as u64) as usize]);
        }
        r.chance(0.01).then(|| *r.pick(words::HOSTILE_MAIL))
    }

    pub(super) fn sketch(&self, m: u64) -> Sketch {
        let mut r = Rng::new(self.spec.seed, &[stream::SKETCH, m]);
        // The first draw is the jitter: `message_ticks` repeats it alone.
        let ticks = self.mail.slot(m).0 + r.below(self.mail.step as u64) as i64;
        let lag = if r.chance(0.05) {
            r.range(6 * MINUTE as u64, 12 * MINUTE as u64)
        } else {
            r.range(MIN_LAG as u64, 3 * MINUTE as u64)
        } as i64;
        let block = m / BLOCK;
        let threat = self.threat_message(block) == m;
        let roll = r.below(10_000);
        let newsletter = !threat && self.spread(m, 3) < 0.016 * 12.0 / 11.0;
        // Threat kinds and campaign sizes are spread evenly over blocks rather than drawn: a
        // few dozen phish to 8–40 recipients each make most of a small tenant's rows, and
        // independent draws would move its row count by ±5 % from seed to seed.
        let kind = match (threat, self.spread(block, 0)) {
            (true, u) if u < 0.59 => Kind::Phish,
            (true, u) if u < 0.825 => Kind::Malware,
            (true, _) => Kind::Bec,
            // Of the other 11/12 of mail: spam 12 %, bulk 8 % of all mail, the rest clean.
            // Newsletters to many recipients (1.6 % of all mail), evenly spaced as well.
            (false, _) if newsletter => Kind::Bulk,
            // Of the rest: spam 12 %, other bulk 6.4 % of all mail, the remainder clean.
            (false, _) if roll < 1_335 => Kind::Spam,
            (false, _) if roll < 2_046 => Kind::Bulk,
            (false, _) => Kind::Clean,
        };
        let roll = r.below(1_000);
        let direction = match (kind, roll) {
            (Kind::Clean, 0..600) => Direction::Inbound,
            (Kind::Clean, 600..800) => Direction::Outbound,
            (Kind::Clean, _) => Direction::IntraOrg,
            _ => Direction::Inbound,
        };
        let roll = r.below(1_000);
        let mut outcome = match (kind, direction) {
            (Kind::Clean, Direction::Outbound) => {
                if roll < 990 {
                    Outcome::External
                } else {
                    Outcome::Failed
                }
            }
            (Kind::Clean, Direction::IntraOrg) => Outcome::Inbox,
            (Kind::Clean, Direction::Inbound) => match roll {
                0..960 => Outcome::Inbox,
                960..975 => Outcome::Junk,
                975..985 => Outcome::DeletedItems,
                _ => Outcome::Failed,
            },
            (Kind::Spam, _) => match roll {
                0..780 => Outcome::Junk,
                780..950 => Outcome::Quarantine,
                _ => Outcome::Inbox,
            },
            (Kind::Bulk, _) => {
                if roll < 600 {
                    Outcome::Junk
                } else {
                    Outcome::Inbox
                }
            }
            (Kind::Phish, _) => match roll {
                0..330 => Outcome::Quarantine,
                330..480 => Outcome::Junk,
                480..800 => Outcome::Zapped,
                _ => Outcome::Inbox,
            },
            (Kind::Malware, _) => match roll {
                0..450 => Outcome::Quarantine,
                450..530 => Outcome::Dropped,
                530..730 => Outcome::Zapped,
                730..900 => Outcome::Replaced,
                _ => Outcome::Inbox,
            },
            (Kind::Bec, _) => match roll {
                0..330 => Outcome::Quarantine,
                330..580 => Outcome::Junk,
                _ => Outcome::Inbox,
            },
        };
        let etr_override = kind == Kind::Phish && outcome == Outcome::Inbox && r.chance(0.4);
        let few = |r: &mut Rng| {
            if r.chance(0.79) {
                1
            } else {
                r.range(2, 5) as u32
            }
        };
        let recipients = match kind {
            Kind::Phish if self.spread(block, 1) < 0.7 => 8 + (self.spread(block, 2) * 33.0) as u32,
            Kind::Bulk if newsletter => 8 + (self.spread(m, 4) * 33.0) as u32,
            _ if direction == Direction::Outbound => {
                if r.chance(0.8) {
                    1
                } else {
                    r.range(2, 3) as u32
                }
            }
            _ => few(&mut r),
        }
        .min(self.directory.users.len() as u32)
        .max(1);
        let hostile = self.hostile_variant(m, &mut r);
        if hostile == Some(HostileMail::UnknownDeliveryAction) {
            outcome = Outcome::Unknown;
        }
        Sketch {
            index: m,
            ticks,
            lag,
            kind,
            direction,
            outcome,
            etr_override,
            recipients,
            hostile,
        }
    }

    pub(super) fn phish_campaign(&self, campaign: u64) -> PhishCampaign {
        let mut r = Rng::new(self.spec.seed, &[stream::CAMPAIGN, campaign, 1]);
        let theme = r.pick(PHISH_THEMES);
        let suffix = r.pick(words::DOMAIN_SUFFIXES);
        let tld = r.pick(words::BAD_TLDS);
        let dir = &self.directory;
        let fill_org = |s: &str| {
            s.replace("{org}", &dir.org)
                .replace("{Org}", &dir.org_title)
        };
        let domain = format!("{}{suffix}.{tld}", fill_org(theme.domain));
        let url_tld = r.pick(words::BAD_TLDS);
        let url_host = format!("{}.{url_tld}", fill_org(theme.url_host));
        PhishCampaign {
            theme,
            domain,
            url_host,
            net: r.pick::<&str>(DOC_NETS),
            mta: r.range(1, 9),
            k: r.range(1, 9),
        }
    }

    pub(super) fn malware_campaign(&self, campaign: u64) -> MalwareCampaign {
        let mut r = Rng::new(self.spec.seed, &[stream::CAMPAIGN, campaign, 2]);
        let (family, detection, file_template, subject) = *r.pick(words::MALWARE);
        let word = r.pick(words::MALWARE_SENDER_WORDS);
        let partner = r
            .pick(words::PARTNER_DOMAINS)
            .split('.')
            .next()
            .unwrap_or("partner");
        let domain = format!("{partner}-{word}.{}", r.pick(words::BAD_TLDS));
        MalwareCampaign {
            family,
            detection,
            file_template,
            subject,
            domain,
            sha256: hex_of(&mut r, 64),
            sha1: hex_of(&mut r, 40),
            size: r.range(18_000, 2_400_000),
            net: r.pick::<&str>(DOC_NETS),
        }
    }

    /// The message of index `m`, in full.
    pub(super) fn message(&self, m: u64) -> Message {
        self.message_of(self.sketch(m))
    }

    pub(super) fn message_of(&self, sk: Sketch) -> Message {
        let m = sk.index;
        let seed = self.spec.seed;
        let dir = &self.directory;
        let mut r = Rng::new(seed, &[stream::MESSAGE, m]);
        let campaign = m / BLOCK / CAMPAIGN_BLOCKS;
        let n = r.range(10_000, 99_999);
        let k = r.range(1, 9);
        let partner_domain = *r.pick(words::PARTNER_DOMAINS);
        let partner = company(partner_domain);
        let timestamp = format_ticks(sk.ticks, Fraction::Seven);
        let day = sk.ticks / super::ticks::DAY;

        let ip = |r: &mut Rng, net: &str| Text::Owned(format!("{net}.{}", r.range(2, 254)));
        let ipv6 = |r: &mut Rng| match r.below(10) {
            0 => Text::Null,
            1 => Text::Owned(format!(
                "2001:db8:{:x}::{:x}",
                r.below(0xffff),
                r.range(1, 0xffff)
            )),
            _ => Text::Static(""),
        };

        // Sender, subject and language by kind.
        let mut urls = Vec::new();
        let mut attachment = None;
        let mut url_count = 0;
        let mut attachment_count = 0;
        let mut cluster_id = None;
        let (display, from, mail_from, sender_object_id, ipv4, subject, language);
        match sk.kind {
            Kind::Clean => {
                let (template, lang) = match sk.direction {
                    Direction::IntraOrg => *r.pick(words::INTERNAL_SUBJECTS),
                    _ => *r.pick(words::CLEAN_SUBJECTS),
                };
                subject = fill(template, n, k, &partner, &dir.org, &dir.org_title);
                language = lang;
                match sk.direction {
                    Direction::Inbound => {
                        let (fd, fl) = *r.pick(words::FIRST_NAMES);
                        let (ld, ll) = *r.pick(words::LAST_NAMES);
                        display = Text::Owned(format!("{fd} {ld}"));
                        from = format!("{fl}.{ll}@{partner_domain}");
                        mail_from = if r.chance(0.7) {
                            from.clone()
                        } else {
                            format!("bounces+{}@mail.{partner_domain}", r.range(1000, 9999))
                        };
                        sender_object_id = Text::Null;
                        let net = *r.pick(DOC_NETS);
                        ipv4 = ip(&mut r, net);
                    }
                    Direction::Outbound | Direction::IntraOrg => {
                        let u = &dir.users[r.below(dir.users.len() as u64) as usize];
                        display = Text::Shared(u.display.clone());
                        from = u.email.to_string();
                        mail_from = from.clone();
                        sender_object_id = Text::Shared(u.object_id.clone());
                        ipv4 = if sk.direction == Direction::Outbound {
                            ip(&mut r, "192.0.2")
                        } else if r.chance(0.5) {
                            Text::Static("")
                        } else {
                            Text::Null
                        };
                    }
                }
                url_count = if r.chance(0.4) {
                    r.range(1, 6) as i64
                } else {
                    0
                };
                attachment_count = if r.chance(0.25) {
                    r.range(1, 3) as i64
                } else {
                    0
                };
                cluster_id = r
                    .chance(0.6)
                    .then(|| r.range(100_000_000, 4_200_000_000) as i64);
            }
            Kind::Spam => {
                let (template, lang) = *r.pick(words::SPAM_SUBJECTS);
                subject = fill(template, n, k, &partner, &dir.org, &dir.org_title);
                language = lang;
                let word = r.pick(words::SPAM_WORDS);
                let domain = format!(
                    "{word}-{}{}.{}",
                    r.pick(words::SPAM_WORDS),
                    r.range(1, 99),
                    r.pick(words::BAD_TLDS)
                );
                display = if r.chance(0.3) {
                    Text::Static("")
                } else {
                    Text::Owned(format!("{} Team", company(&domain)))
                };
                from = format!("{word}@{domain}");
                mail_from = format!("{}@{domain}", hex_of(&mut r, 8));
                sender_object_id = Text::Null;
                let net = *r.pick(DOC_NETS);
                ipv4 = ip(&mut r, net);
                url_count = r.range(1, 12) as i64;
                cluster_id = Some(
                    (hash(
                        seed,
                        &[stream::CAMPAIGN, 3, template.len() as u64, day as u64],
                    ) % 4_000_000_000) as i64,
                );
            }
            Kind::Bulk => {
                let (name, local) = *r.pick(words::BULK_SENDERS);
                let topic = r.pick(words::BULK_TOPICS);
                let sender_domain = *r.pick(words::PARTNER_DOMAINS);
                subject = format!(
                    "{name}: {}",
                    fill(topic, n, k, &partner, &dir.org, &dir.org_title)
                );
                language = "en";
                display = Text::Static(name);
                from = format!("{local}@email.{sender_domain}");
                mail_from = format!("bounce-{}@em.{sender_domain}", r.range(100_000, 999_999));
                sender_object_id = Text::Null;
                let net = *r.pick(DOC_NETS);
                ipv4 = ip(&mut r, net);
                url_count = r.range(5, 40) as i64;
                cluster_id = Some(
                    (hash(seed, &[stream::CAMPAIGN, 4, name.len() as u64, day as u64])
                        % 4_000_000_000) as i64,
                );
            }
            Kind::Phish => {
                let c = self.phish_campaign(campaign);
                subject = fill(c.theme.subject, n, c.k, &partner, &dir.org, &dir.org_title);
                language = c.theme.language;
                display = Text::Owned(c.theme.display.replace("{Org}", &dir.org_title));
                from = format!("{}@{}", c.theme.local, c.domain);
                mail_from = format!("bounce-{}@mta{}.{}", r.range(1000, 9999), c.mta, c.domain);
                sender_object_id = Text::Null;
                ipv4 = ip(&mut r, c.net);
                let count = r.range(1, 3);
                urls = (0..count)
                    .map(|i| {
                        let path = c.theme.url_path.replace("{n}", &(n + i).to_string());
                        format!("https://{}{path}", c.url_host)
                    })
                    .collect();
                url_count = count as i64;
                cluster_id =
                    Some((hash(seed, &[stream::CAMPAIGN, campaign, 1]) % 4_000_000_000) as i64);
            }
            Kind::Malware => {
                let c = self.malware_campaign(campaign);
                subject = fill(c.subject, n, k, &partner, &dir.org, &dir.org_title);
                language = "en";
                display = Text::Owned(format!(
                    "{} {}",
                    company(&c.domain),
                    if r.chance(0.5) { "Accounts" } else { "Scanner" }
                ));
                from = format!(
                    "{}@{}",
                    if r.chance(0.5) { "scanner" } else { "accounts" },
                    c.domain
                );
                mail_from = from.clone();
                sender_object_id = Text::Null;
                ipv4 = ip(&mut r, c.net);
                attachment_count = r.range(1, 2) as i64;
                if r.chance(0.3) {
                    // A download link to the same payload, for recipients whose attachment is stripped.
                    urls.push(format!("https://files.{}/d/{n}", c.domain));
                    url_count = 1;
                }
                cluster_id =
                    Some((hash(seed, &[stream::CAMPAIGN, campaign, 2]) % 4_000_000_000) as i64);
                attachment = Some(Attachment {
                    file_name: c.file_template.replace("{n}", &n.to_string()),
                    sha256: c.sha256,
                    sha1: c.sha1,
                    size: c.size,
                    family: c.family,
                    detection: c.detection,
                });
            }
            Kind::Bec => {
                // The impersonated executive is one of the first users of the directory.
                let exec = &dir.users[r.below(dir.users.len().min(10) as u64) as usize];
                subject = fill(
                    r.pick::<&str>(words::BEC_SUBJECTS),
                    n,
                    k,
                    &partner,
                    &dir.org,
                    &dir.org_title,
                );
                language = "en";
                display = Text::Shared(exec.display.clone());
                let domain = if r.chance(0.75) {
                    r.pick(&dir.lookalikes).clone()
                } else {
                    format!("mail-box.{}", r.pick(words::BAD_TLDS))
                };
                from = format!("{}@{domain}", exec.local);
                mail_from = from.clone();
                sender_object_id = Text::Null;
                let net = *r.pick(DOC_NETS);
                ipv4 = ip(&mut r, net);
            }
        }
        let ipv6 = if sk.direction == Direction::IntraOrg {
            Text::Static("")
        } else {
            ipv6(&mut r)
        };

        let mut display = display;
        let mut subject = Text::Owned(subject);
        if let Some(h) = sk.hostile {
            if let Some(s) = h.subject(n) {
                subject = Text::Owned(s);
            }
            if let Some(d) = h.display_name() {
                display = Text::Static(d);
            }
        } else if r.chance(0.002) {
            // A message without a subject line at all.
            subject = Text::Null;
        }

        let domain_of = |addr: &str| {
            addr.rsplit_once('@')
                .map(|(_, d)| d.to_string())
                .unwrap_or_default()
        };
        let from_domain = domain_of(&from);
        let mail_from_domain = domain_of(&mail_from);
        let internet_message_id = match sk.direction {
            Direction::Inbound => {
                let compact: String = timestamp[..19]
                    .chars()
                    .filter(char::is_ascii_digit)
                    .collect();
                format!(
                    "<{compact}.{}@{mail_from_domain}>",
                    hex_of(&mut r, 10).to_ascii_uppercase()
                )
            }
            _ => {
                let host = format!(
                    "{}PR{:02}MB{}",
                    ["DM6", "BN8", "SA1", "CH3"][r.below(4) as usize],
                    r.range(10, 19),
                    r.range(1000, 9999)
                );
                format!(
                    "<{host}{}@{host}.namprd{:02}.prod.outlook.com>",
                    hex_of(&mut r, 24).to_ascii_uppercase(),
                    r.range(10, 19)
                )
            }
        };

        let v = self.verdict(&sk, &mut r, attachment.as_ref());
        let detection_methods = match v.category {
            Some(cat) => {
                let list: Vec<String> = v.methods.iter().map(|m| format!("\"{m}\"")).collect();
                Text::Owned(format!("{{\"{cat}\":[{}]}}", list.join(",")))
            }
            None if r.chance(0.1) => Text::Null,
            None => Text::Static(""),
        };
        let authentication = self.authentication(&sk, &mut r);
        let (delivery_action, delivery_location, latest_location, latest_action) =
            sk.outcome.columns();
        let (latest_location, latest_action) = if sk.outcome != Outcome::Zapped && r.chance(0.03) {
            (Text::Null, Text::Null)
        } else {
            (Text::Static(latest_location), Text::Static(latest_action))
        };
        let connectors = match sk.direction {
            Direction::Inbound if r.chance(0.08) => {
                Text::Static("Inbound from partner gateway (TLS)")
            }
            Direction::Outbound if r.chance(0.1) => Text::Static("Outbound to partners (TLS)"),
            _ => Text::Static(""),
        };
        let language = if r.chance(0.05) {
            Text::Static("")
        } else {
            Text::Static(language)
        };
        let additional_fields = if r.chance(0.05) {
            Text::Null
        } else {
            Text::Static("{}")
        };

        let network_message_id = self.network_message_id(m);
        let recipients = self.recipients(&sk, &network_message_id, &mut r);
        let (email_action_policy, email_action_policy_guid) = match v.policy {
            Some(p) => (Text::Static(p.name()), Text::Shared(dir.policy_guid(p))),
            None => (Text::Static(""), Text::Static("")),
        };
        let (org_level_action, org_level_policy) = v
            .org_level
            .map_or((Text::Static(""), Text::Static("")), |(a, p)| {
                (Text::Static(a), Text::Static(p))
            });
        let (user_level_action, user_level_policy) = v
            .user_level
            .map_or((Text::Static(""), Text::Static("")), |(a, p)| {
                (Text::Static(a), Text::Static(p))
            });

        Message {
            sketch: sk,
            timestamp,
            network_message_id,
            internet_message_id,
            mail_from,
            from,
            display_name: display,
            sender_object_id,
            mail_from_domain,
            from_domain,
            ipv4,
            ipv6,
            subject,
            cluster_id,
            delivery_action,
            delivery_location,
            threat_types: v.threat_types,
            threat_names: v.threat_names,
            methods: v.methods,
            detection_methods,
            confidence: v.confidence,
            bulk_complaint_level: v.bcl,
            email_action: v.action,
            email_action_policy,
            email_action_policy_guid,
            authentication,
            attachment_count,
            url_count,
            language,
            connectors,
            org_level_action,
            org_level_policy,
            user_level_action,
            user_level_policy,
            additional_fields,
            latest_location,
            latest_action,
            recipients,
            urls,
            attachment,
            campaign,
        }
    }

    fn recipients(&self, sk: &Sketch, network_message_id: &str, r: &mut Rng) -> Vec<Recipient> {
        let users = &self.directory.users;
        let nmid_hash = hash(self.spec.seed, &[stream::RECIPIENT, sk.index]);
        let report = |i: usize| format!("{network_message_id}-{nmid_hash}-{}", i + 1);
        if sk.direction == Direction::Outbound {
            return (0..sk.recipients as usize)
                .map(|i| {
                    let (_, fl) = *r.pick(words::FIRST_NAMES);
                    let (_, ll) = *r.pick(words::LAST_NAMES);
                    let domain = r.pick(words::PARTNER_DOMAINS);
                    Recipient {
                        // The index keeps addresses distinct within the message.
                        email: Arc::from(if i == 0 {
                            format!("{fl}.{ll}@{domain}")
                        } else {
                            format!("{fl}.{ll}{i}@{domain}")
                        }),
                        object_id: if r.chance(0.5) {
                            Text::Null
                        } else {
                            Text::Static("")
                        },
                        user: None,
                        report_id: report(i),
                    }
                })
                .collect();
        }
        let count = users.len() as u64;
        let start = r.below(count);
        let stride = *r.pick(STRIDES);
        (0..sk.recipients as usize)
            .map(|i| {
                let u = ((start + i as u64 * stride) % count) as usize;
                Recipient {
                    email: users[u].email.clone(),
                    object_id: Text::Shared(users[u].object_id.clone()),
                    user: Some(u),
                    report_id: report(i),
                }
            })
            .collect()
    }

    /// The verdict columns for a message's kind and outcome.
    fn verdict(&self, sk: &Sketch, r: &mut Rng, attachment: Option<&Attachment>) -> Verdict {
        let junk = Text::Static("Move message to junk mail folder");
        let quarantine = Text::Static("Send to quarantine");
        let spam_confidence = |scl: u64| Text::Owned(format!("{{\"Spam\":{scl}}}"));
        let outcome = if sk.outcome == Outcome::Unknown {
            Outcome::Quarantine
        } else {
            sk.outcome
        };
        match sk.kind {
            Kind::Clean => {
                let confidence = match sk.direction {
                    Direction::Inbound => Text::Static("{\"Phish\":null,\"Spam\":1}"),
                    _ if r.chance(0.5) => Text::Static("{\"Spam\":-1}"),
                    _ => Text::Null,
                };
                let mut v = Verdict::clean(confidence);
                if sk.direction == Direction::Inbound && r.chance(0.3) {
                    v.bcl = Some(r.range(0, 3) as i64);
                }
                if outcome == Outcome::Junk {
                    // A false positive: good mail filtered as spam.
                    v.threat_types = "Spam";
                    v.category = Some("Spam");
                    v.methods = &["Mixed analysis detection"];
                    v.confidence = spam_confidence(5);
                    v.action = junk;
                    v.policy = Some(Policy::Spam);
                } else if sk.direction == Direction::Inbound && r.chance(0.02) {
                    v.org_level = Some(("Allow", "Tenant Allow Block List"));
                }
                v
            }
            Kind::Spam => {
                let mut v = Verdict::clean(spam_confidence(5));
                v.threat_types = "Spam";
                v.category = Some("Spam");
                v.methods = *r.pick(&[
                    &["Mixed analysis detection"][..],
                    &["Fingerprint matching"],
                    &["Domain reputation"],
                    &["IP reputation", "Mixed analysis detection"],
                ]);
                match outcome {
                    Outcome::Quarantine => {
                        v.confidence = spam_confidence(9);
                        v.action = quarantine;
                        v.policy = Some(Policy::HighConfidenceSpam);
                    }
                    Outcome::Inbox => {
                        v.action = Text::Static("No action");
                        v.policy = Some(Policy::Spam);
                        v.user_level = Some(("Allow", "User Safe Senders list"));
                    }
                    _ => {
                        v.confidence = spam_confidence(r.range(5, 6));
                        v.action = junk;
                        v.policy = Some(Policy::Spam);
                    }
                }
                v
            }
            Kind::Bulk => {
                if outcome == Outcome::Junk {
                    let mut v = Verdict::clean(spam_confidence(6));
                    v.threat_types = "Spam";
                    v.category = Some("Spam");
                    v.methods = &["Bulk"];
                    v.bcl = Some(r.range(7, 9) as i64);
                    v.action = junk;
                    v.policy = Some(Policy::Bulk);
                    v
                } else {
                    let mut v = Verdict::clean(spam_confidence(1));
                    v.bcl = Some(r.range(4, 6) as i64);
                    v
                }
            }
            Kind::Phish => {
                let high = Text::Static("{\"Phish\":\"High\",\"Spam\":null}");
                let mut v = Verdict::clean(high);
                v.threat_types = if r.chance(0.2) {
                    "Phish, Spam"
                } else {
                    "Phish"
                };
                v.category = Some("Phish");
                v.methods = *r.pick(&[
                    &["URL detonation reputation"][..],
                    &["URL detonation reputation", "Spoof DMARC"],
                    &["URL malicious reputation"],
                    &["Advanced filter", "General filter"],
                ]);
                match outcome {
                    Outcome::Quarantine => {
                        v.action = quarantine;
                        v.policy = Some(Policy::HighConfidencePhishing);
                    }
                    Outcome::Junk => {
                        v.confidence = Text::Static("{\"Phish\":\"Low\",\"Spam\":5}");
                        v.action = junk;
                        v.policy = Some(Policy::Phishing);
                    }
                    // Nothing was done at delivery; zero-hour auto purge acted later.
                    Outcome::Zapped => {}
                    _ if sk.etr_override => {
                        v.action = Text::Static("No action");
                        v.policy = Some(Policy::Phishing);
                        v.org_level = Some(("Allow", "Transport rule"));
                    }
                    // Slipped through undetected: the ones that matter.
                    _ => {
                        v = Verdict::clean(Text::Static("{\"Phish\":null,\"Spam\":1}"));
                    }
                }
                v
            }
            Kind::Malware => {
                let mut v = Verdict::clean(Text::Static(""));
                v.threat_types = "Malware";
                v.threat_names = attachment.map_or(Text::Static(""), |a| Text::Static(a.detection));
                v.category = Some("Malware");
                v.methods = &["File detonation", "Antimalware protection"];
                match outcome {
                    Outcome::Quarantine => {
                        v.action = quarantine;
                        v.policy = Some(Policy::Antimalware);
                    }
                    Outcome::Dropped => {
                        v.action = Text::Static("Delete message");
                        v.policy = Some(Policy::Antimalware);
                    }
                    Outcome::Replaced => {
                        v.methods = &["File detonation"];
                        v.action = Text::Static("Replace attachment");
                        v.policy = Some(Policy::SafeAttachments);
                    }
                    Outcome::Zapped => v.methods = &["File detonation reputation"],
                    // Slipped through: nothing flagged it at delivery.
                    _ => v = Verdict::clean(Text::Static("")),
                }
                v
            }
            Kind::Bec => {
                let mut v = Verdict::clean(Text::Static("{\"Phish\":\"High\",\"Spam\":null}"));
                v.threat_types = "Phish";
                v.category = Some("Phish");
                v.methods = &["Impersonation user", "Mailbox intelligence impersonation"];
                match outcome {
                    Outcome::Quarantine => {
                        v.action = quarantine;
                        v.policy = Some(Policy::UserImpersonation);
                    }
                    Outcome::Junk => {
                        v.methods = &["Impersonation domain"];
                        v.confidence = Text::Static("{\"Phish\":\"Low\",\"Spam\":5}");
                        v.action = junk;
                        v.policy = Some(Policy::DomainImpersonation);
                    }
                    // Detected, but the policy only adds a safety tip.
                    _ => {
                        v.methods = &["Impersonation user"];
                        v.confidence = Text::Static("{\"Phish\":\"Low\",\"Spam\":null}");
                        v.action = Text::Static("No action");
                        v.policy = Some(Policy::UserImpersonation);
                    }
                }
                v
            }
        }
    }

    /// `AuthenticationDetails`: SPF/DKIM/DMARC/CompAuth verdicts as a JSON string.
    fn authentication(&self, sk: &Sketch, r: &mut Rng) -> Text {
        let pick = |r: &mut Rng, options: &[&'static str]| *r.pick(options);
        let (spf, dkim, dmarc, compauth) = match (sk.kind, sk.direction) {
            (_, Direction::Outbound) => return Text::Static(""),
            (_, Direction::IntraOrg) => return Text::Null,
            (Kind::Clean | Kind::Bulk, _) => (
                "pass",
                pick(r, &["pass", "pass", "pass", "none"]),
                pick(r, &["pass", "pass", "bestguesspass"]),
                "pass",
            ),
            (Kind::Spam, _) => (
                pick(r, &["pass", "softfail", "fail", "none"]),
                pick(r, &["none", "fail", "pass"]),
                pick(r, &["none", "fail"]),
                pick(r, &["fail", "softpass", "none"]),
            ),
            (Kind::Phish, _) => (
                pick(r, &["fail", "softfail", "pass"]),
                pick(r, &["none", "none", "fail"]),
                pick(r, &["fail", "none"]),
                "fail",
            ),
            (Kind::Malware, _) => (
                pick(r, &["pass", "softfail"]),
                pick(r, &["none", "pass"]),
                "none",
                pick(r, &["softpass", "fail"]),
            ),
            // A freshly registered look-alike domain passes everything.
            (Kind::Bec, _) => ("pass", "pass", "pass", "pass"),
        };
        Text::Owned(if r.chance(0.1) {
            format!("{{\"DKIM\":\"{dkim}\",\"DMARC\":\"{dmarc}\"}}")
        } else {
            format!(
                "{{\"SPF\":\"{spf}\",\"DKIM\":\"{dkim}\",\"DMARC\":\"{dmarc}\",\"CompAuth\":\"{compauth}\"}}"
            )
        })
    }
}
