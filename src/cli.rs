//! Command-line definitions (clap). Dispatch lives in `main.rs`; behaviour lives in the library.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// mailtrail: a local, read-only collector and investigation tool for Microsoft Defender for
/// Office 365 email threats and email activity.
#[derive(Debug, Parser)]
#[command(
    name = "mailtrail",
    version,
    about,
    long_about = None,
    after_help = "Start here:  mailtrail demo        (no Azure needed: the built-in simulator)\n\
                  Then:        mailtrail init        (write a config for your tenant)\n\
                  Exit codes:  0 success, 1 runtime failure (network, Graph, store), 2 usage or configuration error"
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalOpts,

    #[command(subcommand)]
    pub command: Command,
}

/// Options every command accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalOpts {
    /// Config file (default: the platform config dir, e.g. ~/.config/mailtrail/config.toml)
    #[arg(long, global = true, env = "MAILTRAIL_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Store file (default: the platform data dir, e.g. ~/.local/share/mailtrail/mailtrail.db)
    #[arg(long, global = true, env = "MAILTRAIL_DB", value_name = "FILE")]
    pub db: Option<PathBuf>,

    /// More detail on stderr (-v info, -vv debug, -vvv trace). Secrets are never logged.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the built-in simulator, sync it into a demo store and open the dashboard
    #[command(after_help = "Example:\n  mailtrail demo\n  mailtrail demo --no-tui --scale small")]
    Demo(DemoArgs),

    /// Write a commented config file (asks on a terminal, takes flags otherwise)
    #[command(
        after_help = "Example:\n  mailtrail init\n  mailtrail init --name contoso \\\n    --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 \\\n    --client-id 3b2a1c0d-4e5f-4a6b-8c7d-9e0f1a2b3c4d --region global"
    )]
    Init(InitArgs),

    /// Check the configuration and the effective settings, without contacting anything
    #[command(
        after_help = "Example:\n  mailtrail config\n  mailtrail --config ./mailtrail.toml config"
    )]
    Config,

    /// Diagnose set-up: config, secret, region, token, permissions, data, store — each with the fix
    #[command(
        after_help = "Example:\n  mailtrail doctor\n  mailtrail doctor --tenant contoso --json"
    )]
    Doctor(DoctorArgs),

    /// One collection pass over every tenant and stream, then exit
    #[command(
        after_help = "Example:\n  mailtrail sync\n  mailtrail sync --tenant contoso --stream threats --since 7d"
    )]
    Sync(SyncArgs),

    /// Poll on the schedule until SIGINT/SIGTERM; stops cleanly after the current page
    #[command(after_help = "Example:\n  mailtrail run\n  mailtrail run --log-format json")]
    Run(RunArgs),

    /// The dashboard over the store; works offline
    #[command(after_help = "Example:\n  mailtrail tui\n  mailtrail --db ./case-4127.db tui")]
    Tui,

    /// Sync health per tenant and stream
    #[command(after_help = "Example:\n  mailtrail status\n  mailtrail status --json")]
    Status(StatusArgs),

    /// Export stored threats and email events as OCSF 1.8.0 JSON
    #[command(
        after_help = "Example:\n  mailtrail export --since 24h -o threats.ndjson\n  mailtrail export --class email_activity --format json"
    )]
    Export(ExportArgs),

    /// Rebuild the stored OCSF events after a mapping change (with progress)
    #[command(after_help = "Example:\n  mailtrail remap\n  mailtrail remap --all")]
    Remap(RemapArgs),

    /// Find threats and messages with the dashboard's filter syntax (full-text and filters)
    #[command(
        after_help = "Example:\n  mailtrail search invoice\n  mailtrail search 'sender:ceo@contoso.com severity:>=medium since:7d' --threats\n  mailtrail search '\"wire transfer\" -status:resolved' --json\n\nMore: mailtrail search --help",
        after_long_help = SEARCH_SYNTAX
    )]
    Search(SearchArgs),

    /// Read-only SQL over the documented views
    #[command(
        after_help = "Views: threats, evidence, email_events, urls, ocsf_events, sync_runs (docs/query.md)\n\
                      Example:\n  mailtrail query \"SELECT severity, count(*) FROM threats GROUP BY 1\"\n  \
                      mailtrail query --csv \"SELECT * FROM email_events WHERE sender_domain = 'example.org'\"\n  \
                      mailtrail query --views"
    )]
    Query(QueryArgs),

    /// Delete data older than the retention and reclaim the space
    #[command(after_help = PRUNE_HELP)]
    Prune(PruneArgs),

    /// Bookmarks and notes on threats and messages (kept in the local store only)
    #[command(
        after_help = "Example:\n  mailtrail notes\n  mailtrail notes add --threat da637… --bookmark \"CEO wire fraud, ticket 4127\"\n  mailtrail notes add --message 5f6e… --recipient bob@contoso.com \"clicked the link\"\n  mailtrail notes rm --threat da637…\n\nNotes are written to the local store only, never to Microsoft 365. A re-sync or a prune keeps them."
    )]
    Notes(NotesArgs),

    /// Threat campaigns: suspicious messages sharing a sender domain, URL domain or subject
    #[command(
        after_help = "Example:\n  mailtrail campaigns\n  mailtrail campaigns --since 30d --window 12h --min-messages 5 --json"
    )]
    Campaigns(CampaignsArgs),

    /// Import alerts_v2 responses, hunting responses or EmailEvents CSV exports collected elsewhere
    #[command(
        after_help = "Example:\n  mailtrail import alerts-page.json hunting.json\n  mailtrail import --tenant contoso --dry-run EmailEvents.csv\n\nFormats are told from the content. A file with a bad record imports nothing."
    )]
    Import(ImportArgs),

    /// Run the built-in Microsoft Graph and Entra simulator alone and print its URL
    #[command(
        after_help = "Example:\n  mailtrail simulate --print-creds\n  mailtrail simulate --scale large --port 8443 --faults throttle"
    )]
    Simulate(SimulateArgs),
}

