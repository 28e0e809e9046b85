//! Alerts (alerts_v2, GRAPH.md §4): who raised them, what they are about, how they unfold.
//!
//! Alert `j` is created on its own arithmetic grid. About 80 % come from Defender for Office 365
//! and each of those is about one threat message received a little earlier: the alert looks
//! back a few blocks for a threat whose kind and delivery outcome fit one of the MDO alert
//! policies (a ZAPped phish, a malware campaign, an impersonation delivered to the inbox, …), so
//! its evidence repeats exactly what EmailEvents says about that message. The rest come from
//! other Defender services, with device, process, file, user and IP evidence.
//!
//! Each alert has up to three versions — `new`, `inProgress`, `resolved` — each visible through
//! Graph a few minutes after its `lastUpdateDateTime`; later versions add evidence, comments,
//! an assignee and finally a classification.

use serde_json::{Value, json};

use super::mail::{Kind, Message, Outcome, Sketch, Text, evidence_delivery, hex_of};
use super::ticks::{Fraction, MINUTE, SECOND, format_ticks, from_ticks};
use super::words::HOSTILE_COMMENT;
use super::{ALERT_MIN_DELAY, BLOCK, CAMPAIGN_BLOCKS, Dataset, stream};
use crate::simulator::rng::{Rng, hash};

pub const MDO_SERVICE_SOURCE: &str = "microsoftDefenderForOffice365";

/// What a list request needs to filter and sort an alert, without building its JSON.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertHead {
    pub index: u32,
    pub id: String,
    pub service_source: &'static str,
    pub created: chrono::DateTime<chrono::Utc>,
    pub last_update: chrono::DateTime<chrono::Utc>,
    pub status: &'static str,
    pub severity: &'static str,
    pub classification: Option<&'static str>,
    pub determination: Option<&'static str>,
    pub assigned_to: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Mdo,
    Mde,
    Mdi,
    Mdca,
    Dlp,
    AadIp,
}

impl Source {
    pub fn service(self) -> &'static str {
        match self {
            Source::Mdo => MDO_SERVICE_SOURCE,
            Source::Mde => "microsoftDefenderForEndpoint",
            Source::Mdi => "microsoftDefenderForIdentity",
            Source::Mdca => "microsoftDefenderForCloudApps",
            Source::Dlp => "dataLossPrevention",
            Source::AadIp => "azureAdIdentityProtection",
        }
    }

    fn detection(self) -> &'static str {
        match self {
            Source::Mdo => "microsoftDefenderForOffice365",
            Source::Mde => "microsoftDefenderForEndpoint",
            Source::Mdi => "microsoftDefenderForIdentity",
            Source::Mdca => "cloudAppSecurity",
            Source::Dlp => "microsoftDataLossPrevention",
            Source::AadIp => "azureAdIdentityProtection",
        }
    }

    fn product(self) -> &'static str {
        match self {
            Source::Mdo => "Microsoft Defender for Office 365",
            Source::Mde => "Microsoft Defender for Endpoint",
            Source::Mdi => "Microsoft Defender for Identity",
            Source::Mdca => "Microsoft Defender for Cloud Apps",
            Source::Dlp => "Microsoft Data Loss Prevention",
            Source::AadIp => "Microsoft Entra ID Protection",
        }
    }

    /// The two hex characters the portal puts before the provider's alert id.
    fn id_prefix(self) -> &'static str {
        match self {
            Source::Mdo => "fa",
            Source::Mde => "da",
            Source::Mdi => "aa",
            Source::Mdca => "ca",
            Source::Dlp => "dc",
            Source::AadIp => "ad",
        }
    }
}

/// An alert-raising rule and what its alerts say.
#[derive(Debug)]
pub struct Template {
    pub title: &'static str,
    description: &'static str,
    recommended: &'static str,
    category: &'static str,
    severity: &'static str,
    mitre: &'static [&'static str],
    detector_id: &'static str,
    /// The alert policy's id (MDO alerts come from alert policies).
    policy_id: Option<&'static str>,
    /// `determination` when resolved as a true positive.
    determination: &'static str,
}

const MDO_RECOMMENDED: &str = "Review the affected mailboxes and the sender. Block the sender domain and URLs in the Tenant Allow/Block List, and reset the credentials of any user who clicked or replied.";

macro_rules! template {
    ($title:expr, $desc:expr, $cat:expr, $sev:expr, $mitre:expr, $det:expr, $policy:expr, $determination:expr) => {
        Template {
            title: $title,
            description: $desc,
            recommended: MDO_RECOMMENDED,
            category: $cat,
            severity: $sev,
            mitre: $mitre,
            detector_id: $det,
            policy_id: $policy,
            determination: $determination,
        }
    };
}

