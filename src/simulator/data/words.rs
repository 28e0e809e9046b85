//! The vocabulary the simulated tenant is written in: names, domains, subjects, campaign themes,
//! malware families and the hostile strings. Plain tables, so that the generators read as
//! choices among them.

/// First names of generated people: (display form, ASCII form for addresses).
pub const FIRST_NAMES: &[(&str, &str)] = &[
    ("Adele", "adele"),
    ("Alex", "alex"),
    ("Allan", "allan"),
    ("Amara", "amara"),
    ("Ben", "ben"),
    ("Bianca", "bianca"),
    ("Carlos", "carlos"),
    ("Chen", "chen"),
    ("Christie", "christie"),
    ("Dana", "dana"),
    ("Deepa", "deepa"),
    ("Diego", "diego"),
    ("Elena", "elena"),
    ("Emily", "emily"),
    ("Farah", "farah"),
    ("Grady", "grady"),
    ("Hana", "hana"),
    ("Henrietta", "henrietta"),
    ("Isaiah", "isaiah"),
    ("Ivan", "ivan"),
    ("Jamal", "jamal"),
    ("Johanna", "johanna"),
    ("Joni", "joni"),
    ("Kenji", "kenji"),
    ("Lee", "lee"),
    ("Lidia", "lidia"),
    ("Lynne", "lynne"),
    ("Maria", "maria"),
    ("Megan", "megan"),
    ("Miriam", "miriam"),
    ("Nestor", "nestor"),
    ("Nia", "nia"),
    ("Omar", "omar"),
    ("Patti", "patti"),
    ("Pradeep", "pradeep"),
    ("Priya", "priya"),
    ("Rafael", "rafael"),
    ("Rosa", "rosa"),
    ("Sanjay", "sanjay"),
    ("Sofia", "sofia"),
    ("Tomas", "tomas"),
    ("Uma", "uma"),
    ("Victor", "victor"),
    ("Wei", "wei"),
    ("Yara", "yara"),
    ("Yusuf", "yusuf"),
    ("Zanele", "zanele"),
    ("Zoe", "zoe"),
];

/// Last names of generated people: (display form, ASCII form for addresses).
pub const LAST_NAMES: &[(&str, &str)] = &[
    ("Adams", "adams"),
    ("Archie", "archie"),
    ("Bauer", "bauer"),
    ("Bowen", "bowen"),
    ("Brooks", "brooks"),
    ("Castillo", "castillo"),
    ("Celik", "celik"),
    ("Cho", "cho"),
    ("Diallo", "diallo"),
    ("Dubois", "dubois"),
    ("Evans", "evans"),
    ("Fischer", "fischer"),
    ("Garcia", "garcia"),
    ("Gupta", "gupta"),
    ("Haddad", "haddad"),
    ("Holloway", "holloway"),
    ("Ibrahim", "ibrahim"),
    ("Jensen", "jensen"),
    ("Johnson", "johnson"),
    ("Kaur", "kaur"),
    ("Kim", "kim"),
    ("Kowalski", "kowalski"),
    ("Larsen", "larsen"),
    ("Lopez", "lopez"),
    ("Mensah", "mensah"),
    ("Moreau", "moreau"),
    ("Nakamura", "nakamura"),
    ("Novak", "novak"),
    ("O'Brien", "obrien"),
    ("Okafor", "okafor"),
    ("Patel", "patel"),
    ("Petrov", "petrov"),
    ("Quinn", "quinn"),
    ("Rossi", "rossi"),
    ("Santos", "santos"),
    ("Schmidt", "schmidt"),
    ("Silva", "silva"),
    ("Tanaka", "tanaka"),
    ("Taylor", "taylor"),
    ("Vance", "vance"),
    ("Varga", "varga"),
    ("Wagner", "wagner"),
    ("Wilber", "wilber"),
    ("Wilke", "wilke"),
    ("Xu", "xu"),
    ("Yilmaz", "yilmaz"),
    ("Zhang", "zhang"),
    ("Zimmerman", "zimmerman"),
];

/// Tenant users whose names are not ASCII (or carry apostrophes): the first users of every
/// tenant, so that even the smallest data set shows them. (display name, address local part)
pub const SPECIAL_USERS: &[(&str, &str)] = &[
    ("José Núñez", "jose.nunez"),
    ("王伟", "wang.wei"),
    ("Zoë Ødegård", "zoe.odegard"),
    ("Łukasz Żółkiewski", "lukasz.zolkiewski"),
    ("محمد العلي", "mohammed.alali"),
    ("Анна Смирнова", "anna.smirnova"),
    ("佐藤 花子", "hanako.sato"),
    ("Nguyễn Thị Hương", "huong.nguyen"),
    ("Françoise d'Aubigné", "francoise.daubigne"),
    ("Søren Kjærgaard", "soren.kjaergaard"),
    ("Renée O'Connor", "renee.oconnor"),
    ("Ægir Þórsson", "aegir.thorsson"),
];

