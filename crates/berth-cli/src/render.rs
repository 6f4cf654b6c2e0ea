//! `berth render` and `berth validate`.

use std::path::PathBuf;

use anyhow::Result;
use berth_model::{Application, Diagnostic, Severity, load_applications};
use clap::{Args, ValueEnum};

use crate::Outcome;
use crate::inputs::{read_inputs, text};

/// Arguments of `berth render`.
#[derive(Args)]
pub struct RenderArgs {
    /// Application spec files (or directories of them, or `-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Version to render (sets the image tag); defaults to spec.version or the image tag.
    #[arg(long)]
    version: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

/// Arguments of `berth validate`.
#[derive(Args)]
pub struct ValidateArgs {
    /// Application spec files (or directories of them, or `-` for standard input).
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Loads every Application, printing diagnostics to stderr. `None` when any has an error.
fn load_all(files: &[PathBuf]) -> Result<(Vec<Application>, bool, usize)> {
    let mut apps = Vec::new();
    let mut failed = false;
    let mut warnings = 0;
    for input in read_inputs(files)? {
        let (found, diags) = load_applications(&input.name, text(&input)?);
        for d in &diags {
            print_diagnostic(d);
        }
        failed |= diags.iter().any(|d| d.severity == Severity::Error);
        warnings += diags.iter().filter(|d| d.severity == Severity::Warning).count();
        if found.is_empty() && diags.is_empty() {
            eprintln!("warning: {}: no Application in this file", input.name);
        }
        apps.extend(found);
    }
    Ok((apps, failed, warnings))
}

fn print_diagnostic(d: &Diagnostic) {
    eprintln!("{d}");
}

/// Renders every Application.
pub fn render(args: &RenderArgs) -> Result<Outcome> {
    let (apps, failed, _) = load_all(&args.files)?;
    if failed {
        eprintln!("error: nothing rendered: fix the errors above first");
        return Ok(Outcome::Problems);
    }
    let mut objects = Vec::new();
    for app in &apps {
        objects.extend(berth_render::render(app, args.version.as_deref())?);
    }
    match args.output {
        Format::Yaml => print!("{}", berth_render::to_yaml(&objects)?),
        Format::Json => println!("{}", berth_render::to_json_list(&objects)?),
    }
    Ok(Outcome::Clean)
}

/// Validates every Application and says how it went.
pub fn validate(args: &ValidateArgs) -> Result<Outcome> {
    let (apps, failed, warnings) = load_all(&args.files)?;
    if failed {
        return Ok(Outcome::Problems);
    }
    eprintln!(
        "{} Application{} valid{}",
        apps.len(),
        if apps.len() == 1 { "" } else { "s" },
        match warnings {
            0 => String::new(),
            n => format!(", {n} warning{}", if n == 1 { "" } else { "s" }),
        }
    );
    Ok(Outcome::Clean)
}