const URL_ZAP: Template = template!(
    "Email messages containing malicious URL removed after delivery",
    "Emails with a malicious URL that were delivered and later removed by zero-hour auto purge (ZAP).",
    "InitialAccess",
    "medium",
    &["T1566.002"],
    "6e1d5a8f-0c7b-4d2e-9a3f-5b8c1e7d4a20",
    Some("2c7e4b9a-1f3d-4c8e-a6b5-9d0e1f2a3b4c"),
    "phishing"
);
const PHISH_ZAP: Template = template!(
    "Email messages containing phish URLs removed after delivery",
    "Emails with phish URLs that were delivered and later removed by zero-hour auto purge (ZAP).",
    "InitialAccess",
    "medium",
    &["T1566.002"],
    "8e6ba277-747b-4a53-a9d8-b67f5e2d8e3e",
    Some("3d8f5c0b-2a4e-4d9f-b7c6-0e1f2a3b4c5d"),
    "phishing"
);
const CAMPAIGN_ZAP: Template = template!(
    "Email messages from a campaign removed after delivery",
    "Messages that are part of a phishing campaign were delivered and later removed by zero-hour auto purge (ZAP).",
    "InitialAccess",
    "medium",
    &["T1566.002"],
    "0f2b6d3e-8a1c-4e7f-9b5d-2c4a6e8f0b1d",
    Some("4e9a6d1c-3b5f-4ea0-c8d7-1f2a3b4c5d6e"),
    "phishing"
);
const FILE_ZAP: Template = template!(
    "Email messages containing malicious file removed after delivery",
    "Emails with a malicious attachment that were delivered and later removed by zero-hour auto purge (ZAP).",
    "InitialAccess",
    "medium",
    &["T1566.001"],
    "1a3c5e7f-9b2d-4f6a-8c0e-3d5f7a9b1c2e",
    Some("5fab7e2d-4c6a-4fb1-d9e8-2a3b4c5d6e7f"),
    "malware"
);
const MALWARE_ZAP: Template = template!(
    "Email messages containing malware removed after delivery",
    "Emails containing malware were delivered and later removed by zero-hour auto purge (ZAP).",
    "InitialAccess",
    "informational",
    &["T1566.001"],
    "2b4d6f8a-0c3e-4a7b-9d1f-4e6a8c0d2e3f",
    Some("6abc8f3e-5d7b-4ac2-e0f9-3b4c5d6e7f8a"),
    "malware"
);
const MALWARE_CAMPAIGN: Template = template!(
    "Malware campaign detected after delivery",
    "A malware campaign was detected after its messages were delivered to mailboxes in the organization.",
    "InitialAccess",
    "high",
    &["T1566.001", "T1204.002"],
    "3c5e7a9b-1d4f-4b8c-ae2a-5f7b9d1e3f4a",
    Some("7bcd9a4f-6e8c-4bd3-f1a0-4c5d6e7f8a9b"),
    "malware"
);
const MALWARE_BLOCKED: Template = template!(
    "Malware campaign detected and blocked",
    "Messages of a malware campaign were detected and blocked before delivery.",
    "InitialAccess",
    "low",
    &["T1566.001"],
    "4d6f8b0c-2e5a-4c9d-bf3b-6a8c0e2f4a5b",
    Some("8cdeab5a-7f9d-4ce4-a2b1-5d6e7f8a9b0c"),
    "malware"
);
const URL_CLICK: Template = template!(
    "A potentially malicious URL click was detected",
    "A user clicked a URL in an email that was later identified as malicious.",
    "InitialAccess",
    "high",
    &["T1566.002", "T1204.001"],
    "5e7a9c1d-3f6b-4dae-8c4c-7b9d1f3a5b6c",
    Some("9defbc6b-8a0e-4df5-b3c2-6e7f8a9b0c1d"),
    "phishing"
);
const USER_REPORTED: Template = template!(
    "Email reported by user as malware or phish",
    "A user reported an email as malware or phish.",
    "InitialAccess",
    "low",
    &["T1566"],
    "6f8bad2e-4a7c-4ebf-9d5d-8c0e2a4b6c7d",
    Some("aef0cd7c-9b1f-4e06-c4d3-7f8a9b0c1d2e"),
    "phishing"
);
const IMPERSONATION: Template = template!(
    "User impersonation phish delivered to inbox",
    "An email impersonating a user of the organization was delivered to a mailbox.",
    "InitialAccess",
    "medium",
    &["T1534"],
    "7a9cbe3f-5b8d-4fc0-ae6e-9d1f3b5c7d8e",
    Some("bf01de8d-ac2a-4f17-d5e4-8a9b0c1d2e3f"),
    "phishing"
);
const ETR_OVERRIDE: Template = template!(
    "Phish delivered due to an ETR override",
    "A phishing email was delivered because a mail flow (transport) rule allowed it.",
    "InitialAccess",
    "medium",
    &["T1566.002"],
    "8badcf4a-6c9e-40d1-bf7f-ae2a4c6d8e9f",
    Some("c012ef9e-bd3b-4028-e6f5-9b0c1d2e3f4a"),
    "phishing"
);
const NOT_REMOVED: Template = template!(
    "Messages containing malicious entity not removed after delivery",
    "Emails with a malicious URL or file were delivered and could not be removed.",
    "InitialAccess",
    "medium",
    &["T1566"],
    "9cbed05b-7daf-41e2-8a0a-bf3b5d7e9fa0",
    Some("d123f0af-ce4c-4139-f7a6-0c1d2e3f4a5b"),
    "phishing"
);
const MANUAL_INVESTIGATION: Template = template!(
    "Admin triggered manual investigation of email",
    "An administrator started an automated investigation of an email message.",
    "InitialAccess",
    "informational",
    &[],
    "adcfe16c-8eb0-42f3-9b1b-c04c6e8fa0b1",
    Some("e2340ab0-df5d-424a-a8b7-1d2e3f4a5b6c"),
    "other"
);

/// The MDO alerts that fit a threat message, by kind and what happened to it.
fn mdo_templates(sk: &Sketch) -> &'static [&'static Template] {
    match (sk.kind, sk.outcome) {
        (Kind::Phish, Outcome::Zapped) => &[&URL_ZAP, &PHISH_ZAP, &CAMPAIGN_ZAP, &URL_CLICK],
        (Kind::Phish, Outcome::Inbox) if sk.etr_override => {
            &[&ETR_OVERRIDE, &URL_CLICK, &USER_REPORTED]
        }
        (Kind::Phish, Outcome::Inbox) => &[&NOT_REMOVED, &URL_CLICK, &USER_REPORTED],
        (Kind::Phish | Kind::Bec, Outcome::Junk) => &[&USER_REPORTED],
        (Kind::Malware, Outcome::Zapped) => &[&FILE_ZAP, &MALWARE_ZAP, &MALWARE_CAMPAIGN],
        (Kind::Malware, Outcome::Replaced) => &[&MALWARE_CAMPAIGN],
        (Kind::Malware, Outcome::Inbox) => &[&NOT_REMOVED, &MALWARE_CAMPAIGN, &USER_REPORTED],
        (Kind::Malware, Outcome::Quarantine | Outcome::Dropped) => &[&MALWARE_BLOCKED],
        (Kind::Bec, Outcome::Inbox) => &[&IMPERSONATION, &USER_REPORTED],
        _ => &[],
    }
}

