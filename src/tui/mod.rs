//! `mailtrail tui`: the dashboard over a store, offline ([`run`]) or while a background sync
//! writes it ([`run_live`], used by `mailtrail demo`).
//!
//! Structure (see STYLE.md): terminal events become [`Action`]s, [`app::App::update`] is the
//! only place state changes, views are components that draw from their state alone, and all
//! SQL lives in `store::views`, reached through [`loader`] on a worker thread that owns a
//! read-only connection. The first frame is painted before any query runs.
//!
//! While the UI is up, this module's logs go to `mailtrail-tui.log` beside the store, a panic
//! restores the terminal before its message is printed, and a panic on another thread is
//! written to that log instead of the screen. [`Headless`] drives the very same App through
//! the same Action path into a `TestBackend`, for tests and benchmarks.

pub mod action;
pub mod activity;
pub mod app;
pub mod campaigns;
pub mod component;
pub mod detail;
pub mod filter;
pub mod health;
pub mod help;
pub mod list;
pub mod loader;
pub mod notes;
pub mod overview;
pub mod text;
pub mod threats;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event, KeyEvent, MouseEvent};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;

pub use action::{Action, Pivot, ViewId};
pub use app::App;

use crate::Failure;
use crate::store::Store;
use loader::{Loaded, Loader, Workers};

/// How the dashboard runs.
#[derive(Debug, Clone)]
pub struct TuiOptions {
    /// A fixed "now" (epoch ms) for periods, `since:` durations and relative times; None uses
    /// the clock. Tests fix it so screens are stable.
    pub now_ms: Option<i64>,
    /// The configured sync interval: a stream without success for three of them is STALE.
    pub interval: Duration,
    /// Rows per page fetched from the store.
    pub page_size: usize,
    /// A filter to start with (the `/` syntax).
    pub filter: Option<String>,
    /// Capture the mouse (wheel and clicks). Off leaves the terminal's own selection working.
    pub mouse: bool,
    /// Force colour on or off; None follows `NO_COLOR`.
    pub color: Option<bool>,
}

impl Default for TuiOptions {
    fn default() -> Self {
        TuiOptions {
            now_ms: None,
            interval: Duration::from_secs(300),
            page_size: 200,
            filter: None,
            mouse: true,
            color: None,
        }
    }
}

/// Where the dashboard logs while it is up: beside the store.
pub fn log_path(store: &Path) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .join("mailtrail-tui.log")
}

/// The offline dashboard over the store at `store` (opened read-only). Returns when the user
/// quits.
pub fn run(store: &Path, opts: TuiOptions) -> Result<(), Failure> {
    run_terminal(store, opts, None)
}

/// The dashboard while a sync writes the store: counts, lists and sync health are re-read
/// every `health_refresh`.
pub fn run_live(store: &Path, opts: TuiOptions, health_refresh: Duration) -> Result<(), Failure> {
    run_terminal(
        store,
        opts,
        Some(health_refresh.max(Duration::from_millis(200))),
    )
}

/// What the UI loop waits on: terminal input or a query result.
enum Incoming {
    Input(Event),
    Loaded(Box<Loaded>),
}