/// SOC analysts who triage alerts (display name, address local part). "Automation" is the
/// automated investigation, as the portal shows it.
pub const ANALYSTS: &[(&str, &str)] = &[
    ("Nestor Wilke", "nestor.wilke"),
    ("Lidia Holloway", "lidia.holloway"),
    ("Pradeep Gupta", "pradeep.gupta"),
    ("Grady Archie", "grady.archie"),
];

/// Partner and supplier domains that send ordinary mail (Microsoft's fictitious companies).
pub const PARTNER_DOMAINS: &[&str] = &[
    "fabrikam.com",
    "northwindtraders.com",
    "adventure-works.com",
    "tailspintoys.com",
    "wingtiptoys.com",
    "litwareinc.com",
    "woodgrovebank.com",
    "proseware.com",
    "lucernepublishing.com",
    "alpineskihouse.com",
    "fourthcoffee.com",
    "wideworldimporters.com",
    "margiestravel.com",
    "relecloud.com",
    "treyresearch.net",
    "cohowinery.com",
];

/// Subjects of ordinary mail: (template, language). `{n}` becomes a number, `{p}` a partner.
pub const CLEAN_SUBJECTS: &[(&str, &str)] = &[
    ("Re: Q{q} budget review", "en"),
    ("Invoice {n} from {p}", "en"),
    ("Meeting notes – {day}", "en"),
    ("Your order #{n} has shipped", "en"),
    ("Contract draft v{k} for review", "en"),
    ("Re: Project Falcon status", "en"),
    ("Lunch on {day}?", "en"),
    ("FW: Updated price list {n}", "en"),
    ("Delivery schedule for week {k}", "en"),
    ("RE: RE: RE: Proposal", "en"),
    ("Quote request #{n}", "en"),
    ("Agenda for {day}'s review", "en"),
    ("Angebot Nr. {n}", "de"),
    ("Rechnung {n} – Zahlungserinnerung", "de"),
    ("Compte rendu de réunion du {day}", "fr"),
    ("Factura {n} pendiente", "es"),
    ("会議の議事録（{k}月）", "ja"),
    ("季度报告 第{k}版", "zh"),
    ("Relatório mensal {k}", "pt"),
];

/// Subjects of mail between colleagues.
pub const INTERNAL_SUBJECTS: &[(&str, &str)] = &[
    ("Team standup notes", "en"),
    ("Re: Offsite agenda", "en"),
    ("Expense report {n}", "en"),
    ("All-hands slides", "en"),
    ("Holiday schedule {k}", "en"),
    ("Re: Can you review my PR #{n}?", "en"),
    ("Onboarding checklist", "en"),
    ("Reminder: timesheets due {day}", "en"),
];

pub const DAYS: &[&str] = &["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"];

/// Spam subjects: (template, language).
pub const SPAM_SUBJECTS: &[(&str, &str)] = &[
    ("You've won a $1,000 gift card!", "en"),
    ("Lose 10 kg in 2 weeks – doctors hate this", "en"),
    ("Exclusive crypto opportunity: 300% returns", "en"),
    ("Work from home and earn $5,000/week", "en"),
    ("Congratulations, you're selected!", "en"),
    ("Claim your refund #{n} now", "en"),
    ("Cheap meds online, no prescription", "en"),
    ("Gewinnen Sie ein neues Smartphone", "de"),
    ("Offre exclusive : -70 % aujourd'hui", "fr"),
    ("¡Felicidades! Ha ganado un premio", "es"),
];

pub const SPAM_WORDS: &[&str] = &[
    "promo", "deals", "bonus", "prize", "winner", "cheap", "offer", "crypto", "rewards", "lucky",
];

/// Newsletters: (display name, sender local part, topic list).
pub const BULK_SENDERS: &[(&str, &str)] = &[
    ("Fabrikam Newsletter", "news"),
    ("Northwind Deals", "deals"),
    ("Tailspin Events", "events"),
    ("Woodgrove Bank Insights", "insights"),
    ("Litware Product Updates", "updates"),
    ("Alpine Ski House Offers", "offers"),
];

pub const BULK_TOPICS: &[&str] = &[
    "10 tips for a productive week",
    "Our spring collection is here",
    "Webinar: securing hybrid work",
    "Your monthly account summary",
    "Last chance: 30% off everything",
    "What's new in version {k}",
];

/// A phishing campaign's recipe. `{org}` is the tenant's name (e.g. "contoso"), `{Org}` the
/// same capitalised, `{n}` a number that differs per message.
#[derive(Debug)]
pub struct PhishTheme {
    pub subject: &'static str,
    pub display: &'static str,
    pub local: &'static str,
    pub domain: &'static str,
    pub url_host: &'static str,
    pub url_path: &'static str,
    pub language: &'static str,
}