/// Non-email alerts: (source, template, what the evidence is about).
#[derive(Debug)]
struct OtherAlert {
    source: Source,
    template: Template,
    /// (image, command line, parent image) for endpoint alerts.
    process: Option<(&'static str, &'static str, &'static str)>,
    /// A file the alert is about (name, folder).
    file: Option<(&'static str, &'static str)>,
}

macro_rules! other {
    ($source:expr, $title:expr, $desc:expr, $rec:expr, $cat:expr, $sev:expr, $mitre:expr, $det:expr, $determination:expr, $process:expr, $file:expr) => {
        OtherAlert {
            source: $source,
            template: Template {
                title: $title,
                description: $desc,
                recommended: $rec,
                category: $cat,
                severity: $sev,
                mitre: $mitre,
                detector_id: $det,
                policy_id: None,
                determination: $determination,
            },
            process: $process,
            file: $file,
        }
    };
}

static OTHER_ALERTS: &[OtherAlert] = &[
    other!(
        Source::Mde,
        "Suspicious PowerShell command line",
        "A PowerShell process ran an encoded command often used to download and run code.",
        "Isolate the device, review the command line and the process tree.",
        "Execution",
        "medium",
        &["T1059.001"],
        "b1d3f5a7-9c2e-4b6d-8f0a-1c3e5a7b9d2f",
        "malware",
        Some((
            "powershell.exe",
            "powershell.exe -NoProfile -WindowStyle Hidden -EncodedCommand SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQA",
            "winword.exe"
        )),
        Some((
            "powershell.exe",
            "C:\\Windows\\System32\\WindowsPowerShell\\v1.0"
        ))
    ),
    other!(
        Source::Mde,
        "'Mimikatz' credential theft tool",
        "The Mimikatz credential theft tool was detected on the device.",
        "Isolate the device and reset the credentials of every account that signed in to it.",
        "CredentialAccess",
        "high",
        &["T1003.001"],
        "c2e4a6b8-0d3f-4c7e-9a1b-2d4f6b8c0e3a",
        "malware",
        Some((
            "mimikatz.exe",
            "mimikatz.exe \"privilege::debug\" \"sekurlsa::logonpasswords\" exit",
            "cmd.exe"
        )),
        Some(("mimikatz.exe", "C:\\Users\\Public\\Downloads"))
    ),
    other!(
        Source::Mde,
        "Ransomware behavior detected in the file system",
        "A process renamed and encrypted many files in a short time.",
        "Isolate the device immediately and restore the affected files from backup.",
        "Impact",
        "high",
        &["T1486"],
        "d3f5b7c9-1e4a-4d8f-ab2c-3e5a7c9d1f4b",
        "malware",
        Some((
            "svchost32.exe",
            "svchost32.exe -k encrypt --path C:\\Shares",
            "explorer.exe"
        )),
        Some(("svchost32.exe", "C:\\ProgramData\\Temp"))
    ),
    other!(
        Source::Mdi,
        "Suspected DCSync attack (replication of directory services)",
        "A non-domain-controller requested directory replication.",
        "Find the source computer and the account, and check whether the request was legitimate.",
        "CredentialAccess",
        "high",
        &["T1003.006"],
        "e4a6c8d0-2f5b-4e9a-bc3d-4f6b8d0e2a5c",
        "maliciousUserActivity",
        None,
        None
    ),
    other!(
        Source::Mdi,
        "Suspected brute-force attack (Kerberos, NTLM)",
        "Many authentication failures were seen for several accounts from one device.",
        "Reset the passwords of the targeted accounts and block the source.",
        "CredentialAccess",
        "medium",
        &["T1110"],
        "f5b7d9e1-3a6c-4fab-8d4e-5a7c9e1f3b6d",
        "compromisedAccount",
        None,
        None
    ),
    other!(
        Source::Mdca,
        "Impossible travel activity",
        "The same user signed in from two distant places in a time too short to travel between them.",
        "Confirm with the user, and revoke the sessions if the activity is not theirs.",
        "InitialAccess",
        "medium",
        &["T1078"],
        "a6c8e0f2-4b7d-40bc-9e5f-6b8d0f2a4c7e",
        "compromisedAccount",
        None,
        None
    ),
    other!(
        Source::Mdca,
        "Mass download by a single user",
        "A user downloaded an unusual number of files in a short time.",
        "Review the downloaded files and the user's recent activity.",
        "Exfiltration",
        "medium",
        &["T1530"],
        "b7d9f1a3-5c8e-41cd-af6a-7c9e1a3b5d8f",
        "maliciousUserActivity",
        None,
        Some(("Customer list 2026.xlsx", "/personal/shared"))
    ),
    other!(
        Source::Dlp,
        "DLP policy (U.S. Financial Data) matched for document in OneDrive",
        "A document with credit card numbers was shared outside the organization.",
        "Review the document and the sharing, and remove external access if needed.",
        "Exfiltration",
        "low",
        &[],
        "c8e0a2b4-6d9f-42de-ba7b-8d0f2b4c6e9a",
        "other",
        None,
        Some(("Q3 payouts.xlsx", "/personal/finance/Documents"))
    ),
    other!(
        Source::AadIp,
        "Unfamiliar sign-in properties",
        "A sign-in with properties not seen recently for this user.",
        "Confirm with the user; require a password reset if the sign-in is not theirs.",
        "InitialAccess",
        "medium",
        &["T1078"],
        "d9f1b3c5-7e0a-43ef-8b8c-9e1a3c5d7f0b",
        "compromisedAccount",
        None,
        None
    ),
    other!(
        Source::AadIp,
        "Password spray",
        "Many accounts were tried with a few common passwords from the same source.",
        "Block the source and enforce multifactor authentication for the targeted accounts.",
        "CredentialAccess",
        "high",
        &["T1110.003"],
        "e0a2c4d6-8f1b-44f0-9c9d-af2b4d6e8a1c",
        "compromisedAccount",
        None,
        None
    ),
];

/// An alert with values a client has not seen before or free text a terminal may choke on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileAlert {
    UnknownSeverity,
    UnseenSeverity,
    UnknownStatus,
    HostileComment,
    UnseenDetectionSource,
}