fn run_terminal(path: &Path, opts: TuiOptions, live: Option<Duration>) -> Result<(), Failure> {
    // Fail on a missing or foreign store before touching the terminal.
    let store = Store::open_read_only(path)?;
    let log_file = open_log(path)?;
    let dispatch = file_dispatch(log_file.clone());
    let _log_guard = tracing::dispatcher::set_default(&dispatch);
    tracing::info!("dashboard opened on {}", path.display());

    let mouse = opts.mouse;
    let hook = PanicHook::install(log_file.clone(), mouse);
    let mut terminal = TerminalGuard::enter(mouse)
        .map_err(|e| Failure::runtime(format!("cannot set up the terminal: {e}")))?;
    let size = terminal
        .term
        .size()
        .map_err(|e| Failure::runtime(format!("cannot read the terminal size: {e}")))?;
    let mut app = App::new(opts, live.is_some(), size.width, size.height);

    // Paint before the first query.
    terminal
        .term
        .draw(|f| app.draw(f))
        .map_err(|e| Failure::runtime(format!("cannot draw: {e}")))?;

    let (incoming_tx, incoming) = mpsc::channel::<Incoming>();
    let workers = {
        let tx = incoming_tx.clone();
        Workers::spawn(
            store,
            path,
            move |l| tx.send(Incoming::Loaded(Box::new(l))).is_ok(),
            dispatch.clone(),
        )?
    };
    let stop = Arc::new(AtomicBool::new(false));
    let input = {
        let tx = incoming_tx;
        let stop = stop.clone();
        std::thread::Builder::new()
            .name("tui-input".into())
            .spawn(move || {
                // Polling with a timeout lets the thread end when the UI does.
                while !stop.load(Ordering::Relaxed) {
                    match crossterm::event::poll(Duration::from_millis(100)) {
                        Ok(true) => match crossterm::event::read() {
                            Ok(ev) => {
                                if tx.send(Incoming::Input(ev)).is_err() {
                                    break;
                                }
                            }
                            Err(e) => {
                                tracing::error!("reading terminal input: {e}");
                                break;
                            }
                        },
                        Ok(false) => {}
                        Err(e) => {
                            tracing::error!("polling terminal input: {e}");
                            break;
                        }
                    }
                }
            })
            .map_err(|e| Failure::runtime(format!("cannot read the terminal: {e}")))?
    };

    app.start();
    let mut last_refresh = Instant::now();
    let result = loop {
        for r in app.take_requests() {
            workers.send(r);
        }
        let wait = live.map_or(Duration::from_millis(500), |every| {
            every.saturating_sub(last_refresh.elapsed())
        });
        let mut batch = Vec::new();
        match incoming.recv_timeout(wait) {
            Ok(first) => {
                batch.push(first);
                // Whatever else is waiting is applied before the next frame.
                batch.extend(incoming.try_iter());
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                break Err(Failure::runtime(
                    "the dashboard lost its input; see mailtrail-tui.log",
                ));
            }
        }
        for item in batch {
            match item {
                Incoming::Input(ev) => {
                    if let Some(a) = app.handle_event(&ev) {
                        app.update(a);
                    }
                }
                Incoming::Loaded(l) => app.update(Action::Loaded(l)),
            }
        }
        if let Some(every) = live
            && last_refresh.elapsed() >= every
        {
            app.update(Action::Tick);
            last_refresh = Instant::now();
        }
        if app.should_quit() {
            break Ok(());
        }
        if let Err(e) = terminal.term.draw(|f| app.draw(f)) {
            break Err(Failure::runtime(format!("cannot draw: {e}")));
        }
    };
    stop.store(true, Ordering::Relaxed);
    let _ = input.join();
    drop(terminal);
    drop(hook);
    workers.shutdown();
    tracing::info!("dashboard closed");
    result
}

fn open_log(store: &Path) -> Result<Arc<std::fs::File>, Failure> {
    let path = log_path(store);
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map(Arc::new)
        .map_err(|e| {
            Failure::runtime(format!(
                "cannot open the dashboard log {}: {e}; fix: make the store's directory writable",
                path.display()
            ))
        })
}

/// A subscriber writing plain lines to the log file (no colour codes in a file).
fn file_dispatch(file: Arc<std::fs::File>) -> tracing::Dispatch {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("mailtrail=info,warn"));
    tracing::Dispatch::new(
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(file)
            .with_ansi(false)
            .finish(),
    )
}

/// Raw mode, the alternate screen and mouse capture, undone on drop (also on an early return).
struct TerminalGuard {
    term: Terminal<CrosstermBackend<std::io::Stdout>>,
    mouse: bool,
}

impl TerminalGuard {
    fn enter(mouse: bool) -> std::io::Result<TerminalGuard> {
        enable_raw_mode()?;
        let mut out = std::io::stdout();
        let entered = if mouse {
            execute!(out, EnterAlternateScreen, EnableMouseCapture)
        } else {
            execute!(out, EnterAlternateScreen)
        };
        if let Err(e) = entered {
            restore_terminal(mouse);
            return Err(e);
        }
        match Terminal::new(CrosstermBackend::new(std::io::stdout())) {
            Ok(mut term) => {
                let _ = term.hide_cursor();
                let _ = term.clear();
                Ok(TerminalGuard { term, mouse })
            }
            Err(e) => {
                restore_terminal(mouse);
                Err(e)
            }
        }
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal(self.mouse);
        let _ = self.term.show_cursor();
    }
}

/// Leaves raw mode and the alternate screen; safe to call more than once.
fn restore_terminal(mouse: bool) {
    let mut out = std::io::stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, LeaveAlternateScreen, crossterm::cursor::Show);
    let _ = disable_raw_mode();
}

type Hook = Box<dyn Fn(&std::panic::PanicHookInfo<'_>) + Sync + Send + 'static>;

/// While installed: a panic on the UI thread restores the terminal first and then reports as
/// usual; a panic elsewhere goes to the log, not over the screen. Dropping it puts the
/// previous hook back.
struct PanicHook {
    previous: Arc<Hook>,
}

impl PanicHook {
    fn install(log: Arc<std::fs::File>, mouse: bool) -> PanicHook {
        let previous: Arc<Hook> = Arc::new(std::panic::take_hook());
        let ui = std::thread::current().id();
        let prev = previous.clone();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().id() == ui {
                restore_terminal(mouse);
                prev(info);
            } else {
                let name = std::thread::current().name().unwrap_or("?").to_string();
                let _ = writeln!(&*log, "panic in thread {name}: {info}");
            }
        }));
        PanicHook { previous }
    }
}