pub const PHISH_THEMES: &[PhishTheme] = &[
    PhishTheme {
        subject: "Action required: invoice #{n} payment failed",
        display: "{Org} Billing",
        local: "billing",
        domain: "billing-{org}",
        url_host: "login.billing-{org}",
        url_path: "/secure/verify?id={n}",
        language: "en",
    },
    PhishTheme {
        subject: "Your password expires in 24 hours",
        display: "{Org} IT Support",
        local: "it-support",
        domain: "{org}-helpdesk",
        url_host: "portal.{org}-helpdesk",
        url_path: "/reset?u={n}",
        language: "en",
    },
    PhishTheme {
        subject: "Shared document: Q{k} bonus plan.pdf",
        display: "SharePoint Online",
        local: "no-reply",
        domain: "sharepoint-docs",
        url_host: "{org}-my.sharepoint-docs",
        url_path: "/personal/view.aspx?doc={n}",
        language: "en",
    },
    PhishTheme {
        subject: "Voicemail from +1 (555) 01{k}{k} – 0:{k}4 min",
        display: "Voice Mail Service",
        local: "voicemail",
        domain: "teams-voicemail",
        url_host: "listen.teams-voicemail",
        url_path: "/play?msg={n}",
        language: "en",
    },
    PhishTheme {
        subject: "DocuSign: Please review and sign agreement {n}",
        display: "DocuSign via {Org} Legal",
        local: "dse",
        domain: "docu-sign-secure",
        url_host: "sign.docu-sign-secure",
        url_path: "/envelope/{n}",
        language: "en",
    },
    PhishTheme {
        subject: "Microsoft 365: unusual sign-in activity",
        display: "Microsoft account team",
        local: "account-security",
        domain: "m365-account-alerts",
        url_host: "verify.m365-account-alerts",
        url_path: "/session?id={n}",
        language: "en",
    },
    PhishTheme {
        subject: "Your mailbox is almost full ({k}8/100 GB)",
        display: "{Org} Mail Administrator",
        local: "postmaster",
        domain: "{org}-mailquota",
        url_host: "upgrade.{org}-mailquota",
        url_path: "/quota?u={n}",
        language: "en",
    },
    PhishTheme {
        subject: "Ihre Paketzustellung {n} ist fehlgeschlagen",
        display: "DHL Paket",
        local: "zustellung",
        domain: "paket-status",
        url_host: "track.paket-status",
        url_path: "/sendung/{n}",
        language: "de",
    },
];

/// Suffixes that make a campaign's domains differ from another campaign of the same theme.
pub const DOMAIN_SUFFIXES: &[&str] = &["", "-secure", "-portal", "-online", "-verify", "-services"];

/// Top-level names for attacker domains: reserved for documentation and testing (RFC 2606).
pub const BAD_TLDS: &[&str] = &["example", "test", "example.net", "example.org"];

/// Malware families: (family, Defender detection name, attachment name template, subject).
pub const MALWARE: &[(&str, &str, &str, &str)] = &[
    (
        "Qakbot",
        "TrojanDownloader:O97M/Qakbot.PA!MTB",
        "Scan_{n}.docm",
        "Scanned document {n}",
    ),
    (
        "Emotet",
        "Trojan:W97M/Emotet.RV!MTB",
        "Invoice_{n}.doc",
        "Overdue invoice {n}",
    ),
    (
        "AgentTesla",
        "Trojan:Win32/AgentTesla!ml",
        "PO_{n}.img",
        "Purchase order PO-{n}",
    ),
    (
        "IcedID",
        "Trojan:Win32/IcedID.RPZ!MTB",
        "Documents_{n}.zip",
        "Remittance advice {n}",
    ),
    (
        "Remcos",
        "Backdoor:Win32/Remcos.GZ!MTB",
        "Payment_{n}.iso",
        "Payment confirmation {n}",
    ),
    (
        "Formbook",
        "Trojan:Win32/Formbook.RS!MTB",
        "Order_{n}.xlsm",
        "Shipping documents {n}",
    ),
    (
        "AsyncRAT",
        "Backdoor:MSIL/AsyncRAT.PA!MTB",
        "Statement_{n}.html",
        "Account statement {n}",
    ),
];

pub const MALWARE_SENDER_WORDS: &[&str] = &[
    "logistics",
    "freight",
    "accounts",
    "scanner",
    "procurement",
    "shipping",
];

/// Business e-mail compromise subjects.
pub const BEC_SUBJECTS: &[&str] = &[
    "Urgent wire transfer",
    "Are you at your desk?",
    "Quick favor – need gift cards today",
    "Updated bank details for invoice {n}",
    "Confidential: acquisition payment",
    "Payroll direct deposit change",
];

