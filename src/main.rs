//! The `mailtrail` binary: parse the command line, run the command, map failures to exit codes.

use std::io::Write;
use std::process::ExitCode;

use clap::Parser;
use mailtrail::Failure;
use mailtrail::cli::{Cli, Command, GlobalOpts};

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            if let Some(message) = search_negation_hint(&e, std::env::args().collect()) {
                let _ = writeln!(std::io::stderr(), "mailtrail: {message}");
                return ExitCode::from(2);
            }
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { 2 } else { 0 });
        }
    };
    match &cli.command {
        // The dashboard owns the terminal: the demo's background syncs log to a file.
        Command::Demo(args) if !args.no_tui => log_to_file(&mailtrail::demo::log_path(&cli.global)),
        command => init_logging(&cli.global, matches!(command, Command::Simulate(_))),
    }
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        // `mailtrail … | head`: the reader has what it wanted.
        Err(failure) if failure.is_output_closed() => ExitCode::SUCCESS,
        Err(failure) => {
            // Messages can quote Graph (error texts, names): neutralise them line by line.
            let message: Vec<String> = failure
                .message
                .lines()
                .map(mailtrail::terminal::clean)
                .collect();
            let _ = writeln!(std::io::stderr(), "mailtrail: {}", message.join("\n"));
            ExitCode::from(failure.exit_code)
        }
    }
}

fn run(cli: Cli) -> Result<(), Failure> {
    match cli.command {
        Command::Config => mailtrail::config::run_config_command(&cli.global),
        Command::Init(args) => mailtrail::init::run(&cli.global, &args),
        Command::Simulate(args) => block_on(mailtrail::simulator::cli::run(args)),
        Command::Sync(args) => block_on(mailtrail::commands::sync(&cli.global, &args)),
        Command::Run(args) => block_on(mailtrail::commands::run(&cli.global, &args)),
        Command::Status(args) => mailtrail::commands::status(&cli.global, &args),
        Command::Export(args) => mailtrail::export::run(&cli.global, &args),
        Command::Search(args) => mailtrail::search::command::run(&cli.global, &args),
        Command::Remap(args) => mailtrail::commands::remap(&cli.global, &args),
        Command::Notes(args) => mailtrail::notes::run(&cli.global, &args),
        Command::Doctor(args) => block_on(mailtrail::doctor::run(&cli.global, &args)),
        Command::Tui => {
            let cfg = mailtrail::config::load(&mailtrail::config::LoadOptions::from_process(
                &cli.global,
            ))?;
            let opts = mailtrail::tui::TuiOptions {
                interval: cfg.sync.interval,
                ..mailtrail::tui::TuiOptions::default()
            };
            mailtrail::tui::run(&cfg.store.path, opts)
        }
        Command::Demo(args) => mailtrail::demo::run(&cli.global, &args),
        Command::Import(args) => mailtrail::import::run(&cli.global, &args),
        Command::Campaigns(args) => mailtrail::campaigns::run(&cli.global, &args),
        Command::Query(args) => mailtrail::query::run(&cli.global, &args),
        Command::Prune(args) => mailtrail::prune::run(&cli.global, &args),
    }
}

/// `mailtrail search invoice -status:resolved`: clap takes `-status:resolved` for an option
/// (and would suggest `-- -s`). The fix the user needs is to quote the filter whole.
fn search_negation_hint(e: &clap::Error, args: Vec<String>) -> Option<String> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::UnknownArgument {
        return None;
    }
    let Some(ContextValue::String(bad)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    // Which words are options (and which of those take a value), from the command's own
    // definition: global options before `search`, global and search options after it.
    let cmd = <Cli as clap::CommandFactory>::command();
    let search = cmd.find_subcommand("search")?;
    let option = |word: &str| -> Option<bool> {
        let name = word.split('=').next().unwrap_or(word);
        cmd.get_arguments()
            .chain(search.get_arguments())
            .find(|a| {
                a.get_long().is_some_and(|l| name == format!("--{l}"))
                    || a.get_short().is_some_and(|c| name == format!("-{c}"))
            })
            // Takes a value in the next word (not given as `--name=value`).
            .map(|a| a.get_action().takes_values() && !word.contains('='))
    };
    let mut words = args.iter().skip(1);
    while let Some(w) = words.next() {
        match option(w) {
            Some(true) => {
                words.next();
            }
            Some(false) => {}
            None if w == "search" => break,
            None => return None,
        }
    }
    let mut filter = Vec::new();
    let mut term = None;
    while let Some(w) = words.next() {
        match option(w) {
            Some(true) => {
                words.next();
            }
            Some(false) => {}
            // The negated term as typed (clap may name only its first letters, `-s`).
            None => {
                if term.is_none() && w.starts_with(bad.as_str()) && !w.starts_with("--") {
                    term = Some(w);
                }
                filter.push(w.as_str());
            }
        }
    }
    let term = term?;
    let words = filter;
    Some(format!(
        "search: '{}' was read as an option; a filter term starting with '-' must be inside the quoted filter: mailtrail search '{}'",
        mailtrail::terminal::clean(term),
        mailtrail::terminal::clean(&words.join(" "))
    ))
}

/// Runs a command's future on a multi-threaded runtime (2 workers: the machine's size class).
fn block_on<F: std::future::Future<Output = Result<(), Failure>>>(fut: F) -> Result<(), Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::runtime(format!("cannot start the async runtime: {e}")))?
        .block_on(fut)
}

/// Stderr for log lines, with bidi controls made visible (the formatter already escapes
/// other control characters): a log line can quote Graph text.
struct SafeStderr;

impl Write for SafeStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match std::str::from_utf8(buf) {
            Ok(text) if text.chars().any(mailtrail::terminal::is_bidi_control) => {
                let cleaned: String = text
                    .chars()
                    .map(|c| match c {
                        c if mailtrail::terminal::is_bidi_control(c) => {
                            format!("\\u{{{:04x}}}", c as u32)
                        }
                        c => c.to_string(),
                    })
                    .collect();
                std::io::stderr().write_all(cleaned.as_bytes())?;
            }
            _ => std::io::stderr().write_all(buf)?,
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Logs to `path` (created beside the demo store), never to the terminal.
fn log_to_file(path: &std::path::Path) {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let Ok(file) = std::os::unix::fs::OpenOptionsExt::mode(
        std::fs::OpenOptions::new().create(true).append(true),
        0o600,
    )
    .open(path) else {
        return; // no log rather than a log over the dashboard
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mailtrail=info,warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}

/// Human logs on stderr; `-v` raises the level, `--quiet` keeps only errors (the simulator
/// logs its requests at the default level). `RUST_LOG`
/// overrides both for debugging. Secrets never reach a log: they live in redacting types.
fn init_logging(global: &GlobalOpts, chatty: bool) {
    use tracing_subscriber::EnvFilter;
    let level = if global.quiet {
        "error"
    } else {
        match global.verbose {
            // The simulator's request log is its output.
            0 if chatty => "info",
            0 => "warn",
            1 => "info",
            2 => "debug",
            _ => "trace",
        }
    };
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("mailtrail={level},warn")));
    let ansi = std::env::var_os("NO_COLOR").is_none()
        && std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| SafeStderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}
