//! `mailtrail simulate`: run the simulator alone, print where it listens, serve until Ctrl-C.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::data::Scale;
use super::faults::{FaultPlan, PROFILES};
use super::server::{SimOptions, Simulator, validate_plan};
use crate::Failure;
use crate::cli::{ScaleArg, SimulateArgs};

impl From<ScaleArg> for Scale {
    fn from(s: ScaleArg) -> Scale {
        match s {
            ScaleArg::Small => Scale::Small,
            ScaleArg::Medium => Scale::Medium,
            ScaleArg::Large => Scale::Large,
        }
    }
}

/// Builds simulator options from the command line, refusing bad values with exit code 2.
pub fn options(args: &SimulateArgs) -> Result<SimOptions, Failure> {
    let start = match &args.start {
        None => Utc::now(),
        Some(s) => DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                Failure::usage(format!(
                    "--start '{s}' is not an RFC 3339 time; use e.g. 2026-11-01T12:00:00Z"
                ))
            })?,
    };
    let base = match &args.fault_plan {
        Some(path) => FaultPlan::from_file(path).map_err(|e| Failure::usage(e.to_string()))?,
        None => FaultPlan::default(),
    };
    let faults = base
        .with_profiles(&args.faults)
        .map_err(|e| Failure::usage(e.to_string()))?;
    validate_plan(&faults, start).map_err(|e| Failure::usage(e.to_string()))?;
    Ok(SimOptions {
        port: args.port,
        seed: args.seed,
        scale: args.scale.into(),
        tenants: args.tenants,
        start,
        freeze: args.freeze,
        faults,
    })
}

pub async fn run(args: SimulateArgs) -> Result<(), Failure> {
    let mut stdout = std::io::stdout();
    if args.list_faults {
        for p in PROFILES {
            let _ = writeln!(stdout, "{:<16} {}", p.name, p.about);
        }
        return Ok(());
    }
    let opts = options(&args)?;
    let sim = Simulator::start(opts).await.map_err(|e| {
        Failure::runtime(format!(
            "cannot listen on 127.0.0.1:{}: {e}; choose another --port (0 lets the OS pick)",
            args.port
        ))
    })?;
    let _ = writeln!(stdout, "listening on {}", sim.url());
    if args.print_creds {
        for (i, t) in sim.tenants().iter().enumerate() {
            let _ = writeln!(stdout, "# tenant {} ({})", t.name, t.domain);
            for line in sim.credential_lines(i) {
                let _ = writeln!(stdout, "{line}");
            }
        }
    }
    let _ = stdout.flush();
    wait_for_shutdown().await;
    sim.stop().await;
    Ok(())
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