pub const HOSTILE_ALERTS: &[HostileAlert] = &[
    HostileAlert::UnknownSeverity,
    HostileAlert::UnseenSeverity,
    HostileAlert::UnknownStatus,
    HostileAlert::HostileComment,
    HostileAlert::UnseenDetectionSource,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Resolution {
    TruePositive,
    FalsePositive,
    Informational,
}

/// What the alert is about.
#[derive(Debug, Clone, Copy)]
enum Subject {
    /// An MDO alert: the message index and the rule that fired.
    Message(u64, &'static Template),
    /// Another service's alert: the rule and the user it concerns.
    Other(&'static OtherAlert, usize),
}

/// Everything about an alert that is cheap to know: enough for [`AlertHead`].
#[derive(Debug, Clone)]
pub struct AlertPlan {
    index: u32,
    source: Source,
    subject: Subject,
    pub(super) created: i64,
    /// lastUpdateDateTime of each version.
    pub(super) times: [i64; 3],
    /// When each version becomes visible through Graph.
    visible: [i64; 3],
    pub(super) versions: usize,
    resolution: Resolution,
    hostile: Option<HostileAlert>,
    /// The analyst who takes the alert; `None` is the automated investigation.
    analyst: Option<usize>,
}

impl AlertPlan {
    /// The latest version visible at `now` (`None`: the alert is not visible yet).
    pub fn version_at(&self, now: i64) -> Option<usize> {
        (0..self.versions).rev().find(|&v| self.visible[v] <= now)
    }

    fn template(&self) -> &'static Template {
        match self.subject {
            Subject::Message(_, t) => t,
            Subject::Other(o, _) => &o.template,
        }
    }

    fn status(&self, v: usize) -> &'static str {
        if self.hostile == Some(HostileAlert::UnknownStatus) {
            return "unknownFutureValue";
        }
        ["new", "inProgress", "resolved"][v]
    }

    fn severity(&self) -> &'static str {
        match self.hostile {
            Some(HostileAlert::UnknownSeverity) => "unknownFutureValue",
            Some(HostileAlert::UnseenSeverity) => "critical",
            _ => self.template().severity,
        }
    }

    fn classification(&self, v: usize) -> Option<&'static str> {
        (v == 2).then_some(match self.resolution {
            Resolution::TruePositive => "truePositive",
            Resolution::FalsePositive => "falsePositive",
            Resolution::Informational => "informationalExpectedActivity",
        })
    }

    fn determination(&self, v: usize) -> Option<&'static str> {
        (v == 2).then_some(match self.resolution {
            Resolution::TruePositive => self.template().determination,
            Resolution::FalsePositive => "notMalicious",
            // Phish simulations and red-team exercises.
            Resolution::Informational if self.source == Source::Mdo => "securityTesting",
            Resolution::Informational => "confirmedActivity",
        })
    }
}

/// Round `t` down to a coarser precision (10 ms, 1 ms or none) as Graph's dates vary, unless
/// that would go below `floor` (which keeps the grid's ordering).
fn coarsen(t: i64, precision: u64, floor: i64) -> i64 {
    let unit = match precision {
        0 => 1,
        1 => 100_000,
        _ => 10_000,
    };
    let rounded = t - t.rem_euclid(unit);
    if rounded >= floor { rounded } else { t }
}

/// A GUID-shaped lowercase string from two words, written without the formatter: this runs for
/// every alert on every list request.
fn guid(a: u64, b: u64) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let digits = [
        (a >> 32, 8),
        ((a >> 16) & 0xffff, 4),
        (0x4000 | (a & 0xfff), 4),
        (((b >> 48) & 0x3fff) | 0x8000, 4),
        (b & 0xffff_ffff_ffff, 12),
    ];
    let mut s = String::with_capacity(38);
    for (i, (v, n)) in digits.into_iter().enumerate() {
        if i > 0 {
            s.push('-');
        }
        for k in (0..n).rev() {
            s.push(HEX[((v >> (4 * k)) & 0xf) as usize] as char);
        }
    }
    s
}

impl Dataset {
    pub(super) fn alert_plan(&self, j: u32) -> AlertPlan {
        let seed = self.spec.seed;
        let mut r = Rng::new(seed, &[stream::ALERT, u64::from(j)]);
        let (slot_start, slot_end) = self.alert_slot(j);
        let precision = r.below(3);
        let created = coarsen(
            slot_start + r.below((slot_end - slot_start) as u64) as i64,
            precision,
            slot_start,
        );
        let guaranteed = self
            .hostile_alerts
            .filter(|(first, last)| (*first..=*last).contains(&j))
            .map(|(first, _)| HOSTILE_ALERTS[(j - first) as usize]);
        let roll = r.below(1000);
        let source = match roll {
            _ if guaranteed.is_some() => Source::Mdo,
            0..800 => Source::Mdo,
            800..880 => Source::Mde,
            880..910 => Source::Mdi,
            910..940 => Source::Mdca,
            940..970 => Source::Dlp,
            _ => Source::AadIp,
        };
        let random_hostile = r.chance(0.01);
        let hostile = guaranteed.or_else(|| random_hostile.then(|| *r.pick(HOSTILE_ALERTS)));
        // A tenth move fast, so that a live demo shows updates within minutes.
        let fast = r.chance(0.10) || guaranteed.is_some();
        let mut versions = match r.below(100) {
            0..40 => 1,
            40..70 => 2,
            _ => 3,
        };
        if guaranteed.is_some() {
            versions = versions.max(2);
        }
        let precision = r.below(3);
        let v0 = coarsen(
            created + r.range(0, 90 * SECOND as u64) as i64,
            precision,
            created,
        );
        let precision = r.below(3);
        let v1 = if fast {
            r.range(2 * MINUTE as u64, 10 * MINUTE as u64)
        } else {
            r.range(10 * MINUTE as u64, 360 * MINUTE as u64)
        };
        let v1 = coarsen(created + v1 as i64, precision, v0 + 1);
        let precision = r.below(3);
        let v2 = if fast {
            r.range(5 * MINUTE as u64, 20 * MINUTE as u64)
        } else {
            r.range(60 * MINUTE as u64, 3 * 24 * 60 * MINUTE as u64)
        };
        let v2 = coarsen(v1 + v2 as i64, precision, v1 + 1);
        let times = [v0, v1, v2];
        let visible = times.map(|t| t + r.range(MINUTE as u64, 5 * MINUTE as u64) as i64);
        let resolution = match r.below(100) {
            0..75 => Resolution::TruePositive,
            75..90 => Resolution::FalsePositive,
            _ => Resolution::Informational,
        };
        let analyst = (!r.chance(0.25)).then(|| r.below(4) as usize);
        let subject = match source {
            Source::Mdo => self.mdo_subject(created, &mut r),
            _ => {
                let of_source = || OTHER_ALERTS.iter().filter(|o| o.source == source);
                let pick = r.below(of_source().count() as u64) as usize;
                let other = of_source()
                    .nth(pick)
                    .expect("every other source has an alert template");
                Subject::Other(other, r.below(self.directory.users.len() as u64) as usize)
            }
        };
        AlertPlan {
            index: j,
            source,
            subject,
            created,
            times,
            visible,
            versions,
            resolution,
            hostile,
            analyst,
        }
    }