impl Drop for PanicHook {
    fn drop(&mut self) {
        let previous = self.previous.clone();
        std::panic::set_hook(Box::new(move |info| previous(info)));
    }
}

/// The dashboard without a terminal: the same App, the same Action path, requests answered
/// inline, frames drawn into a `TestBackend`. For tests and benchmarks.
pub struct Headless {
    app: App,
    loader: Loader,
    terminal: Terminal<TestBackend>,
    /// Background requests held back by [`Headless::pump_interactive`].
    held: Vec<loader::Request>,
}

impl Headless {
    /// Opens the store read-only and loads the first screen.
    pub fn open(
        store: &Path,
        opts: TuiOptions,
        width: u16,
        height: u16,
    ) -> Result<Headless, Failure> {
        let mut h = Headless::open_unloaded(store, opts, width, height)?;
        h.app.start();
        h.pump();
        Ok(h)
    }

    /// Opens without asking the store anything yet: what the first frame shows.
    pub fn open_unloaded(
        store: &Path,
        opts: TuiOptions,
        width: u16,
        height: u16,
    ) -> Result<Headless, Failure> {
        let store = Store::open_read_only(store)?;
        let terminal = Terminal::new(TestBackend::new(width, height))
            .map_err(|e| Failure::runtime(e.to_string()))?;
        Ok(Headless {
            app: App::new(opts, false, width, height),
            loader: Loader::new(store),
            terminal,
            held: Vec::new(),
        })
    }

    /// Runs every pending request and applies its result, until nothing is pending.
    pub fn pump(&mut self) {
        loop {
            let mut pending = std::mem::take(&mut self.held);
            pending.extend(self.app.take_requests());
            let requests = loader::coalesce(pending);
            if requests.is_empty() {
                break;
            }
            for r in requests {
                let loaded = self.loader.run(r);
                self.app.update(Action::Loaded(Box::new(loaded)));
            }
        }
    }

    /// Runs only the pending requests of the interactive lane (pages, details), leaving the
    /// background ones (counts, overview, health) queued: what the terminal shows first.
    pub fn pump_interactive(&mut self) {
        loop {
            let (now, later): (Vec<_>, Vec<_>) = self
                .app
                .take_requests()
                .into_iter()
                .partition(|r| r.lane() == loader::Lane::Interactive);
            self.held.extend(later);
            if now.is_empty() {
                break;
            }
            for r in loader::coalesce(now) {
                let loaded = self.loader.run(r);
                self.app.update(Action::Loaded(Box::new(loaded)));
            }
        }
    }

    /// A key press, mapped and applied as in the terminal, then its queries answered.
    pub fn key(&mut self, key: KeyEvent) {
        self.press(key);
        self.pump();
    }

    /// A key press, mapped and applied, with no query answered yet.
    pub fn press(&mut self, key: KeyEvent) {
        if let Some(a) = self.app.handle_event(&Event::Key(key)) {
            self.app.update(a);
        }
    }

    /// Types each character of `text` as a key press.
    pub fn type_text(&mut self, text: &str) {
        for c in text.chars() {
            let m = if c.is_ascii_uppercase() {
                crossterm::event::KeyModifiers::SHIFT
            } else {
                crossterm::event::KeyModifiers::NONE
            };
            self.key(KeyEvent::new(crossterm::event::KeyCode::Char(c), m));
        }
    }

    pub fn mouse(&mut self, mouse: MouseEvent) {
        if let Some(a) = self.app.handle_event(&Event::Mouse(mouse)) {
            self.app.update(a);
        }
        self.pump();
    }

    /// Applies an action directly (as the event loop does for ticks and loads).
    pub fn dispatch(&mut self, action: Action) {
        self.app.update(action);
        self.pump();
    }

    pub fn resize(&mut self, width: u16, height: u16) {
        self.terminal.backend_mut().resize(width, height);
        let _ = self
            .terminal
            .resize(ratatui::layout::Rect::new(0, 0, width, height));
        self.dispatch(Action::Resize(width, height));
    }

    /// Draws a frame and returns the screen as text, one line per row.
    pub fn render(&mut self) -> String {
        let app = &self.app;
        let _ = self.terminal.draw(|f| app.draw(f));
        screen_text(self.terminal.backend().buffer())
    }

    pub fn buffer(&self) -> &Buffer {
        self.terminal.backend().buffer()
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

/// A buffer as plain text (trailing spaces trimmed), for snapshots and assertions.
pub fn screen_text(buffer: &Buffer) -> String {
    let area = buffer.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let mut line = String::new();
        let mut skip = 0;
        for x in area.left()..area.right() {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            let cell = &buffer[(x, y)];
            let sym = cell.symbol();
            line.push_str(sym);
            // A wide character covers the next cell too.
            skip = unicode_width(sym).saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn unicode_width(s: &str) -> usize {
    use ratatui::text::Span;
    Span::raw(s).width()
}