impl Command {
    /// The subcommand's name as typed, for messages.
    pub fn name(&self) -> &'static str {
        match self {
            Command::Demo(_) => "demo",
            Command::Init(_) => "init",
            Command::Config => "config",
            Command::Doctor(_) => "doctor",
            Command::Sync(_) => "sync",
            Command::Run(_) => "run",
            Command::Tui => "tui",
            Command::Status(_) => "status",
            Command::Export(_) => "export",
            Command::Query(_) => "query",
            Command::Search(_) => "search",
            Command::Remap(_) => "remap",
            Command::Prune(_) => "prune",
            Command::Notes(_) => "notes",
            Command::Campaigns(_) => "campaigns",
            Command::Import(_) => "import",
            Command::Simulate(_) => "simulate",
        }
    }
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Sync and print the summary instead of opening the dashboard
    #[arg(long)]
    pub no_tui: bool,
    /// Size of the simulated tenant
    #[arg(long, value_enum, default_value_t = ScaleArg::Medium)]
    pub scale: ScaleArg,
    /// Seed of the simulated data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Name of the tenant in mailtrail (tags every stored row)
    #[arg(long)]
    pub name: Option<String>,
    /// Directory (tenant) ID: a GUID, or a verified domain such as contoso.onmicrosoft.com
    #[arg(long)]
    pub tenant_id: Option<String>,
    /// Application (client) ID of the app registration (a GUID)
    #[arg(long)]
    pub client_id: Option<String>,
    /// Cloud the tenant lives in: global, gcc-high, dod, china
    #[arg(long)]
    pub region: Option<String>,
    /// Environment variable that will hold the client secret value
    #[arg(long, conflicts_with = "secret_file")]
    pub secret_env: Option<String>,
    /// File that will hold the client secret value (must be readable by you only)
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Overwrite an existing config file
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Only this tenant (its name in the config)
    #[arg(long)]
    pub tenant: Option<String>,
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum StreamArg {
    Threats,
    Activity,
}

