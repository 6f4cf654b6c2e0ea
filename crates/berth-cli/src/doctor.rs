//! `berth doctor`: lint any Kubernetes YAML or JSON.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::{Result, bail};
use berth_doctor::{Report, Severity};
use berth_manifest::LoadErrorKind;
use clap::{Args, ValueEnum};

use crate::Outcome;
use crate::inputs::read_inputs;

/// Arguments of `berth doctor`.
#[derive(Args)]
pub struct DoctorArgs {
    /// Files, directories (walked for *.yaml, *.yml, *.json) or `-` for standard input.
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Exit with status 1 when a finding reaches this severity.
    #[arg(long, value_name = "SEVERITY", default_value = "error", value_parser = parse_severity)]
    fail_on: Severity,
    /// List the rules and exit.
    #[arg(long)]
    list_rules: bool,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Table,
    Json,
    Sarif,
}

fn parse_severity(s: &str) -> Result<Severity, String> {
    s.parse::<Severity>().map_err(|e| e.to_string())
}

/// Runs the doctor over every input.
pub fn doctor(args: &DoctorArgs) -> Result<Outcome> {
    if args.list_rules {
        let width = berth_doctor::rules()
            .iter()
            .map(|r| r.id.len())
            .max()
            .unwrap_or(0);
        for r in berth_doctor::rules() {
            println!("{:<width$}  {:<7}  {}", r.id, r.severity, r.summary);
        }
        return Ok(Outcome::Clean);
    }
    if args.paths.is_empty() {
        bail!("no input: name files or directories, or `-` for standard input");
    }
    let mut objects = Vec::new();
    let mut errors = Vec::new();
    let mut skipped = 0;
    for input in read_inputs(&args.paths)? {
        let (o, e) = berth_manifest::load_bytes(&input.name, &input.bytes);
        objects.extend(o);
        for err in e {
            // A repository holds YAML that is not Kubernetes (CI workflows, values.yaml,
            // Chart.yaml, Helm templates): skip it when it was found by walking a directory;
            // a file named on the command line is always reported.
            let foreign = matches!(
                err.kind,
                LoadErrorKind::NotAnObject | LoadErrorKind::Template
            );
            if input.walked && foreign {
                skipped += 1;
            } else {
                errors.push(err);
            }
        }
    }
    if skipped > 0 {
        eprintln!(
            "note: skipped {skipped} document(s) found in directories that are not Kubernetes objects or are unrendered templates; name a file to check it anyway"
        );
    }
    let report = Report::new(&objects, errors);
    match args.output {
        Format::Table => {
            let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
            // The table lists unreadable inputs in place; stderr only says that some were.
            print!("{}", berth_doctor::output::table(&report, color));
            if !report.errors.is_empty() {
                eprintln!(
                    "error: {} document(s) could not be read; see `input error:` above",
                    report.errors.len()
                );
            }
        }
        Format::Json => println!("{}", berth_doctor::output::json(&report)),
        Format::Sarif => println!("{}", berth_doctor::output::sarif(&report)),
    }
    Ok(if !report.errors.is_empty() {
        Outcome::Failed
    } else if report.reaches(args.fail_on) {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
