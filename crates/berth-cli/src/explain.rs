//! `berth explain`: why the scheduler would put a pod where it does.

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use berth_manifest::Object;
use berth_scheduler::plugins::balanced_allocation::Formula;
use berth_scheduler::{Cluster, Decision, PodInfo, Profile, State, schedule};
use clap::{Args, ValueEnum};

use crate::Outcome;
use crate::inputs::read_inputs;

/// Arguments `berth explain` and `berth place` share: the cluster, the profile, ties, output.
#[derive(Args)]
pub struct SchedulerArgs {
    /// `kubectl get nodes,pods -A -o json` output (repeat for several files).
    #[arg(long, required = true)]
    pub snapshot: Vec<PathBuf>,
    /// A KubeSchedulerConfiguration whose profile to use instead of the default one.
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// Seed for breaking ties between equally scored nodes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    pub output: Format,
}

/// Arguments of `berth explain`.
#[derive(Args)]
pub struct ExplainArgs {
    #[command(flatten)]
    common: SchedulerArgs,
    /// A pod of the snapshot, as NAMESPACE/NAME: explained as if it were being scheduled now.
    #[arg(
        long,
        conflicts_with = "pod_file",
        required_unless_present = "pod_file"
    )]
    pod: Option<String>,
    /// A Pod, or a workload whose pod template is placed (Deployment, StatefulSet, ...).
    #[arg(long)]
    pod_file: Option<PathBuf>,
    /// Show only this node.
    #[arg(long)]
    node: Option<String>,
    /// BalancedAllocation formula: today's, the legacy 0–10 one, or upstream master's.
    #[arg(long, value_enum, default_value_t = Balanced::Current)]
    balanced: Balanced,
}

/// Table or JSON.
#[derive(Clone, Copy, ValueEnum)]
pub enum Format {
    /// Aligned text.
    Table,
    /// JSON.
    Json,
}

#[derive(Clone, Copy, ValueEnum)]
enum Balanced {
    Current,
    Legacy,
    Improvement,
}

/// The profile of a KubeSchedulerConfiguration file, or the default profile.
pub fn profile(config: Option<&PathBuf>) -> Result<Profile> {
    let Some(path) = config else {
        return Ok(Profile::default());
    };
    let objects = load(std::slice::from_ref(path))?;
    let o = objects
        .first()
        .with_context(|| format!("{}: no KubeSchedulerConfiguration", path.display()))?;
    berth_scheduler::profile_from_config(&o.node).map_err(|e| {
        let at = o.node.pos_of(&berth_manifest::FieldPath::parse(&e.path));
        anyhow::anyhow!("{}:{}:{}: {e}", path.display(), at.line, at.col)
    })
}

/// Reads every object of the named inputs; the first unreadable document is an error.
pub fn load(paths: &[PathBuf]) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    for input in read_inputs(paths)? {
        let (o, errors) = berth_manifest::load_bytes(&input.name, &input.bytes);
        if let Some(e) = errors.first() {
            bail!("{e}");
        }
        objects.extend(o);
    }
    Ok(objects)
}

/// Explains one scheduling decision.
pub fn explain(args: &ExplainArgs) -> Result<Outcome> {
    let mut objects = load(&args.common.snapshot)?;
    let pod = match (&args.pod, &args.pod_file) {
        (Some(id), _) => {
            let (ns, name) = id
                .split_once('/')
                .with_context(|| format!("--pod {id:?}: write NAMESPACE/NAME"))?;
            let at = objects
                .iter()
                .position(|o| {
                    o.kind() == "Pod"
                        && o.name() == name
                        && o.namespace().unwrap_or("default") == ns
                })
                .with_context(|| format!("--pod {id}: no such Pod in the snapshot"))?;
            // Explained as if it were being scheduled now: it no longer holds its node.
            let o = objects.remove(at);
            let mut p = PodInfo::from_object(&o);
            p.node_name = None;
            p
        }
        (None, Some(f)) => {
            let objs = load(std::slice::from_ref(f))?;
            let o = objs
                .iter()
                .find(|o| o.kind() == "Pod" || o.node.path(&["spec", "template"]).is_some())
                .with_context(|| {
                    format!("{}: no Pod or workload with a pod template", f.display())
                })?;
            PodInfo::from_object(o)
        }
        (None, None) => bail!("name the pod with --pod NAMESPACE/NAME or --pod-file FILE"),
    };
    let cluster = Cluster::from_objects(&objects);
    if cluster.nodes.is_empty() {
        bail!("the snapshot has no Node objects: use `kubectl get nodes,pods -A -o json`");
    }
    if let Some(n) = &args.node
        && cluster.node_index(n).is_none()
    {
        bail!("--node {n}: no such node in the snapshot");
    }
    let profile = Profile {
        ..profile(args.common.config.as_ref())?
    };
    let profile = Profile {
        balanced: match args.balanced {
            Balanced::Current => Formula::Current,
            Balanced::Legacy => Formula::Legacy,
            Balanced::Improvement => Formula::Improvement,
        },
        ..profile
    };
    let decision = schedule(&cluster, &pod, &profile, &mut State::new(args.common.seed));
    match args.common.output {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json(&pod, &decision, args.node.as_deref()))?
        ),
        Format::Table => print!("{}", table(&pod, &decision, &profile, args.node.as_deref())),
    }
    Ok(if decision.selected.is_some() {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn shown<'a>(
    d: &'a Decision,
    only: Option<&'a str>,
) -> impl Iterator<Item = &'a berth_scheduler::NodeResult> {
    d.nodes
        .iter()
        .filter(move |n| only.is_none_or(|o| *o == *n.name))
}