/// A subject or display name that a terminal or a parser may choke on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostileMail {
    /// Colour escape sequences in the subject.
    AnsiColour,
    /// An OSC "set window title" sequence ended by BEL.
    OscTitle,
    /// Clear screen and cursor home.
    ClearScreen,
    /// A right-to-left override that disguises a file extension.
    BidiOverride,
    /// Bidi isolates around mixed-direction text.
    BidiIsolate,
    /// A 5,000-character subject.
    Long,
    /// Emoji and CJK.
    EmojiCjk,
    /// Tabs, newlines and a carriage return.
    ControlWhitespace,
    /// Quotes and backslashes.
    QuotesBackslashes,
    /// An HTML and script fragment.
    Html,
    /// A right-to-left override in the sender's display name.
    BidiDisplayName,
    /// An escape sequence in the sender's display name.
    AnsiDisplayName,
    /// A DeliveryAction value no client has seen before.
    UnknownDeliveryAction,
    /// Zero-width characters inside words.
    ZeroWidth,
    /// Stacked combining marks.
    Combining,
    /// An empty subject.
    EmptySubject,
}

pub const HOSTILE_MAIL: &[HostileMail] = &[
    HostileMail::AnsiColour,
    HostileMail::OscTitle,
    HostileMail::ClearScreen,
    HostileMail::BidiOverride,
    HostileMail::BidiIsolate,
    HostileMail::Long,
    HostileMail::EmojiCjk,
    HostileMail::ControlWhitespace,
    HostileMail::QuotesBackslashes,
    HostileMail::Html,
    HostileMail::BidiDisplayName,
    HostileMail::AnsiDisplayName,
    HostileMail::UnknownDeliveryAction,
    HostileMail::ZeroWidth,
    HostileMail::Combining,
    HostileMail::EmptySubject,
];

impl HostileMail {
    /// The subject this variant puts on a message, or `None` when it leaves the subject alone.
    pub fn subject(self, n: u64) -> Option<String> {
        Some(match self {
            HostileMail::AnsiColour => format!("\u{1b}[31mURGENT\u{1b}[0m invoice {n}"),
            HostileMail::OscTitle => "\u{1b}]0;pwned\u{7}Quarterly results".to_string(),
            HostileMail::ClearScreen => "\u{1b}[2J\u{1b}[HRe: meeting moved".to_string(),
            HostileMail::BidiOverride => {
                format!("Invoice {n} attached: scan\u{202e}fdp.exe\u{202c}")
            }
            HostileMail::BidiIsolate => {
                "\u{2066}Payroll\u{2069} update \u{2067}مرحبا بكم\u{2069} (2)".to_string()
            }
            HostileMail::Long => {
                let mut s = String::with_capacity(5000);
                s.push_str("Re: ");
                let filler = "lorem ipsum dolor sit amet, consectetur adipiscing elit ";
                while s.len() < 5000 {
                    s.push_str(filler);
                }
                s.truncate(5000);
                s
            }
            HostileMail::EmojiCjk => "🎉 年末セール 🎁 最大50%オフ 📦 发票请查收 👩‍👩‍👧".to_string(),
            HostileMail::ControlWhitespace => {
                "Line one\nLine two\tTabbed\r\nThird line".to_string()
            }
            HostileMail::QuotesBackslashes => {
                r#"He said "pay now" – C:\Users\Public\invoice.pdf 'quoted' \"escaped\" \\"#
                    .to_string()
            }
            HostileMail::Html => {
                "<script>alert('x')</script><b>Bold</b> &amp; <img src=x onerror=alert(1)>"
                    .to_string()
            }
            HostileMail::ZeroWidth => "Pay\u{200b}Pal: your account is \u{feff}locked".to_string(),
            HostileMail::Combining => {
                "Z\u{334}\u{321}a\u{337}l\u{338}g\u{336}o\u{335} invoice".to_string()
            }
            HostileMail::EmptySubject => String::new(),
            HostileMail::BidiDisplayName
            | HostileMail::AnsiDisplayName
            | HostileMail::UnknownDeliveryAction => return None,
        })
    }

    /// The sender display name this variant imposes, if any.
    pub fn display_name(self) -> Option<&'static str> {
        match self {
            HostileMail::BidiDisplayName => Some("\u{202e}nimdA TI\u{202c} (IT Admin)"),
            HostileMail::AnsiDisplayName => Some("\u{1b}[1;32mIT Helpdesk\u{1b}[0m"),
            _ => None,
        }
    }
}

/// Analyst comment with escape sequences and bidi text (free text a user typed).
pub const HOSTILE_COMMENT: &str = "\u{1b}[31mESCALATE\u{1b}[0m user says the file was \u{202e}gnp.exe\u{202c}\n\"quoted\" \\ back\tslash";
