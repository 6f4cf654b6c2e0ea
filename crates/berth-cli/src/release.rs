//! `berth release`: write a Release for `kubectl apply -f -`, and read one back
//! (`kubectl get release NAME -o yaml | berth release status -`) as a progress bar per group.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use berth_model::release::{Release, ReleaseGate, ReleasePhase, ReleaseSpec, ReleaseStage};
use clap::{Args, Subcommand};

use crate::Outcome;
use crate::inputs::read_inputs;
use crate::render::Format;

/// `berth release` and its verbs.
#[derive(Args)]
pub struct ReleaseArgs {
    #[command(subcommand)]
    verb: Verb,
}

#[derive(Subcommand)]
enum Verb {
    /// Print a Release that moves Applications to a version, for `kubectl apply -f -`.
    Start(StartArgs),
    /// Show where Releases are: one bar per group, the phase, what the release waits for.
    Status(StatusArgs),
}

#[derive(Args)]
struct StartArgs {
    /// The Applications to release together (in lockstep).
    #[arg(required = true)]
    apps: Vec<String>,
    /// The version to release.
    #[arg(long)]
    version: String,
    /// Namespace of the Applications.
    #[arg(long, short = 'n', default_value = "default")]
    namespace: String,
    /// Name of the Release (default: the first app and the version).
    #[arg(long)]
    name: Option<String>,
    /// Groups (default: the Application's `release.groups`).
    #[arg(long)]
    groups: Option<u32>,
    /// The gate between groups: `interval=10m` or `manual` (default: the Application's).
    #[arg(long)]
    gate: Option<String>,
    /// A group not ready this long after it started stops the release (e.g. `10m`).
    #[arg(long)]
    progress_deadline: Option<String>,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

#[derive(Args)]
struct StatusArgs {
    /// Release objects as `kubectl get release -o yaml|json` prints them, or `-` for stdin.
    #[arg(required = true)]
    files: Vec<PathBuf>,
}

/// `berth release`.
pub fn release(args: &ReleaseArgs) -> Result<Outcome> {
    match &args.verb {
        Verb::Start(a) => start(a),
        Verb::Status(a) => status(a),
    }
}

fn parse_gate(text: &str) -> Result<ReleaseGate> {
    if text == "manual" {
        return Ok(ReleaseGate {
            manual: Some(true),
            ..ReleaseGate::default()
        });
    }
    match text.strip_prefix("interval=") {
        Some(d) if berth_model::parse_duration(d).is_ok() => Ok(ReleaseGate {
            interval: Some(d.to_string()),
            ..ReleaseGate::default()
        }),
        Some(d) => bail!("--gate interval={d}: not a duration; write e.g. `interval=10m`"),
        None => bail!("--gate {text:?}: write `interval=10m` or `manual`"),
    }
}

fn start(a: &StartArgs) -> Result<Outcome> {
    if let Some(d) = &a.progress_deadline {
        berth_model::parse_duration(d).map_err(|e| anyhow::anyhow!("--progress-deadline: {e}"))?;
    }
    if a.groups == Some(0) {
        bail!("--groups: a release has at least 1 group");
    }
    let gate = a.gate.as_deref().map(parse_gate).transpose()?;
    let name = a.name.clone().unwrap_or_else(|| {
        format!(
            "{}-{}",
            a.apps[0],
            berth_model::version_key(&a.apps[0], &a.version)
        )
    });
    let mut r = Release::new(
        &name,
        ReleaseSpec {
            apps: a.apps.clone(),
            version: a.version.clone(),
            groups: a.groups,
            gate,
            progress_deadline: a.progress_deadline.clone(),
            paused: false,
            rollback: false,
            approvals: Vec::new(),
        },
    );
    r.metadata.namespace = Some(a.namespace.clone());
    let mut v = serde_json::to_value(&r)?;
    if let Some(m) = v.as_object_mut() {
        // A new object has no status; kubectl would refuse `status: null`.
        m.remove("status");
    }
    match a.output {
        Format::Json => println!("{}", serde_json::to_string_pretty(&v)?),
        Format::Yaml => print!("---\n{}", serde_saphyr::to_string(&v)?),
    }
    Ok(Outcome::Clean)
}

/// One Release as text.
pub fn describe(r: &Release) -> String {
    let mut out = String::new();
    let name = r.metadata.name.as_deref().unwrap_or("(unnamed)");
    let ns = r.metadata.namespace.as_deref().unwrap_or("default");
    let _ = writeln!(
        out,
        "release {ns}/{name}: {} → {}",
        r.spec.apps.join(", "),
        r.spec.version
    );
    let Some(st) = r.status.as_ref().filter(|s| s.phase.is_some()) else {
        let _ = writeln!(out, "  not started yet (no status from the operator)");
        return out;
    };
    let phase = st.phase.map_or("?", |p| p.as_str());
    let stage = match st.stage {
        Some(ReleaseStage::Surge) => "new pods surging",
        Some(ReleaseStage::Shrink) => "old pods stopping",
        None => "",
    };
    let groups = st.groups.len().max(1);
    let _ = writeln!(
        out,
        "  phase {phase}, group {} of {groups}{}",
        st.group,
        if stage.is_empty() || !matches!(st.phase, Some(ReleasePhase::Progressing)) {
            String::new()
        } else {
            format!(" ({stage})")
        }
    );
    for (i, g) in st.groups.iter().enumerate() {
        let k = i as u32 + 1;
        let (bar, what) = if g.ready.is_some() {
            (
                "##########",
                format!("done {}", g.ready.as_deref().unwrap_or("")),
            )
        } else if g.started.is_some() {
            let half = if st.stage == Some(ReleaseStage::Shrink) {
                "#######---"
            } else {
                "###-------"
            };
            (
                half,
                format!("moving since {}", g.started.as_deref().unwrap_or("")),
            )
        } else {
            ("----------", "waiting".to_string())
        };
        let gate = match &g.gate_passed {
            Some(t) => format!("; gate passed {t}"),
            None if g.ready.is_some() && k < groups as u32 => "; gate closed".into(),
            None => String::new(),
        };
        let _ = writeln!(out, "  group {k} [{bar}] {what}{gate}");
    }
    if let Some(last) = st.history.last() {
        let _ = writeln!(out, "  last: {} ({})", last.message, last.time);
    }
    for c in &st.conditions {
        if c.status == "True" {
            let _ = writeln!(out, "  {}: {}", c.type_, c.message);
        }
    }
    out
}

fn status(a: &StatusArgs) -> Result<Outcome> {
    let mut shown = 0;
    for input in read_inputs(&a.files)? {
        let text = berth_manifest::decode_text(&input.name, &input.bytes)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        let (objects, errors) = berth_manifest::load_objects(&input.name, text);
        if let Some(e) = errors.first() {
            bail!("{e}");
        }
        for o in objects.iter().filter(|o| o.kind() == "Release") {
            let r: Release = serde_json::from_value(o.node.to_json_present())
                .with_context(|| format!("{}: not a Release berth can read", input.name))?;
            print!("{}", describe(&r));
            shown += 1;
        }
    }
    if shown == 0 {
        bail!(
            "no Release in the input; pipe `kubectl get release NAME -o yaml` into `berth release status -`"
        );
    }
    Ok(Outcome::Clean)
}
