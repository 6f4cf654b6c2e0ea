//! `berth sim` and `berth demo`: run scenarios on the simulator and print what happened.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use berth_sim::{Report, Sim, load_scenario};
use clap::{Args, ValueEnum};

use crate::Outcome;

/// Output format of `berth sim`.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SimFormat {
    /// A timeline, a summary table and the assertions.
    Text,
    /// One JSON document.
    Json,
}

/// Arguments of `berth sim`.
#[derive(Args)]
pub struct SimArgs {
    /// The scenario file (`kind: Scenario`).
    scenario: PathBuf,
    /// Seed of every random choice (default: the scenario's, else 1).
    #[arg(long)]
    seed: Option<u64>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = SimFormat::Text)]
    output: SimFormat,
    /// Which Events the text timeline shows: all of them, or leave out the routine ones
    /// of every pod's life (created, scheduled, pulling, started, killing).
    #[arg(long, value_enum, default_value_t = Timeline::All)]
    timeline: Timeline,
}

/// Events shown in the text timeline.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Timeline {
    /// Every Event.
    All,
    /// Leave out the routine Events of each pod's life.
    Key,
}

/// Routine Events of a pod's life, left out by `--timeline key`.
const ROUTINE: &[&str] = &[
    "SuccessfulCreate",
    "Scheduled",
    "Pulling",
    "Started",
    "Killing",
];

/// Reads a scenario file and the files it names (relative to it).
pub fn read_scenario(path: &Path) -> Result<berth_sim::Scenario, Outcome> {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: cannot read {}: {e}", path.display());
            return Err(Outcome::Failed);
        }
    };
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let read = |name: &str| -> Result<String, String> {
        let p = dir.join(name);
        std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
    };
    load_scenario(&path.display().to_string(), &text, &read).map_err(|diags| {
        for d in diags {
            eprintln!("{d}");
        }
        Outcome::Failed
    })
}

fn print_report(report: &Report, format: SimFormat) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match format {
        SimFormat::Text => out.write_all(report.to_text().as_bytes())?,
        SimFormat::Json => {
            serde_json::to_writer_pretty(&mut out, &report.to_json())?;
            out.write_all(b"\n")?;
        }
    }
    Ok(())
}

/// `berth sim`.
pub fn sim(args: &SimArgs) -> Result<Outcome> {
    let mut scenario = match read_scenario(&args.scenario) {
        Ok(s) => s,
        Err(o) => return Ok(o),
    };
    if let Some(seed) = args.seed {
        scenario.seed = seed;
    }
    let report = Sim::new(scenario)
        .with_context(|| format!("cannot start {}", args.scenario.display()))?
        .run();
    let shown = match args.timeline {
        Timeline::All => report.clone(),
        Timeline::Key => {
            let mut r = report.clone();
            r.events.retain(|e| !ROUTINE.contains(&e.reason.as_str()));
            r
        }
    };
    // JSON always carries every Event.
    print_report(
        if args.output == SimFormat::Json {
            &report
        } else {
            &shown
        },
        args.output,
    )?;
    Ok(if report.passed() {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}