    /// The threat message an MDO alert created at `created` is about: the nearest threat a few
    /// blocks back whose kind and outcome some alert policy fires on.
    fn mdo_subject(&self, created: i64, r: &mut Rng) -> Subject {
        let block_span = BLOCK as i64 * self.mail.step;
        // Every message of blocks ≤ `last` is received before `created − ALERT_MIN_DELAY`;
        // the alert grid starts late enough that `last ≥ 3`.
        let last = ((created - self.mail.t0 - ALERT_MIN_DELAY) / block_span - 1).max(0) as u64;
        let start = last.saturating_sub(r.below(3));
        let pick = r.next_u64();
        for back in 0..6 {
            let Some(block) = start.checked_sub(back) else {
                break;
            };
            let m = self.threat_message(block);
            let options = mdo_templates(&self.sketch(m));
            if !options.is_empty() {
                return Subject::Message(m, options[(pick % options.len() as u64) as usize]);
            }
        }
        Subject::Message(self.threat_message(start), &MANUAL_INVESTIGATION)
    }

    fn provider_alert_id(&self, j: u32) -> String {
        let h = hash(self.spec.seed, &[stream::ALERT_ID, u64::from(j)]);
        guid(h, hash(h, &[1]))
    }

    fn alert_id(&self, plan: &AlertPlan) -> String {
        let mut id = String::with_capacity(40);
        id.push_str(plan.source.id_prefix());
        id.push_str(&self.provider_alert_id(plan.index));
        id
    }

    fn assigned_to(&self, plan: &AlertPlan, v: usize) -> Option<String> {
        (v >= 1).then(|| match plan.analyst {
            Some(a) => self.directory.analyst(a, &self.spec.tenant_domain).1,
            None => "Automation".to_string(),
        })
    }

    pub(super) fn head_of(&self, plan: &AlertPlan, v: usize) -> AlertHead {
        AlertHead {
            index: plan.index,
            id: self.alert_id(plan),
            service_source: plan.source.service(),
            created: from_ticks(plan.created),
            last_update: from_ticks(plan.times[v]),
            status: plan.status(v),
            severity: plan.severity(),
            classification: plan.classification(v),
            determination: plan.determination(v),
            assigned_to: self.assigned_to(plan, v),
        }
    }

    fn incident_id(&self, plan: &AlertPlan) -> String {
        // Alerts about the same message land in the same incident.
        match plan.subject {
            Subject::Message(m, _) => (100_000 + m).to_string(),
            Subject::Other(..) => (100_000 + self.mail.count + u64::from(plan.index)).to_string(),
        }
    }

    pub(super) fn alert_object(&self, plan: &AlertPlan, v: usize) -> Value {
        let mut r = Rng::new(
            self.spec.seed,
            &[stream::ALERT_DETAIL, u64::from(plan.index)],
        );
        let template = plan.template();
        let id = self.alert_id(plan);
        let tenant = &self.spec.tenant_id;
        let incident = self.incident_id(plan);
        let t = |ticks: i64| format_ticks(ticks, Fraction::Trimmed);

        let mut comments = Vec::new();
        let analyst = plan
            .analyst
            .map(|a| self.directory.analyst(a, &self.spec.tenant_domain).0);
        let commenter = analyst.unwrap_or("Automation");
        if v >= 1 {
            let text = if plan.hostile == Some(HostileAlert::HostileComment) {
                HOSTILE_COMMENT.to_string()
            } else {
                format!(
                    "Triage started by {commenter}: checking recipients, clicks and similar messages."
                )
            };
            comments.push(json!({
                "comment": text,
                "createdByDisplayName": commenter,
                "createdDateTime": t(plan.times[1]),
            }));
        }
        if v == 2 {
            comments.push(json!({
                "comment": format!(
                    "Resolved as {}: {}.",
                    plan.classification(2).unwrap_or_default(),
                    plan.determination(2).unwrap_or_default()
                ),
                "createdByDisplayName": commenter,
                "createdDateTime": t(plan.times[2]),
            }));
        }

        let story = match plan.subject {
            Subject::Message(m, _) => self.mdo_story(plan, v, m, &mut r),
            Subject::Other(o, user) => self.other_story(plan, v, o, user, &mut r),
        };
        let investigation_state = match (plan.hostile, v, plan.resolution) {
            (Some(HostileAlert::UnseenDetectionSource), ..) => "unknownFutureValue",
            (_, 0, _) => "queued",
            (_, 1, _) => "running",
            (_, _, Resolution::TruePositive) => "successfullyRemediated",
            _ => "benign",
        };
        let detection_source = if plan.hostile == Some(HostileAlert::UnseenDetectionSource) {
            "microsoftDefenderForOffice365Preview"
        } else {
            plan.source.detection()
        };
        let system_tags: Vec<&str> = if r.chance(0.05) {
            vec!["Defender Experts"]
        } else {
            vec![]
        };

        json!({
            "@odata.type": "#microsoft.graph.security.alert",
            "id": id,
            "providerAlertId": self.provider_alert_id(plan.index),
            "incidentId": incident,
            "status": plan.status(v),
            "severity": plan.severity(),
            "classification": plan.classification(v),
            "determination": plan.determination(v),
            "serviceSource": plan.source.service(),
            "detectionSource": detection_source,
            "productName": plan.source.product(),
            "detectorId": template.detector_id,
            "tenantId": tenant,
            "title": template.title,
            "description": template.description,
            "recommendedActions": template.recommended,
            "category": template.category,
            "assignedTo": self.assigned_to(plan, v),
            "alertWebUrl": format!("https://security.microsoft.com/alerts/{id}?tid={tenant}"),
            "incidentWebUrl": format!("https://security.microsoft.com/incidents/{incident}?tid={tenant}"),
            "actorDisplayName": story.actor,
            "threatDisplayName": story.threat,
            "threatFamilyName": story.threat,
            "mitreTechniques": template.mitre,
            "createdDateTime": t(plan.created),
            "lastUpdateDateTime": t(plan.times[v]),
            "resolvedDateTime": (v == 2).then(|| t(plan.times[2])),
            "firstActivityDateTime": t(story.first_activity),
            "lastActivityDateTime": t(story.last_activity),
            "comments": comments,
            "evidence": story.evidence,
            "systemTags": system_tags,
            "alertPolicyId": template.policy_id,
            "additionalData": if r.chance(0.5) { Value::Null } else { json!({}) },
            "investigationState": investigation_state,
            "customDetails": {},
        })
    }

