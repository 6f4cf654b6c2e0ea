//! `host-path-mount`: a pod that mounts a directory of its node.
//!
//! Seed 000 ("local volumes (hostpath): the container can only be rebuilt on the same
//! host, it cannot move") and seed 002 (system services mounting node directories) show
//! the cost: data written to a hostPath lives on one node, so the pod is pinned to it and
//! the data is lost with it. Severities: a container runtime socket or the node's root
//! filesystem is an error (node takeover, even read-only); a writable mount is a warning;
//! a hostPath mounted read-only everywhere it is used is info.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;

/// Rule id.
pub const NAME: &str = "host-path-mount";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A pod mounts a hostPath volume: error for container runtime sockets and /, warning when writable, info when mounted read-only.",
    source: "seed 000 (hostPath pins containers to one host); seed 002 (node directories mounted into system services)",
    help: "Data in a hostPath lives on one node: the pod cannot move without losing it, and a node failure loses it. Runtime sockets and the root filesystem give control of the node. Use a PersistentVolumeClaim for data, emptyDir for scratch space, and mount node files read-only when an agent must read them.",
};

const SOCKETS: [&str; 5] = ["docker.sock", "containerd.sock", "crio.sock", "cri-dockerd.sock", "podman.sock"];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let vpath = w.spec_path().key("volumes");
    for (i, v) in w.spec_field("volumes").map_or(&[][..], Node::as_seq).iter().enumerate() {
        let Some(hp) = v.get("hostPath").filter(|h| h.as_map().is_some()) else { continue };
        let host = hp.get("path").and_then(Node::as_str).unwrap_or("");
        let vname = v.get("name").and_then(Node::as_str).unwrap_or("");
        let mut writable = Vec::new();
        let mut readonly = Vec::new();
        for c in w.containers() {
            for m in c.get("volumeMounts").map_or(&[][..], Node::as_seq) {
                if m.get("name").and_then(Node::as_str) != Some(vname) {
                    continue;
                }
                if m.get("readOnly").and_then(Node::as_bool) == Some(true) {
                    readonly.push(c.label());
                } else {
                    writable.push(c.label());
                }
            }
        }
        let p = vpath.index(i).key("hostPath");
        let trimmed = host.trim_end_matches('/');
        let socket = SOCKETS.iter().any(|s| trimmed.ends_with(s));
        if socket || trimmed.is_empty() && host.starts_with('/') {
            out.emit(
                Severity::Error,
                &p,
                format!(
                    "volume `{vname}` mounts hostPath {host}: {}, which gives full control of the node even when mounted read-only",
                    if socket { "the container runtime's API socket" } else { "the node's root filesystem" }
                ),
                format!("remove volume `{vname}`; talk to the Kubernetes API instead of the runtime, or run this as a reviewed node agent and suppress with `berth.dev/ignore: {NAME}`"),
            );
        } else if !writable.is_empty() {
            writable.dedup();
            out.emit(
                Severity::Warning,
                &p,
                format!(
                    "volume `{vname}` mounts hostPath {host} read-write into {}: what it writes stays on one node, so the pod is pinned there and the data is lost with the node",
                    and_list(&writable)
                ),
                format!("replace `{p}` with `persistentVolumeClaim: {{claimName: {vname}}}` for data or `emptyDir: {{}}` for scratch space; if the node files are only read, set `readOnly: true` on every volumeMount of `{vname}`"),
            );
        } else {
            readonly.dedup();
            out.emit(
                Severity::Info,
                &p,
                format!(
                    "volume `{vname}` mounts hostPath {host} read-only{}: the pod depends on files of the node it runs on",
                    if readonly.is_empty() { String::new() } else { format!(" into {}", and_list(&readonly)) }
                ),
                format!("keep it only for node agents (log shippers, exporters); for application data use a PersistentVolumeClaim or a ConfigMap instead of `{p}`"),
            );
        }
    }
}
