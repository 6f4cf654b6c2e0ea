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
    run_as_root_conflict,
    privileged_container,
    host_path_mount,
    missing_network_policy,
    // Process environment and images (seed 001).
    service_links_enabled,
    image_tag_mutable,
    deprecated_api_version,
    non_string_value,
    duplicate_key,
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
    use berth_manifest::{Node, Object};

    use crate::engine::Cx;
    use crate::workload::{Container, Kind, Port, Workload, is_metrics_name};

    /// A Service port's `targetPort` (or its `port` when no targetPort is written).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Target<'a> {
        Number(i64),
        Name(&'a str),
    }

    impl Target<'_> {
        fn hits(&self, p: &Port<'_>) -> bool {
            match *self {
                Target::Number(n) => n == p.number,
                Target::Name(n) => p.name == Some(n),
            }
        }
    }

    /// The Services that select a workload's pods, split into those that carry traffic and
    /// those that only expose metrics for scraping.
    struct Selecting<'a> {
        /// Services that are not metrics-only, with their target ports.
        serving: Vec<(&'a str, Vec<Target<'a>>)>,
        /// Target ports of the metrics-only Services.
        metrics_targets: Vec<Target<'a>>,
    }

    /// A Service that only exposes metrics: its name ends with `-metrics` (argo-cd's
    /// `argocd-metrics`), its `app.kubernetes.io/component` label is `metrics` or
    /// `exporter` (kube-prometheus' node-exporter and kube-state-metrics Services, whose
    /// ports are named `https`), or every one of its ports has a metrics name
    /// (`http-metrics`, `prometheus`, `telemetry`, ...).
    pub(crate) fn metrics_only_service(svc: &Object) -> bool {
        if svc.name().ends_with("-metrics") {
            return true;
        }
        if matches!(
            svc.label("app.kubernetes.io/component"),
            Some("metrics" | "exporter")
        ) {
            return true;
        }
        let ports = svc
            .node
            .path(&["spec", "ports"])
            .map_or(&[][..], Node::as_seq);
        !ports.is_empty()
            && ports.iter().all(|p| {
                p.get("name")
                    .and_then(Node::as_str)
                    .is_some_and(is_metrics_name)
            })
    }

    fn targets(svc: &Object) -> Vec<Target<'_>> {
        svc.node
            .path(&["spec", "ports"])
            .map_or(&[][..], Node::as_seq)
            .iter()
            .filter_map(|p| {
                let t = p
                    .get("targetPort")
                    .filter(|t| !t.is_null())
                    .or_else(|| p.get("port"))?;
                if let Some(n) = t.as_i64() {
                    return Some(Target::Number(n));
                }
                let s = t.as_str()?;
                Some(match s.parse() {
                    Ok(n) => Target::Number(n),
                    Err(_) => Target::Name(s),
                })
            })
            .collect()
    }

    fn selecting<'a>(cx: &Cx<'a>) -> Selecting<'a> {
        let mut out = Selecting {
            serving: Vec::new(),
            metrics_targets: Vec::new(),
        };
        for &s in cx.index.services_of(cx.i) {
            let svc = cx.other(s);
            if metrics_only_service(svc) {
                out.metrics_targets.extend(targets(svc));
            } else {
                out.serving.push((svc.name(), targets(svc)));
            }
        }
        out
    }

    /// Why a container counts as serving traffic, or `None` when it does not.
    ///
    /// Ports are sorted into served ones (a Service that carries traffic targets them),
    /// metrics ones (named like `metrics`, or targeted only by metrics-only Services, see
    /// [`metrics_only_service`]) and the rest. With a traffic Service selecting the pod,
    /// a container serves when it declares a served or an other port; when no container
    /// declares one, the first container is taken to serve. Without one (no Service, or
    /// only metrics Services), a container serves when it declares an other port, except
    /// in a DaemonSet (node agents declare ports for the node, not for clients).
    pub(crate) fn serving(cx: &Cx<'_>, w: &Workload<'_>, c: &Container<'_>) -> Option<String> {
        if c.init && !c.is_sidecar() {
            return None;
        }
        let sel = selecting(cx);
        let served = |p: &Port<'_>| {
            sel.serving
                .iter()
                .any(|(_, ts)| ts.iter().any(|t| t.hits(p)))
        };
        let metrics = |p: &Port<'_>| {
            !served(p) && (p.is_metrics() || sel.metrics_targets.iter().any(|t| t.hits(p)))
        };
        let relevant = |x: &Container<'_>| x.ports().into_iter().any(|p| !metrics(&p));
        let ports: Vec<Port<'_>> = c.ports().into_iter().filter(|p| !metrics(p)).collect();
        if let Some((svc, _)) = sel.serving.first() {
            // Name the Service that targets one of these ports, if one does.
            let svc = sel
                .serving
                .iter()
                .find(|(_, ts)| ports.iter().any(|p| ts.iter().any(|t| t.hits(p))))
                .map_or(*svc, |(name, _)| *name);
            if !ports.is_empty() {
                return Some(format!(
                    "serves {} behind Service `{svc}`",
                    port_list(&ports)
                ));
            }
            let none_declared = !w.running_containers().any(|x| relevant(&x));
            return (!c.init && c.index == 0 && none_declared)
                .then(|| format!("is the first container of pods that Service `{svc}` selects"));
        }
        if w.kind == Kind::DaemonSet {
            return None;
        }
        (!ports.is_empty()).then(|| format!("serves {}", port_list(&ports)))
    }

    fn port_list(ports: &[Port<'_>]) -> String {
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