    fn user_account(&self, user: usize) -> Value {
        let u = &self.directory.users[user];
        json!({
            "accountName": &*u.local,
            "azureAdUserId": &*u.object_id,
            "displayName": &*u.display,
            "domainName": self.directory.netbios,
            "userPrincipalName": &*u.email,
            "userSid": self.directory.user_sid(user),
        })
    }

    /// The fields every evidence type carries.
    fn evidence_base(
        &self,
        kind: &str,
        created: i64,
        verdict: &str,
        remediation: &str,
        roles: &[&str],
    ) -> serde_json::Map<String, Value> {
        let mut e = serde_json::Map::new();
        e.insert(
            "@odata.type".into(),
            json!(format!("#microsoft.graph.security.{kind}")),
        );
        e.insert(
            "createdDateTime".into(),
            json!(format_ticks(created, Fraction::Trimmed)),
        );
        e.insert("verdict".into(), json!(verdict));
        e.insert("remediationStatus".into(), json!(remediation));
        e.insert("remediationStatusDetails".into(), json!(""));
        e.insert("roles".into(), json!(roles));
        e.insert("detailedRoles".into(), json!([]));
        e.insert("tags".into(), json!([]));
        e
    }

    fn with(mut base: serde_json::Map<String, Value>, fields: Value) -> Value {
        if let Value::Object(f) = fields {
            base.extend(f);
        }
        Value::Object(base)
    }

    fn user_evidence(&self, user: usize, created: i64, verdict: &str, roles: &[&str]) -> Value {
        Self::with(
            self.evidence_base("userEvidence", created, verdict, "none", roles),
            json!({ "userAccount": self.user_account(user) }),
        )
    }

    fn ip_evidence(&self, ip: &str, created: i64, verdict: &str) -> Value {
        const COUNTRIES: &[&str] = &["US", "NL", "DE", "BR", "NG", "RU", "CN", "IN", "GB", "VN"];
        let country = COUNTRIES[(hash(
            self.spec.seed,
            &[
                ip.len() as u64,
                ip.bytes()
                    .fold(0u64, |a, b| a.wrapping_mul(31).wrapping_add(u64::from(b))),
            ],
        ) % COUNTRIES.len() as u64) as usize];
        Self::with(
            self.evidence_base("ipEvidence", created, verdict, "none", &["attacker"]),
            json!({ "ipAddress": ip, "countryLetterCode": country }),
        )
    }

