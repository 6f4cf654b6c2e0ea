//! `berth place`: place the replicas of a workload one by one, as kube-scheduler would.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use berth_manifest::{Node, Object, Pos};
use berth_scheduler::{Cluster, LabelSelector, PodInfo, State, schedule_quick};
use clap::Args;

use crate::Outcome;
use crate::explain::{Format, SchedulerArgs, load};

/// Arguments of `berth place`.
#[derive(Args)]
pub struct PlaceArgs {
    #[command(flatten)]
    common: SchedulerArgs,
    /// A Deployment, StatefulSet, ReplicaSet, Pod, or a berth Application.
    #[arg(long)]
    workload: PathBuf,
    /// How many replicas to place (default: the workload's replicas, or the Application's
    /// minimum).
    #[arg(long)]
    replicas: Option<usize>,
    /// Node label naming the access switch, for the spread summary.
    #[arg(long, default_value = berth_model::DEFAULT_SWITCH_LABEL)]
    switch_label: String,
}

/// The workload's pod template as an object, its replica count and its selector.
fn workload(path: &PathBuf) -> Result<(Object, Option<usize>, Option<LabelSelector>)> {
    let objects = load(std::slice::from_ref(path))?;
    let o = objects
        .into_iter()
        .next()
        .with_context(|| format!("{}: no object", path.display()))?;
    if o.api_version() == berth_model::API_VERSION && o.kind() == berth_model::KIND {
        // A berth Application: place the Deployment berth renders for it.
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        let (apps, diags) = berth_model::load_applications(&path.display().to_string(), &text);
        for d in &diags {
            eprintln!("{d}");
        }
        let app = apps
            .into_iter()
            .next()
            .context("the Application has errors")?;
        let min = app.resolved(None)?.min_replicas;
        let dep = berth_render::render(&app, None)?
            .into_iter()
            .find(|m| m.kind() == "Deployment")
            .context("no Deployment rendered")?;
        let json = dep.to_json()?;
        let node = Node::from_json(&json, Pos::default());
        let object = Object {
            file: std::sync::Arc::from(path.display().to_string()),
            document: 0,
            item: None,
            node,
            duplicate_keys: Vec::new(),
        };
        let sel = selector(&object);
        return Ok((object, Some(min as usize), sel));
    }
    if o.kind() != "Pod" && o.node.path(&["spec", "template"]).is_none() {
        bail!(
            "{}: {} has no pod template to place",
            path.display(),
            o.kind()
        );
    }
    let replicas = o
        .node
        .path(&["spec", "replicas"])
        .and_then(Node::as_i64)
        .map(|r| r.max(0) as usize);
    let sel = selector(&o);
    Ok((o, replicas, sel))
}

fn selector(o: &Object) -> Option<LabelSelector> {
    o.node
        .path(&["spec", "selector"])
        .map(LabelSelector::from_node)
}

/// Places the replicas and reports where they went.
pub fn place(args: &PlaceArgs) -> Result<Outcome> {
    let mut cluster = Cluster::from_objects(&load(&args.common.snapshot)?);
    if cluster.nodes.is_empty() {
        bail!("the snapshot has no Node objects: use `kubectl get nodes,pods -A -o json`");
    }
    let (object, default_replicas, sel) = workload(&args.workload)?;
    let template = PodInfo::from_object(&object);
    // Its ReplicaSet selects the replicas: the source of the default spreading constraints.
    if let (Some(selector), Some((kind, name))) = (sel, template.owner.clone()) {
        cluster
            .owner_selectors
            .push(berth_scheduler::OwnerSelector {
                namespace: template.namespace.clone(),
                kind,
                name,
                selector,
            });
    }
    let n = args.replicas.or(default_replicas).unwrap_or(1);
    let profile = crate::explain::profile(args.common.config.as_ref())?;
    let mut state = State::new(args.common.seed);
    let mut placed: Vec<(String, String)> = Vec::new();
    let mut failure = None;
    for i in 0..n {
        let mut pod = template.clone();
        pod.name = format!("{}-{i}", object.name());
        pod.node_name = None;
        let d = schedule_quick(&cluster, &pod, &profile, &mut state);
        match d.selected {
            Some(node) => {
                let idx = cluster.node_index(&node).context("selected node exists")?;
                cluster.bind(pod.clone(), idx);
                placed.push((pod.name, node));
            }
            None => {
                failure = Some((pod.name, d.message.unwrap_or_default()));
                break;
            }
        }
    }
    let mut by_switch: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_host: BTreeMap<String, usize> = BTreeMap::new();
    for (_, node) in &placed {
        *by_host.entry(node.clone()).or_default() += 1;
        let sw = cluster
            .node_index(node)
            .and_then(|i| cluster.nodes[i].labels.get(&args.switch_label).cloned())
            .unwrap_or_else(|| "(no label)".into());
        *by_switch.entry(sw).or_default() += 1;
    }
    let util: Vec<(String, f64, f64, usize)> = cluster
        .nodes
        .iter()
        .map(|nd| {
            let pct = |used: i64, cap: i64| {
                if cap > 0 {
                    100.0 * used as f64 / cap as f64
                } else {
                    0.0
                }
            };
            (
                nd.name.to_string(),
                pct(nd.requested.milli_cpu, nd.allocatable.milli_cpu),
                pct(nd.requested.memory, nd.allocatable.memory),
                nd.pod_count,
            )
        })
        .collect();
    match args.common.output {
        Format::Json => {
            let v = serde_json::json!({
                "workload": {"kind": object.kind(), "namespace": template.namespace, "name": object.name()},
                "requested": n,
                "placements": placed.iter().map(|(p, nd)| serde_json::json!({"pod": p, "node": nd})).collect::<Vec<_>>(),
                "unplaced": n - placed.len(),
                "failure": failure.as_ref().map(|(p, m)| serde_json::json!({"pod": p, "message": m})),
                "spread": {"switch": by_switch, "host": by_host},
                "utilization": util.iter().map(|(nd, c, m, p)| serde_json::json!({"node": nd, "cpuPercent": (c * 10.0).round() / 10.0, "memoryPercent": (m * 10.0).round() / 10.0, "pods": p})).collect::<Vec<_>>(),
            });
            println!("{}", serde_json::to_string_pretty(&v)?);
        }
        Format::Table => {
            let mut out = String::new();
            let _ = writeln!(
                out,
                "{} {}/{}: {} of {n} replicas placed",
                object.kind(),
                template.namespace,
                object.name(),
                placed.len()
            );
            for (p, nd) in &placed {
                let _ = writeln!(out, "  {p:<30} -> {nd}");
            }
            if let Some((p, m)) = &failure {
                let _ = writeln!(out, "  {p:<30} -> unschedulable: {m}");
            }
            let _ = writeln!(out, "spread by {}:", args.switch_label);
            for (k, v) in &by_switch {
                let _ = writeln!(out, "  {k:<30} {v}");
            }
            let _ = writeln!(out, "spread by host:");
            for (k, v) in &by_host {
                let _ = writeln!(out, "  {k:<30} {v}");
            }
            let _ = writeln!(
                out,
                "{:<30} {:>6} {:>8} {:>5}",
                "NODE", "CPU%", "MEMORY%", "PODS"
            );
            for (nd, c, m, p) in &util {
                let _ = writeln!(out, "{nd:<30} {c:>6.1} {m:>8.1} {p:>5}");
            }
            print!("{out}");
        }
    }
    Ok(if failure.is_some() {
        Outcome::Problems
    } else {
        Outcome::Clean
    })
}