fn json(pod: &PodInfo, d: &Decision, only: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "pod": {"namespace": pod.namespace, "name": pod.name},
        "nodes": shown(d, only).map(|n| serde_json::json!({
            "name": &*n.name,
            "feasible": n.feasible,
            "reasons": n.reasons,
            "scored": n.scored,
            "scores": n.scores.iter().map(|(k, s)| (k.to_string(), serde_json::json!(s.normalized))).collect::<serde_json::Map<_, _>>(),
            "rawScores": n.scores.iter().map(|(k, s)| (k.to_string(), serde_json::json!(s.raw))).collect::<serde_json::Map<_, _>>(),
            "total": n.total,
            "rank": n.rank,
        })).collect::<Vec<_>>(),
        "skipped": d.skipped,
        "selected": d.selected,
        "message": d.message,
    })
}

fn table(pod: &PodInfo, d: &Decision, profile: &Profile, only: Option<&str>) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Pod {}/{}", pod.namespace, pod.name);
    let plugins: Vec<(&str, i64)> = profile.scores.iter().map(|(p, w)| (*p, *w)).collect();
    let width = d
        .nodes
        .iter()
        .map(|n| n.name.len())
        .max()
        .unwrap_or(4)
        .max(4);
    let _ = write!(out, "{:<width$}  {:>4}  {:>5}", "NODE", "RANK", "TOTAL");
    for (p, w) in &plugins {
        let _ = write!(out, "  {}×{w}", short(p));
    }
    let _ = writeln!(out);
    for n in shown(d, only) {
        let mark = if d.selected.as_deref() == Some(&*n.name) {
            "*"
        } else {
            " "
        };
        if !n.feasible {
            let _ = writeln!(
                out,
                "{:<width$}  {:>4}  {:>5}  {}: {}",
                n.name,
                "-",
                "-",
                n.failed_plugin.unwrap_or(""),
                n.reasons.join(", ")
            );
            continue;
        }
        if !n.scored {
            let _ = writeln!(
                out,
                "{:<width$}  {:>4}  {:>5}  feasible, not scored (enough feasible nodes were found first)",
                n.name, "-", "-"
            );
            continue;
        }
        let _ = write!(
            out,
            "{:<width$}  {:>3}{mark}  {:>5}",
            n.name,
            n.rank.unwrap_or(0),
            n.total
        );
        for (p, _) in &plugins {
            match n.score(p) {
                Some(s) if s.raw != s.normalized => {
                    let _ = write!(
                        out,
                        "  {:>w$}",
                        format!("{} ({})", s.normalized, s.raw),
                        w = short(p).len() + 2
                    );
                }
                Some(s) => {
                    let _ = write!(out, "  {:>w$}", s.normalized, w = short(p).len() + 2);
                }
                None => {
                    let _ = write!(out, "  {:>w$}", "skip", w = short(p).len() + 2);
                }
            }
        }
        let _ = writeln!(out);
    }
    match (&d.selected, &d.message) {
        (Some(s), _) => {
            let _ = writeln!(out, "selected: {s}");
        }
        (None, Some(m)) => {
            let _ = writeln!(out, "unschedulable: {m}");
        }
        (None, None) => {}
    }
    if !d.skipped.is_empty() {
        let _ = writeln!(
            out,
            "skipped for this pod (0 on every node): {}",
            d.skipped.join(", ")
        );
    }
    let _ = writeln!(
        out,
        "scores are normalized 0–100 (raw in parentheses) and weighted as shown"
    );
    out
}

fn short(plugin: &str) -> &str {
    match plugin {
        "TaintToleration" => "TaintTol",
        "NodeAffinity" => "NodeAff",
        "NodeResourcesFit" => "Fit",
        "NodeResourcesBalancedAllocation" => "Balanced",
        "ImageLocality" => "Image",
        "PodTopologySpread" => "Spread",
        "InterPodAffinity" => "PodAff",
        other => other,
    }
}