    /// An MDO alert's evidence, told from its message.
    fn mdo_story(&self, plan: &AlertPlan, v: usize, m: u64, r: &mut Rng) -> Story {
        let msg = self.message(m);
        let sk = msg.sketch;
        let benign = v == 2 && plan.resolution != Resolution::TruePositive;
        let verdict = match (benign, sk.kind) {
            (true, _) => "noThreatsFound",
            (false, Kind::Bec) => "suspicious",
            (false, _) => "malicious",
        };
        let base_remediation = match sk.outcome {
            Outcome::Zapped => "remediated",
            Outcome::Quarantine
            | Outcome::Dropped
            | Outcome::Failed
            | Outcome::Replaced
            | Outcome::Unknown => "prevented",
            _ => "none",
        };
        let remediation = if v == 2 && !benign && base_remediation == "none" {
            "remediated"
        } else {
            base_remediation
        };
        let (action, location) = evidence_delivery(msg.delivery_action, msg.delivery_location);
        let threats: Vec<&str> = match sk.kind {
            Kind::Malware => vec!["Malware"],
            _ if msg.threat_types.contains("Spam") => vec!["Phish", "Spam"],
            _ => vec!["Phish"],
        };
        let methods: Vec<&str> = if msg.methods.is_empty() {
            match sk.kind {
                Kind::Malware => vec!["File detonation reputation"],
                _ => vec!["URL detonation reputation"],
            }
        } else {
            msg.methods.to_vec()
        };
        let received = format_ticks(sk.ticks, Fraction::Trimmed);
        let first_created = plan.created + r.range(0, SECOND as u64) as i64;
        let sender = |display: &Text, domain: &str, address: &str| json!({ "displayName": display.json(), "domainName": domain, "emailAddress": address });
        let p1 = sender(&msg.display_name, &msg.mail_from_domain, &msg.mail_from);
        let p2 = sender(&msg.display_name, &msg.from_domain, &msg.from);
        let mut evidence: Vec<Value> = msg
            .recipients
            .iter()
            .take(10)
            .enumerate()
            .map(|(i, rcpt)| {
                Self::with(
                    self.evidence_base("analyzedMessageEvidence", first_created, verdict, remediation, &[]),
                    json!({
                        "networkMessageId": msg.network_message_id,
                        "internetMessageId": msg.internet_message_id,
                        "subject": msg.subject.json(),
                        "language": msg.language.json(),
                        "senderIp": msg.ipv4.as_str().unwrap_or(""),
                        "recipientEmailAddress": &*rcpt.email,
                        "antiSpamDirection": sk.direction.evidence(),
                        "deliveryAction": action,
                        "deliveryLocation": location,
                        "urn": format!("urn:MailEntity:{:016x}{:016x}", hash(self.spec.seed, &[m, 1]), hash(self.spec.seed, &[m, 2, i as u64])),
                        "threats": threats,
                        "threatDetectionMethods": methods,
                        "urls": msg.urls,
                        "urlCount": msg.url_count,
                        "attachmentsCount": msg.attachment_count,
                        "receivedDateTime": received,
                        "p1Sender": p1,
                        "p2Sender": p2,
                    }),
                )
            })
            .collect();

        let mut last_activity = sk.ticks;
        if v >= 1 {
            let at = plan.times[1] + r.range(0, 30 * SECOND as u64) as i64;
            let users: Vec<usize> = msg.recipients.iter().filter_map(|x| x.user).collect();
            for &u in users.iter().take(3) {
                let user = &self.directory.users[u];
                evidence.push(Self::with(
                    self.evidence_base(
                        "mailboxEvidence",
                        at,
                        if benign {
                            "noThreatsFound"
                        } else {
                            "suspicious"
                        },
                        "none",
                        &["destination"],
                    ),
                    json!({
                        "displayName": &*user.display,
                        "primaryAddress": &*user.email,
                        "upn": &*user.email,
                        "userAccount": self.user_account(u),
                    }),
                ));
            }
            if let Some(&u) = users.first() {
                evidence.push(self.user_evidence(
                    u,
                    at,
                    if benign {
                        "noThreatsFound"
                    } else {
                        "suspicious"
                    },
                    &["contextual"],
                ));
            }
            for url in msg.urls.iter().take(3) {
                evidence.push(Self::with(
                    self.evidence_base("urlEvidence", at, verdict, remediation, &["contextual"]),
                    json!({ "url": url }),
                ));
            }
            if let Some(ip) = msg.ipv4.as_str().filter(|s| !s.is_empty()) {
                evidence.push(self.ip_evidence(ip, at, verdict));
            }
            if matches!(sk.kind, Kind::Phish | Kind::Malware) {
                let (cluster, last) =
                    self.mail_cluster(&msg, plan.times[1], at, verdict, remediation);
                evidence.push(cluster);
                last_activity = last;
            }
            if let Some(a) = &msg.attachment {
                let status = match sk.outcome {
                    Outcome::Quarantine | Outcome::Dropped | Outcome::Unknown => "blocked",
                    Outcome::Replaced => "prevented",
                    _ => "detected",
                };
                evidence.push(Self::with(
                    self.evidence_base("fileEvidence", at, verdict, remediation, &["contextual"]),
                    json!({
                        "detectionStatus": status,
                        "fileDetails": {
                            "sha1": a.sha1,
                            "sha256": a.sha256,
                            "fileName": a.file_name,
                            "filePath": Value::Null,
                            "fileSize": a.size,
                            "filePublisher": Value::Null,
                            "signer": Value::Null,
                            "issuer": Value::Null,
                        },
                        "mdeDeviceId": Value::Null,
                    }),
                ));
            }
        }
        Story {
            evidence,
            first_activity: sk.ticks,
            last_activity,
            threat: msg.attachment.as_ref().map(|a| a.family.to_string()),
            // Some phishing campaigns are attributed to a (fictitious) tracked actor.
            actor: (sk.kind == Kind::Phish
                && hash(self.spec.seed, &[msg.campaign, 9]).is_multiple_of(3))
            .then(|| {
                format!(
                    "Storm-9{:03}",
                    hash(self.spec.seed, &[msg.campaign, 10]) % 1000
                )
            }),
        }
    }

    /// The mail cluster of a campaign message as known at `until`: the campaign's messages of
    /// the same kind received by then. Returns the evidence and the last message's time.
    fn mail_cluster(
        &self,
        msg: &Message,
        until: i64,
        at: i64,
        verdict: &str,
        remediation: &str,
    ) -> (Value, i64) {
        let first_block = msg.campaign * CAMPAIGN_BLOCKS;
        let mut ids = Vec::new();
        let mut emails = 0u64;
        let mut first = msg.sketch.ticks;
        let mut last = msg.sketch.ticks;
        for block in first_block..first_block + CAMPAIGN_BLOCKS {
            let m = self.threat_message(block);
            if m >= self.mail.count {
                break;
            }
            let sk = self.sketch(m);
            if sk.kind != msg.sketch.kind || sk.ticks > until {
                continue;
            }
            ids.push(self.network_message_id(m));
            emails += u64::from(sk.recipients);
            first = first.min(sk.ticks);
            last = last.max(sk.ticks);
        }
        let (by, value) = match &msg.attachment {
            Some(a) => ("AttachmentFileHash", a.sha256.clone()),
            None => ("SenderFromDomain", msg.from_domain.clone()),
        };
        let table = if msg.attachment.is_some() {
            "EmailAttachmentInfo | where SHA256"
        } else {
            "EmailEvents | where SenderFromDomain"
        };
        let query = format!(
            "{table} == \"{value}\" | where Timestamp between (datetime({}) .. datetime({}))",
            format_ticks(first, Fraction::Trimmed),
            format_ticks(last, Fraction::Trimmed)
        );
        let urn = format!(
            "urn:MailClusterEntity:{:016x}{:016x}",
            hash(self.spec.seed, &[msg.campaign, 7]),
            hash(self.spec.seed, &[msg.campaign, 8])
        );
        let evidence = Self::with(
            self.evidence_base("mailClusterEvidence", at, verdict, remediation, &[]),
            json!({
                "clusterBy": by,
                "clusterByValue": value,
                "emailCount": emails,
                "networkMessageIds": ids,
                "query": query,
                "urn": urn,
            }),
        );
        (evidence, last)
    }