#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Only this tenant (its name in the config)
    #[arg(long)]
    pub tenant: Option<String>,
    /// Only this stream
    #[arg(long, value_enum)]
    pub stream: Option<StreamArg>,
    /// How far back a stream without a checkpoint starts, e.g. 24h or 7d
    #[arg(long, value_name = "DURATION")]
    pub since: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Only this tenant (its name in the config)
    #[arg(long)]
    pub tenant: Option<String>,
    /// Log format on stderr
    #[arg(long, value_enum, default_value_t = LogFormat::Human)]
    pub log_format: LogFormat,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Machine-readable output (a stable contract for monitoring)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportClass {
    /// Detection Finding (2004): email threats
    #[value(name = "detection_finding", alias = "detection-finding")]
    DetectionFinding,
    /// Email Activity (4009): email events
    #[value(name = "email_activity", alias = "email-activity")]
    EmailActivity,
    All,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Ndjson,
    Json,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Which OCSF class to export
    #[arg(long, value_enum, default_value_t = ExportClass::All)]
    pub class: ExportClass,
    /// Only events at or after this time: RFC 3339 or a duration back from now (24h, 7d)
    #[arg(long)]
    pub since: Option<String>,
    /// Only events before this time: RFC 3339 or a duration back from now
    #[arg(long)]
    pub until: Option<String>,
    /// Only this tenant
    #[arg(long)]
    pub tenant: Option<String>,
    /// Output shape
    #[arg(long, value_enum, default_value_t = ExportFormat::Ndjson)]
    pub format: ExportFormat,
    /// One event per stored alert version instead of the current state
    #[arg(long)]
    pub all_versions: bool,
    /// Attach the source record as raw_data
    #[arg(long)]
    pub raw: bool,
    /// Write to this file (atomically) instead of stdout
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RemapArgs {
    /// Rebuild every OCSF event, not only those made by an older mapping version
    #[arg(long)]
    pub all: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QueryFormat {
    Table,
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// One read-only SQL statement over the views in docs/query.md ("-": read it from stdin)
    #[arg(required_unless_present = "views")]
    pub sql: Option<String>,
    /// Output shape: an aligned table, CSV (RFC 4180) or a JSON array of objects
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
    /// Same as --format csv
    #[arg(long, conflicts_with_all = ["format", "json"])]
    pub csv: bool,
    /// Same as --format json
    #[arg(long, conflicts_with = "format")]
    pub json: bool,
    /// At most N rows, 0 for no limit (a table shows 100 unless told; CSV and JSON everything)
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
    /// List the views and their columns
    #[arg(long, conflicts_with = "sql")]
    pub views: bool,
}

impl QueryArgs {
    /// The output shape, with --csv / --json applied.
    pub fn effective_format(&self) -> QueryFormat {
        match (self.csv, self.json) {
            (true, _) => QueryFormat::Csv,
            (_, true) => QueryFormat::Json,
            _ => self.format,
        }
    }
}

/// `mailtrail search --help`: the filter syntax (the README's "Filter syntax" says the same).
const SEARCH_SYNTAX: &str = "\
Filter syntax (the same as the dashboard's / bar):
  invoice \"wire transfer\"   free text: every word must appear (see below)
  sender:ceo@contoso.com      a full address matches exactly, anything else as a substring
  recipient:alex  domain:evil.test  url:https://x.test/a   (* is a wildcard in these four)
  urlhost:evil.test           a URL's host exactly (not its subdomains)
  severity:>=medium  severity:low,high   status:new,inProgress,resolved
  delivery:inbox  threat:phish  tenant:contoso  message:<NetworkMessageId>
  since:24h  until:2026-11-20T12:00:00Z   (a duration back from now, a time or a date)
  -status:resolved   a leading - negates a term; key:a,b means a or b

Free text searches a full-text index of subjects, senders, recipients, sender display
names and URLs, and of alert titles and descriptions. Case and accents are ignored and
punctuation separates words: `invoice` finds \"Invoice-2026\", `contoso.com` or
`ceo@contoso.com` find that address. The last word of a term also matches longer words
(`invo`, `contoso.co`); a word is not found from its middle (`voice` does not find
\"invoice\"). A term of punctuation only (`%`) is matched as a substring.

Output: a table (default; text from Graph with control characters made visible), --json
(an array of objects), --csv (RFC 4180, a header line; cells starting with = + - @ get a
leading ' so spreadsheets do not run them), or --ocsf (the stored OCSF 1.8.0 events as
NDJSON: Detection Findings for threats, Email Activity for messages). Threats come highest
triage score first (--sort time: newest first), messages newest first.

Exit codes: 0 (also when nothing matches), 1 store error, 2 a filter that does not parse.";

/// Output shape of `mailtrail search`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchFormat {
    Table,
    Json,
    Csv,
    Ocsf,
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// The filter, best quoted whole: 'invoice -status:resolved' (several arguments are joined
    /// by spaces; after `--` a word may start with '-')
    #[arg(required = true, value_name = "QUERY")]
    pub query: Vec<String>,
    /// Only threats (alerts)
    #[arg(long, conflicts_with = "messages")]
    pub threats: bool,
    /// Only messages (email events, one row per recipient)
    #[arg(long)]
    pub messages: bool,
    /// At most N threats and N messages (0: no limit)
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: u64,
    /// Threat order: highest triage score first, or newest first (messages: always newest)
    #[arg(long, value_enum, default_value_t = SearchSort::Score)]
    pub sort: SearchSort,
    /// A JSON array of objects
    #[arg(long, conflicts_with_all = ["csv", "ocsf"])]
    pub json: bool,
    /// CSV (RFC 4180) with a header line
    #[arg(long, conflicts_with = "ocsf")]
    pub csv: bool,
    /// The matching events as OCSF 1.8.0 NDJSON
    #[arg(long)]
    pub ocsf: bool,
}

/// How `search` orders threats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SearchSort {
    Score,
    Time,
}

impl SearchArgs {
    pub fn format(&self) -> SearchFormat {
        match (self.json, self.csv, self.ocsf) {
            (true, _, _) => SearchFormat::Json,
            (_, true, _) => SearchFormat::Csv,
            (_, _, true) => SearchFormat::Ocsf,
            _ => SearchFormat::Table,
        }
    }
}

/// What `prune --help` says "older than" means (src/store/retention.rs does exactly this).
const PRUNE_HELP: &str = "Older than the cutoff (now minus the duration) means:
  - email events whose Timestamp is before it, with their OCSF Email Activity;
  - alerts whose last update is before it: the alert, all its versions, evidence, OCSF
    findings and triage score;
  - older versions (and their findings) of alerts updated since; never the current version;
  - sync-run records started before it, except each tenant x stream's latest and latest
    successful run.
Checkpoints, open gaps and notes are never removed. Deletes go in batches of 10,000 rows;
the freed space is then given back (incremental vacuum). A store made before mailtrail
switched to incremental vacuum is rebuilt once with VACUUM on its first prune: that needs
free disk of about twice the data kept. `mailtrail run` prunes once a day with the
[store] retention setting (it never does the one-time VACUUM).

Example:
  mailtrail prune --older-than 90d --dry-run
  mailtrail prune";

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete data older than this, at least 1d (default: the [store] retention setting, 180d)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Count what would be deleted; open the store read-only and change nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct NotesArgs {
    #[command(subcommand)]
    pub action: Option<NotesAction>,
    /// Machine-readable output (the list; also `notes list --json`)
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum NotesAction {
    /// List every bookmark and note (the default)
    List(NotesListArgs),
    /// Bookmark or annotate a threat or a message (replaces the note text)
    Add(NoteAddArgs),
    /// Remove the bookmark and note of a threat or a message
    #[command(visible_alias = "remove")]
    Rm(NoteTargetArgs),
}

#[derive(Debug, Args)]
pub struct NotesListArgs {
    /// Machine-readable output
    #[arg(long)]
    pub json: bool,
}

/// What a note is about: a threat, or a message (optionally one recipient's copy).
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["threat", "message"])))]
pub struct NoteTargetArgs {
    /// The alert id of a threat
    #[arg(long, value_name = "ID")]
    pub threat: Option<String>,
    /// The NetworkMessageId of a message
    #[arg(long, value_name = "NMID")]
    pub message: Option<String>,
    /// Only this recipient's copy of the message
    #[arg(
        long,
        value_name = "ADDRESS",
        requires = "message",
        conflicts_with = "threat"
    )]
    pub recipient: Option<String>,
    /// The tenant (needed only when several stored tenants have the id)
    #[arg(long)]
    pub tenant: Option<String>,
}

