//! `missing-resources`: a container without cpu/memory requests or without a memory limit.
//!
//! Seed 003 §2.3: requests are what the scheduler places pods by and what HPA utilization is
//! measured against; a memory limit is what keeps one container from taking a node's memory.
//! CPU limits are not required (they throttle; many platforms leave them off on purpose).
//!
//! The QoS class belongs to the pod, not to a container (Kubernetes docs, "Pod Quality of
//! Service Classes"; pkg/apis/core/helper/qos `GetPodQOS`): a pod is BestEffort only when
//! no container, init containers included, has any cpu or memory request or limit. Such a
//! pod is placed blindly and is the first evicted under node pressure: an error on each of
//! its containers. Otherwise a container missing a value is a warning and the pod is
//! Burstable, whatever that container lacks.
//!
//! The HPA sums the requests of the app containers and of native sidecars (init containers
//! with `restartPolicy: Always`) only (pkg/controller/podautoscaler/replica_calculator.go
//! `calculatePodRequests`), so only those containers' missing requests are said to stop
//! an HPA. An init container that runs to completion only has to fit in the pod's
//! effective request (the larger of its own and the app containers' sum).
//!
//! Values are read as the pod will have them: a request missing next to a limit defaults
//! to the limit (pkg/apis/core/v1/defaults.go), and a LimitRange of the same namespace in
//! the input fills what is still missing (LimitRanger admission).

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;
use crate::workload::{CPU, Container, MEMORY, RESOURCE_NAMES, Resources, show_quantity};

/// Rule id.
pub const NAME: &str = "missing-resources";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A container (init containers included) has no cpu or memory request, or no memory limit; error when no container of the pod has any request or limit (the pod is BestEffort).",
    source: "seed 003 §2.3 (requests, limits and QoS); Kubernetes docs, Pod Quality of Service Classes (QoS is per pod); pkg/apis/core/v1/defaults.go (requests default to limits); LimitRanger admission; replica_calculator.go calculatePodRequests",
    help: "The scheduler places pods by their requests, HPA utilization is measured against them, and the kubelet evicts BestEffort pods (no request or limit on any container) first. A missing memory limit lets one container use all of a node's memory. Set cpu and memory requests and a memory limit on every container, or give the namespace a LimitRange with defaults.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    let limits = cx.limits();
    let all: Vec<(Container<'_>, Resources)> = w
        .containers()
        .map(|c| (c, Resources::of(&c, limits)))
        .collect();
    // pkg/apis/core/helper/qos GetPodQOS: BestEffort when no container (init containers
    // included) has a cpu or memory request or limit.
    let best_effort = !all.is_empty()
        && all
            .iter()
            .all(|(_, r)| r.request.iter().chain(r.limit.iter()).all(Option::is_none));
    let others = all.len() > 1;
    for (c, r) in &all {
        // Plain init containers run before the app, one at a time, inside the pod's
        // effective request; the HPA does not count them.
        let runs_with_app = !c.init || c.is_sidecar();
        let mut missing = Vec::new();
        let mut effects = Vec::new();
        if r.request[CPU].is_none() {
            missing.push("no cpu request".to_string());
            effects.push(if runs_with_app {
                "the scheduler places it as if it used no CPU and it gets the smallest CPU share under contention"
            } else {
                "it gets the smallest CPU share under contention while it runs"
            });
        }
        if r.request[MEMORY].is_none() {
            missing.push("no memory request".to_string());
            effects.push(if runs_with_app {
                "the scheduler places it as if it used no memory"
            } else {
                "the scheduler reserves nothing for it beyond what the app containers request"
            });
        }
        if r.limit[MEMORY].is_none() {
            missing.push("no memory limit".to_string());
            effects.push("it can use all of the node's memory and push neighbours into OOM kills and eviction");
        }
        if missing.is_empty() {
            continue;
        }
        let cpath = c.path(&spec_path);
        let cpu = r.request[CPU].map_or("100m".into(), |q| show_quantity(q, CPU));
        let mem_req = r.request[MEMORY].or(r.limit[MEMORY]);
        let mem = mem_req.map_or("256Mi".into(), |q| show_quantity(q, MEMORY));
        let mem_lim = r.limit[MEMORY].map_or(mem.clone(), |q| show_quantity(q, MEMORY));
        let fix = format!(
            "set `{cpath}.resources: {{requests: {{cpu: {cpu}, memory: {mem}}}, limits: {{memory: {mem_lim}}}}}` (size them from observed usage; memory limit = request avoids OOM surprises), or add a LimitRange with `defaultRequest` and `default` to namespace `{}`",
            cx.namespace_name()
        );
        // replica_calculator.go calculatePodRequests: app containers and native sidecars.
        let hpa_blind: Vec<&str> = if runs_with_app && w.kind.scalable() {
            [CPU, MEMORY]
                .into_iter()
                .filter(|&i| r.request[i].is_none())
                .map(|i| RESOURCE_NAMES[i])
                .collect()
        } else {
            Vec::new()
        };
        let hpa = match hpa_blind.as_slice() {
            [] => String::new(),
            [one] => {
                format!("; an HPA on {one} utilization cannot compute a utilization for these pods")
            }
            _ => {
                "; an HPA on cpu or memory utilization cannot compute a utilization for these pods"
                    .into()
            }
        };
        if best_effort {
            out.emit(
                Severity::Error,
                &cpath.key("resources"),
                format!(
                    "{} has no cpu or memory requests or limits{}: the pod is BestEffort, so the scheduler places it as if it used nothing and it is the first evicted under node pressure{hpa}",
                    c.label(),
                    if others { ", and neither has any other container of the pod" } else { "" },
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
                format!(
                    "{} has {}: {}{hpa}{}",
                    c.label(),
                    and_list(&missing),
                    effects.join("; "),
                    if r.request.iter().chain(r.limit.iter()).all(Option::is_none) {
                        " (the pod is still Burstable, not BestEffort: other containers set requests or limits)"
                    } else {
                        ""
                    }
                ),
                fix,
            );
        }
    }
}
