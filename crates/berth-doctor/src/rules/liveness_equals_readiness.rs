//! `liveness-equals-readiness`: the liveness probe runs the same check as the readiness probe.
//!
//! Seed 003 §5 lists "all threads stuck waiting on redis/mysql" as a cause of liveness
//! failures; seed 000 turns liveness off by default for this reason. When liveness and
//! readiness share a handler that touches dependencies, an outage of a dependency fails
//! liveness on every pod at once and the kubelet restarts all of them, turning a partial
//! outage into a full one.
//!
//! Only `exec` and `httpGet` handlers run application code that can reach a dependency.
//! A `tcpSocket` probe is a TCP connect by the kubelet, answered by the kernel as long as
//! the socket listens, and a `grpc` probe calls the standard gRPC health service: sharing
//! one of those is the pattern the Kubernetes docs themselves show
//! (pods/probe/tcp-liveness-readiness.yaml, "Configure Liveness, Readiness and Startup
//! Probes"), so identical tcpSocket or grpc probes are not reported.

use berth_manifest::{Node, Value};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::workload::Container;

/// Rule id.
pub const NAME: &str = "liveness-equals-readiness";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A container's livenessProbe runs the same exec command or HTTP GET (same path and port) as its readinessProbe; identical tcpSocket or grpc probes are fine.",
    source: "seed 003 §5 (liveness failures from stuck dependencies); seed 000 (no liveness probe by default); Kubernetes docs, Configure Liveness, Readiness and Startup Probes (pods/probe/tcp-liveness-readiness.yaml shares a tcpSocket check)",
    help: "Readiness should say 'do not send me traffic'; liveness should say 'this process is dead, restart it'. When both run the same check, a dependency outage fails liveness on every pod and restarts them all at once. Point liveness at a check of the process itself (e.g. /livez) or drop it.",
};

const HANDLERS: [&str; 4] = ["exec", "httpGet", "tcpSocket", "grpc"];

/// The handler of a probe in a canonical text form: named ports resolved to numbers,
/// numbers and strings compared as text, httpGet defaults (`path: /`, `scheme: HTTP`) filled.
pub(crate) fn handler_key(c: &Container<'_>, probe: &Node) -> Option<String> {
    let (kind, h) = HANDLERS
        .iter()
        .find_map(|k| probe.get(k).filter(|n| !n.is_null()).map(|n| (*k, n)))?;
    let mut parts = vec![kind.to_string()];
    match kind {
        "exec" => {
            for a in h.get("command").map_or(&[][..], Node::as_seq) {
                parts.push(a.scalar_text().unwrap_or_default());
            }
        }
        _ => {
            let port = h.get("port").and_then(|p| c.resolve_port(p));
            parts.push(format!("port={port:?}"));
            if kind == "httpGet" {
                parts.push(format!(
                    "path={}",
                    h.get("path").and_then(Node::as_str).unwrap_or("/")
                ));
                parts.push(format!(
                    "scheme={}",
                    h.get("scheme").and_then(Node::as_str).unwrap_or("HTTP")
                ));
                parts.push(format!(
                    "host={}",
                    h.get("host").and_then(Node::as_str).unwrap_or("")
                ));
                parts.push(format!("headers={}", canon(h.get("httpHeaders"))));
            }
            if kind == "grpc" {
                parts.push(format!(
                    "service={}",
                    h.get("service").and_then(Node::as_str).unwrap_or("")
                ));
            }
        }
    }
    Some(parts.join("\u{1f}"))
}

fn canon(n: Option<&Node>) -> String {
    match n.map(|n| &n.value) {
        None | Some(Value::Null) => String::new(),
        Some(_) => n.map(|n| n.to_json().to_string()).unwrap_or_default(),
    }
}

/// `httpGet /healthz on port 8080` for messages.
fn describe(c: &Container<'_>, probe: &Node) -> String {
    if let Some(h) = probe.get("httpGet") {
        let port = h
            .get("port")
            .and_then(|p| c.resolve_port(p))
            .map_or("?".into(), |p| p.to_string());
        return format!(
            "httpGet {} on port {port}",
            h.get("path").and_then(Node::as_str).unwrap_or("/")
        );
    }
    let cmd: Vec<String> = probe
        .path(&["exec", "command"])
        .map_or(&[][..], Node::as_seq)
        .iter()
        .filter_map(Node::scalar_text)
        .collect();
    format!("`{}`", cmd.join(" "))
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    for c in w.running_containers() {
        let (Some(live), Some(ready)) = (c.get("livenessProbe"), c.get("readinessProbe")) else {
            continue;
        };
        let (Some(a), Some(b)) = (handler_key(&c, live), handler_key(&c, ready)) else {
            continue;
        };
        // A TCP connect or a gRPC health call touches no dependency of the application.
        if !(a.starts_with("exec\u{1f}") || a.starts_with("httpGet\u{1f}") || a == "exec") {
            continue;
        }
        if a != b {
            continue;
        }
        let cpath = c.path(&spec_path);
        out.warn(
            &cpath.key("livenessProbe"),
            format!(
                "livenessProbe and readinessProbe of {} both run {}: when something that check depends on is down, every pod fails liveness and is restarted at once instead of only leaving the endpoints",
                c.label(),
                describe(&c, live)
            ),
            format!(
                "point `{cpath}.livenessProbe` at a check of the process alone (e.g. `httpGet: {{path: /livez, port: ...}}` that touches no database or downstream service), or remove the livenessProbe and keep only the readinessProbe"
            ),
        );
    }
}