#[derive(Debug, Args)]
pub struct NoteAddArgs {
    #[command(flatten)]
    pub target: NoteTargetArgs,
    /// Bookmark it
    #[arg(long)]
    pub bookmark: bool,
    /// Remove its bookmark (keeps the note)
    #[arg(long, conflicts_with = "bookmark")]
    pub no_bookmark: bool,
    /// The note (replaces an earlier one; words are joined by spaces)
    #[arg(value_name = "TEXT")]
    pub text: Vec<String>,
}

#[derive(Debug, Args)]
pub struct CampaignsArgs {
    /// Messages at or after this time: a duration back from now (24h, 7d), an RFC 3339 time or a
    /// date, as in the filter's `since:`
    #[arg(long, default_value = "7d")]
    pub since: String,
    /// Messages before this time, in the same forms (default: now)
    #[arg(long)]
    pub until: Option<String>,
    /// Longest quiet gap inside a campaign: messages further apart start a new one
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub window: String,
    /// Fewest messages that make a campaign (at least 2)
    #[arg(long, default_value_t = 2, value_parser = crate::campaigns::parse_min_messages)]
    pub min_messages: u64,
    /// Show at most this many campaigns, the most delivered first (0: no limit)
    #[arg(long)]
    pub limit: Option<usize>,
    /// Machine-readable output: a JSON array
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files to import: alerts_v2 pages, alerts (JSON or NDJSON), runHuntingQuery responses,
    /// EmailEvents CSV exports
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Tag the data with this tenant name (needed when the data carries no tenant id)
    #[arg(long)]
    pub tenant: Option<String>,
    /// Read and check the files, report what would be imported, store nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ScaleArg {
    Small,
    Medium,
    Large,
}

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// Port on 127.0.0.1 (0 lets the OS choose)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Seed of the simulated data: the same seed and start time give the same responses
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Size of the simulated tenant: small, medium, or large (1,000,000 email events, 100,000 alerts)
    #[arg(long, value_enum, default_value_t = ScaleArg::Medium)]
    pub scale: ScaleArg,
    /// Number of simulated tenants
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=8))]
    pub tenants: u8,
    /// Simulated time at start-up (RFC 3339); the clock then runs in real time. Default: now
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    /// Stop the simulated clock at its start time (byte-identical responses for a seed)
    #[arg(long)]
    pub freeze: bool,
    /// Fault profiles to turn on, comma-separated (see --list-faults)
    #[arg(long, value_delimiter = ',')]
    pub faults: Vec<String>,
    /// A fault plan file (TOML) with custom fault rules
    #[arg(long, value_name = "FILE")]
    pub fault_plan: Option<PathBuf>,
    /// List the named fault profiles and exit
    #[arg(long)]
    pub list_faults: bool,
    /// Print the environment lines that point mailtrail at this simulator
    #[arg(long)]
    pub print_creds: bool,
}
