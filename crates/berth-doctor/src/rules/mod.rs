//! The rules, one file each, and the one registry that lists them.
//!
//! A rule is a `NAME`, an `INFO` ([`RuleInfo`]) and a `check` function that looks at one
//! object (and, through the index, at the others) and emits findings into a sink. To add a
//! rule: write `src/rules/<id>.rs` after the pattern of its neighbours, add it to the
//! `registry!` list below, add `tests/fixtures/<id>/{bad,good}.yaml` and a section in
//! `RULES.md`. The registry order is the order of `berth doctor --list-rules`.

use crate::engine::{Cx, Sink};
use crate::finding::RuleInfo;

/// A rule's check: one object in, findings into the sink.
pub(crate) type Check = fn(&Cx<'_>, &mut Sink<'_>);

macro_rules! registry {
    ($($m:ident),* $(,)?) => {
        $(pub mod $m;)*
        static INFOS: &[RuleInfo] = &[$($m::INFO),*];
        static CHECKS: &[Check] = &[$($m::check),*];
    };
}

registry! {
    // Termination and traffic (seed 003 §1).
    missing_prestop,
    grace_period_too_short,
    missing_readiness_probe,
    liveness_equals_readiness,
    liveness_without_startup,
    // Resources and QoS (seed 003 §2.3).
    missing_resources,
    qos_mismatch_tier,
    // Autoscaling (seed 003 §2).
    hpa_utilization_with_sidecar,
    hpa_utilization_without_requests,
    hpa_missing_behavior,
    hpa_min_equals_max,
    hpa_alpha_annotations,
    replicas_with_hpa,
    // Disruptions and placement (seed 003 §3–4, seed 000).
    pdb_blocks_eviction,
    pdb_missing,
    no_spread,
    short_not_ready_toleration,
    // Security and isolation (seed 003 §6, seed 002).
    insecure_security_context,
    privileged_container,
    host_path_mount,
    missing_network_policy,
    // Process environment and images (seed 001).
    service_links_enabled,
    image_tag_mutable,
    deprecated_api_version,
    non_string_value,
    // The doctor itself.
    unknown_ignore_rule,
}

/// Every rule, in registry order.
pub fn rules() -> &'static [RuleInfo] {
    INFOS
}

/// The rule with this id.
pub fn rule(id: &str) -> Option<&'static RuleInfo> {
    INFOS.iter().find(|r| r.id == id)
}

/// Rules with their checks, aligned by the one `registry!` list.
pub(crate) fn registry() -> impl Iterator<Item = (&'static RuleInfo, Check)> {
    INFOS.iter().zip(CHECKS.iter().copied())
}

/// Helpers several rules share: whether a container takes traffic, list formatting.
pub(crate) mod shared {
    use crate::engine::Cx;
    use crate::workload::{Container, Kind, Workload};

    /// Why a container counts as serving traffic, or `None` when it does not: it declares
    /// ports other than metrics ports, or a Service selects its pod (then the ports it
    /// declares, or, when no container declares any, the first container).
    pub(crate) fn serving(cx: &Cx<'_>, w: &Workload<'_>, c: &Container<'_>) -> Option<String> {
        if c.init && !c.is_sidecar() {
            return None;
        }
        let services = cx.index.services_of(cx.i);
        let ports = c.ports();
        if let Some(&s) = services.first() {
            let svc = cx.other(s).name();
            if !ports.is_empty() {
                return Some(format!(
                    "serves {} behind Service `{svc}`",
                    port_list(&ports)
                ));
            }
            let none_declared = w.running_containers().all(|x| x.ports().is_empty());
            return (!c.init && c.index == 0 && none_declared)
                .then(|| format!("is the first container of pods that Service `{svc}` selects"));
        }
        if w.kind == Kind::DaemonSet {
            return None;
        }
        let ports: Vec<_> = ports.into_iter().filter(|p| !p.is_metrics()).collect();
        (!ports.is_empty()).then(|| format!("serves {}", port_list(&ports)))
    }

    fn port_list(ports: &[crate::workload::Port<'_>]) -> String {
        let list: Vec<String> = ports.iter().map(|p| p.describe()).collect();
        if list.len() == 1 {
            format!("port {}", list[0])
        } else {
            format!("ports {}", list.join(", "))
        }
    }

    /// `a`, `a and b`, `a, b and c`.
    pub(crate) fn and_list(items: &[String]) -> String {
        match items {
            [] => String::new(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} and {last}", init.join(", ")),
        }
    }

    /// The first served port of a container, for probe fixes: (`port: 8080`, is HTTP-ish).
    pub(crate) fn probe_port(c: &Container<'_>) -> (String, bool) {
        let ports = c.ports();
        let p = ports.iter().find(|p| !p.is_metrics()).or(ports.first());
        match p {
            Some(p) => {
                let httpish = p.name.is_some_and(|n| n.starts_with("http") || n == "web")
                    || matches!(p.number, 80 | 8000 | 8080 | 8081 | 3000 | 5000 | 9000);
                (p.number.to_string(), httpish)
            }
            None => ("8080".into(), true),
        }
    }
}
