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

    /// Read-only SQL over the documented views
    #[command(
        after_help = "Example:\n  mailtrail query \"SELECT severity, count(*) FROM threats GROUP BY 1\""
    )]
    Query(QueryArgs),

    /// Delete data older than the retention and reclaim the space
    #[command(after_help = "Example:\n  mailtrail prune --older-than 90d --dry-run")]
    Prune(PruneArgs),

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
            Command::Remap(_) => "remap",
            Command::Prune(_) => "prune",
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
    /// A read-only SQL statement over the documented views
    pub sql: String,
    /// Output shape
    #[arg(long, value_enum, default_value_t = QueryFormat::Table)]
    pub format: QueryFormat,
}

#[derive(Debug, Args)]
pub struct PruneArgs {
    /// Delete data older than this (default: the [store] retention setting)
    #[arg(long, value_name = "DURATION")]
    pub older_than: Option<String>,
    /// Report what would be deleted, delete nothing
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