    /// Another service's alert: a user, a device, a process, a file, an address.
    fn other_story(
        &self,
        plan: &AlertPlan,
        v: usize,
        o: &OtherAlert,
        user: usize,
        r: &mut Rng,
    ) -> Story {
        let first_activity = plan.created - r.range(MINUTE as u64, 45 * MINUTE as u64) as i64;
        let at0 = plan.created + r.range(0, SECOND as u64) as i64;
        let verdict = if v == 2 && plan.resolution != Resolution::TruePositive {
            "noThreatsFound"
        } else {
            "suspicious"
        };
        let remediation = if v == 2 && plan.resolution == Resolution::TruePositive {
            "remediated"
        } else {
            "none"
        };
        let u = &self.directory.users[user];
        let device_id = format!(
            "{:016x}{:016x}{:08x}",
            hash(self.spec.seed, &[user as u64, 21]),
            hash(self.spec.seed, &[user as u64, 22]),
            hash(self.spec.seed, &[user as u64, 23]) as u32
        );
        let ip = format!(
            "{}.{}",
            ["203.0.113", "198.51.100", "192.0.2"][r.below(3) as usize],
            r.range(2, 254)
        );
        let mut evidence = Vec::new();
        let device = |name: String, at: i64| {
            Self::with(
                self.evidence_base("deviceEvidence", at, verdict, remediation, &["compromised"]),
                json!({
                    "azureAdDeviceId": Rng::new(self.spec.seed, &[user as u64, 24]).guid(),
                    "defenderAvStatus": "updated",
                    "deviceDnsName": format!("{name}.{}", self.spec.tenant_domain),
                    "firstSeenDateTime": format_ticks(plan.created - 200 * super::ticks::DAY, Fraction::Trimmed),
                    "healthStatus": "active",
                    "ipInterfaces": [ip.clone()],
                    "loggedOnUsers": [{ "accountName": &*u.local, "domainName": self.directory.netbios }],
                    "mdeDeviceId": device_id,
                    "onboardingStatus": "onboarded",
                    "osBuild": 22631,
                    "osPlatform": "Windows11",
                    "rbacGroupId": 75,
                    "rbacGroupName": "Workstations",
                    "riskScore": "high",
                    "version": "23H2",
                    "vmMetadata": Value::Null,
                }),
            )
        };
        let host = format!(
            "DESKTOP-{:06X}",
            hash(self.spec.seed, &[user as u64, 25]) & 0xff_ffff
        );
        match o.source {
            Source::Mde => evidence.push(device(host.clone(), at0)),
            Source::Mdi => evidence.push(device(format!("DC{:02}", user % 4 + 1), at0)),
            _ => {}
        }
        if let Some((image, command, parent)) = o.process {
            let file = |name: &str, folder: &str| json!({ "fileName": name, "filePath": folder, "sha1": Value::Null, "sha256": Value::Null, "fileSize": Value::Null, "filePublisher": Value::Null, "signer": Value::Null, "issuer": Value::Null });
            evidence.push(Self::with(
                self.evidence_base("processEvidence", at0, verdict, remediation, &[]),
                json!({
                    "detectionStatus": "detected",
                    "imageFile": file(image, o.file.map_or("C:\\Windows\\System32", |(_, folder)| folder)),
                    "mdeDeviceId": device_id,
                    "parentProcessCreationDateTime": format_ticks(first_activity - 90 * SECOND, Fraction::Trimmed),
                    "parentProcessId": 4000 + r.below(4000),
                    "parentProcessImageFile": file(parent, match parent {
                        "winword.exe" => "C:\\Program Files\\Microsoft Office\\root\\Office16",
                        "explorer.exe" => "C:\\Windows",
                        _ => "C:\\Windows\\System32",
                    }),
                    "processCommandLine": command,
                    "processCreationDateTime": format_ticks(first_activity, Fraction::Trimmed),
                    "processId": 8000 + r.below(8000),
                    "userAccount": self.user_account(user),
                }),
            ));
        }
        if let Some((name, folder)) = o.file {
            let mut fr = Rng::new(
                self.spec.seed,
                &[stream::ALERT_DETAIL, u64::from(plan.index), 9],
            );
            evidence.push(Self::with(
                self.evidence_base("fileEvidence", at0, verdict, remediation, &[]),
                json!({
                    "detectionStatus": if o.source == Source::Mde { "detected" } else { "prevented" },
                    "fileDetails": {
                        "sha1": hex_of(&mut fr, 40),
                        "sha256": hex_of(&mut fr, 64),
                        "fileName": name,
                        "filePath": folder,
                        "fileSize": fr.range(10_000, 5_000_000),
                        "filePublisher": Value::Null,
                        "signer": Value::Null,
                        "issuer": Value::Null,
                    },
                    "mdeDeviceId": if o.source == Source::Mde { Value::from(device_id.clone()) } else { Value::Null },
                }),
            ));
        }
        if o.source != Source::Mde || v >= 1 {
            evidence.push(self.user_evidence(user, at0, verdict, &["compromised"]));
        }
        if matches!(o.source, Source::Mdi | Source::Mdca | Source::AadIp) || v >= 1 {
            evidence.push(self.ip_evidence(&ip, if v >= 1 { plan.times[1] } else { at0 }, verdict));
        }
        Story {
            evidence,
            first_activity,
            last_activity: plan.created - r.range(0, MINUTE as u64) as i64,
            threat: None,
            actor: None,
        }
    }
}

/// What an alert's evidence says, beyond the evidence list itself.
struct Story {
    evidence: Vec<Value>,
    first_activity: i64,
    last_activity: i64,
    threat: Option<String>,
    actor: Option<String>,
}
