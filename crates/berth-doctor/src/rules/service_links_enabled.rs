//! `service-links-enabled`: a pod spec that keeps `enableServiceLinks` at its default (true).
//!
//! Seed 001: a Node.js service failed to start with `spawn E2BIG` because the kubelet put an
//! environment variable set for every Service of the namespace into the container; the fix
//! was `enableServiceLinks: false` (Kubernetes 1.13). The kubelet adds, per Service with a
//! cluster IP (pkg/kubelet/envvars/envvars.go `FromServices`): `_SERVICE_HOST`,
//! `_SERVICE_PORT`, one `_SERVICE_PORT_<NAME>` per named port, `_PORT`, and four
//! Docker-link variables per port.

use berth_manifest::{Node, Object};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "service-links-enabled";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A pod spec does not set enableServiceLinks: false, so every Service of the namespace adds environment variables to every container.",
    source: "seed 001 (spawn E2BIG with many Services; EnableServiceLinks since 1.13); pkg/kubelet/envvars/envvars.go FromServices",
    help: "With service links on, the kubelet injects 7+ variables per Service of the namespace into every container. With hundreds of Services the environment exceeds the kernel's argument limit and processes fail to start with E2BIG; it also slows every start. Set enableServiceLinks: false and use DNS names.",
};

/// Variables the kubelet injects for one Service, or `None` for a Service without a
/// cluster IP (headless, ExternalName) or without ports.
pub(crate) fn env_vars(service: &Object) -> Option<usize> {
    let spec = service.node.get("spec");
    let ip = spec.and_then(|s| s.get("clusterIP")).and_then(Node::as_str);
    if ip == Some("None") || spec.and_then(|s| s.get("type")).and_then(Node::as_str) == Some("ExternalName") {
        return None;
    }
    let ports = spec.and_then(|s| s.get("ports")).map_or(&[][..], Node::as_seq);
    if ports.is_empty() {
        return None;
    }
    let named = ports.iter().filter(|p| p.get("name").and_then(Node::as_str).is_some_and(|n| !n.is_empty())).count();
    // HOST + PORT + named ports + `_PORT` + 4 per port.
    Some(2 + named + 1 + 4 * ports.len())
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if w.spec().is_none() {
        return;
    }
    let field = w.spec_field("enableServiceLinks");
    if field.and_then(Node::as_bool) == Some(false) {
        return;
    }
    let ns = cx.namespace_name();
    let example = cx
        .namespace()
        .and_then(|n| n.services.first())
        .map_or("<service>", |&s| cx.other(s).name());
    let (services, vars) = cx.namespace().map_or((0, 0), |n| {
        n.services
            .iter()
            .filter_map(|&s| env_vars(cx.other(s)))
            .fold((0, 0), |(c, v), x| (c + 1, v + x))
    });
    let state = if field.and_then(Node::as_bool) == Some(true) {
        "enableServiceLinks is true"
    } else {
        "enableServiceLinks is not set (default true)"
    };
    let count = if services > 0 {
        format!(
            "the kubelet injects {vars} environment variables for the {services} Service{} of namespace `{ns}` in this input into every container, and 7 more for each single-port Service added later",
            if services == 1 { "" } else { "s" }
        )
    } else {
        format!("the kubelet injects 7 environment variables per single-port Service of namespace `{ns}` into every container")
    };
    let p = w.spec_path().key("enableServiceLinks");
    out.warn(
        &p,
        format!("{state}: {count}; with hundreds of Services the environment outgrows the kernel's limit and processes fail to start with E2BIG"),
        format!("set `{p}: false` (reach Services by DNS name, e.g. `http://{example}.{ns}.svc`)"),
    );
}
