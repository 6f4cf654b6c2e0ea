//! `missing-resources`: a container without cpu/memory requests or without a memory limit.
//!
//! Seed 003 §2.3: requests are what the scheduler places pods by and what HPA utilization is
//! measured against; a memory limit is what keeps one container from taking a node's memory.
//! A container with no requests at all makes its pod BestEffort: placed blindly, first to
//! be evicted under pressure (error). Missing single values are warnings. CPU limits are
//! not required (they throttle; many platforms leave them off on purpose).
//!
//! Values are read as the pod will have them: a request missing next to a limit defaults
//! to the limit (pkg/apis/core/v1/defaults.go), and a LimitRange of the same namespace in
//! the input fills what is still missing (LimitRanger admission).

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;
use crate::workload::{CPU, MEMORY, Resources, show_quantity};

/// Rule id.
pub const NAME: &str = "missing-resources";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A container (init containers included) has no cpu or memory request, or no memory limit; error when it has no requests at all (BestEffort).",
    source: "seed 003 §2.3 (requests, limits and QoS); pkg/apis/core/v1/defaults.go (requests default to limits); LimitRanger admission",
    help: "The scheduler places pods by their requests, HPA utilization is measured against them, and the kubelet evicts BestEffort pods first. A missing memory limit lets one container use all of a node's memory. Set cpu and memory requests and a memory limit on every container, or give the namespace a LimitRange with defaults.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    let limits = cx.limits();
    for c in w.containers() {
        let r = Resources::of(&c, limits);
        let mut missing = Vec::new();
        let mut effects = Vec::new();
        if r.request[CPU].is_none() {
            missing.push("no cpu request".to_string());
            effects.push("the scheduler places it as if it used no CPU and it gets the smallest CPU share under contention");
        }
        if r.request[MEMORY].is_none() {
            missing.push("no memory request".to_string());
            effects.push("the scheduler places it as if it used no memory");
        }
        if r.limit[MEMORY].is_none() {
            missing.push("no memory limit".to_string());
            effects.push("it can use all of the node's memory and push neighbours into OOM kills and eviction");
        }
        if missing.is_empty() {
            continue;
        }
        let best_effort = r.request[CPU].is_none() && r.request[MEMORY].is_none();
        let cpath = c.path(&spec_path);
        let cpu = r.request[CPU].map_or("100m".into(), |q| show_quantity(q, CPU));
        let mem_req = r.request[MEMORY].or(r.limit[MEMORY]);
        let mem = mem_req.map_or("256Mi".into(), |q| show_quantity(q, MEMORY));
        let mem_lim = r.limit[MEMORY].map_or(mem.clone(), |q| show_quantity(q, MEMORY));
        let fix = format!(
            "set `{cpath}.resources: {{requests: {{cpu: {cpu}, memory: {mem}}}, limits: {{memory: {mem_lim}}}}}` (size them from observed usage; memory limit = request avoids OOM surprises), or add a LimitRange with `defaultRequest` and `default` to namespace `{}`",
            cx.namespace_name()
        );
        if best_effort {
            out.emit(
                Severity::Error,
                &cpath.key("resources"),
                format!(
                    "{} has no cpu or memory requests{}: BestEffort, the scheduler places it as if it used nothing and it is the first evicted under node pressure{}",
                    c.label(),
                    if r.limit[MEMORY].is_none() { " and no memory limit" } else { "" },
                    if w.kind.scalable() { ", and an HPA on cpu or memory utilization cannot compute one" } else { "" }
                ),
                fix,
            );
        } else {
            let path = if r.request[CPU].is_none() || r.request[MEMORY].is_none() {
                cpath.key("resources").key("requests")
            } else {
                cpath.key("resources").key("limits")
            };
            out.emit(
                Severity::Warning,
                &path,
                format!("{} has {}: {}", c.label(), and_list(&missing), effects.join("; ")),
                fix,
            );
        }
    }
}
