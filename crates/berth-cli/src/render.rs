//! `berth render` and `berth validate`.

use std::path::PathBuf;

use anyhow::Result;
use berth_model::{Application, Diagnostic, Severity, load_applications};
use clap::{Args, ValueEnum};

use crate::Outcome;
use crate::inputs::read_inputs;

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

/// Output format of printed manifests.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// A multi-document YAML stream.
    Yaml,
    /// A JSON `List`.
    Json,
}

/// What loading the named spec files gave.
struct Loaded {
    apps: Vec<Application>,
    /// Some spec has errors.
    invalid: bool,
    /// Some file is not text at all.
    unreadable: bool,
    warnings: usize,
}

impl Loaded {
    fn outcome(&self) -> Option<Outcome> {
        if self.unreadable {
            Some(Outcome::Failed)
        } else if self.invalid {
            Some(Outcome::Problems)
        } else {
            None
        }
    }
}

/// Loads every Application, printing diagnostics to stderr.
fn load_all(files: &[PathBuf]) -> Result<Loaded> {
    let mut apps = Vec::new();
    let mut failed = false;
    let mut unreadable = false;
    let mut warnings = 0;
    let mut skipped = 0;
    for input in read_inputs(files)? {
        let text = match berth_manifest::decode_text(&input.name, &input.bytes) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                unreadable = true;
                continue;
            }
        };
        let (found, diags) = if input.walked {
            // A walked directory may hold other manifests and scenarios beside the
            // Applications: read only the Applications.
            let (docs, errors) = berth_manifest::load_documents(&input.name, text);
            let mut found = Vec::new();
            let mut diags: Vec<Diagnostic> = errors
                .into_iter()
                .map(|e| Diagnostic {
                    severity: Severity::Error,
                    file: e.file,
                    pos: e.pos,
                    path: String::new(),
                    message: e.message,
                    fix: e.hint,
                })
                .collect();
            for doc in &docs {
                let is_app = doc.root.get("kind").and_then(berth_manifest::Node::as_str)
                    == Some(berth_model::KIND)
                    && doc
                        .root
                        .get("apiVersion")
                        .and_then(berth_manifest::Node::as_str)
                        == Some(berth_model::API_VERSION);
                if is_app {
                    let (app, d) = berth_model::load_application_document(&input.name, doc);
                    found.extend(app);
                    diags.extend(d);
                }
            }
            if found.is_empty() && diags.is_empty() {
                skipped += 1;
                continue;
            }
            (found, diags)
        } else {
            load_applications(&input.name, text)
        };
        for d in &diags {
            print_diagnostic(d);
        }
        failed |= diags.iter().any(|d| d.severity == Severity::Error);
        warnings += diags
            .iter()
            .filter(|d| d.severity == Severity::Warning)
            .count();
        if found.is_empty() && diags.is_empty() {
            eprintln!("warning: {}: no Application in this file", input.name);
        }
        apps.extend(found);
    }
    if skipped > 0 {
        eprintln!(
            "note: {skipped} file{} found in directories hold no Application and {} skipped",
            if skipped == 1 { "" } else { "s" },
            if skipped == 1 { "was" } else { "were" }
        );
    }
    Ok(Loaded {
        apps,
        invalid: failed,
        unreadable,
        warnings,
    })
}

fn print_diagnostic(d: &Diagnostic) {
    eprintln!("{d}");
}

/// Renders every Application.
pub fn render(args: &RenderArgs) -> Result<Outcome> {
    let loaded = load_all(&args.files)?;
    if let Some(outcome) = loaded.outcome() {
        eprintln!("error: nothing rendered: fix the errors above first");
        return Ok(outcome);
    }
    let mut objects = Vec::new();
    for app in &loaded.apps {
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
    let loaded = load_all(&args.files)?;
    if let Some(outcome) = loaded.outcome() {
        return Ok(outcome);
    }
    let Loaded { apps, warnings, .. } = loaded;
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
