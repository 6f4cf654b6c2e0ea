//! `host-path-mount`: a pod that mounts a directory of its node.
//!
//! Seed 000 ("local volumes (hostpath): the container can only be rebuilt on the same
//! host, it cannot move") and seed 002 (system services mounting node directories) show
//! the cost: data written to a hostPath lives on one node, so a Deployment's or
//! StatefulSet's pod is pinned to it and the data is lost with it. A DaemonSet runs one pod
//! per node by design, so there the concern is what a node agent may change on its node.
//!
//! Severities:
//!
//! - error, even when mounted read-only, for paths that give control of the node or expose
//!   its credentials: `/`, container runtime sockets (`docker.sock`, `containerd.sock`,
//!   `crio.sock`, `cri-dockerd.sock`, `podman.sock`), the runtime socket directories `/run`
//!   and `/var/run` themselves, and anything under `/run/containerd`,
//!   `/var/run/containerd`, `/run/crio`, `/var/run/crio`, `/var/lib/kubelet` (every
//!   pod's volumes and Secrets, the kubelet's credentials), `/etc/kubernetes` (cluster
//!   certificates and kubeconfigs), `/dev`, `/proc` and `/sys`. A read-only bind mount
//!   does not stop `connect()` on a Unix socket, and reading is all it takes to use a
//!   credential;
//! - warning when mounted writable somewhere;
//! - info when mounted read-only everywhere it is used (log shippers reading `/var/log`
//!   or `/var/lib/docker/containers`, exporters reading node files).
//!
//! Paths are compared after collapsing `//`, `.` and `..` and dropping a trailing `/`.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;
use crate::workload::Kind;

/// Rule id.
pub const NAME: &str = "host-path-mount";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A pod mounts a hostPath volume: error for runtime sockets, /, /run, /var/run, /var/lib/kubelet, /etc/kubernetes, /dev, /proc and /sys (even read-only), warning when writable, info when mounted read-only.",
    source: "seed 000 (hostPath pins containers to one host); seed 002 (node directories mounted into system services); Kubernetes docs, Volumes: hostPath (\"HostPath volumes present many security risks\")",
    help: "Data in a hostPath lives on one node: the pod cannot move without losing it, and a node failure loses it. Runtime sockets, kubelet and cluster credentials, devices and the kernel's /proc and /sys give control of the node even through a read-only mount. Use a PersistentVolumeClaim for data, emptyDir for scratch space, and mount node files read-only when an agent must read them.",
};

/// File names of container runtime API sockets.
const SOCKETS: [&str; 5] = [
    "docker.sock",
    "containerd.sock",
    "crio.sock",
    "cri-dockerd.sock",
    "podman.sock",
];

/// Why a read-only mount does not help, per kind of path.
const SOCKET_RO: &str = "a read-only bind mount does not stop connect() on a Unix socket";
const CRED_RO: &str = "reading a credential is all it takes to use it";

/// Directories that are dangerous themselves, but whose subdirectories may be harmless
/// (`/run/log/journal` is what journald readers mount): (path, what it is, why read-only
/// does not help).
const EXACT: [(&str, &str, &str); 3] = [
    (
        "/",
        "the node's root filesystem, with every credential on the node",
        CRED_RO,
    ),
    (
        "/run",
        "the node's /run, which holds the container runtime's API socket",
        SOCKET_RO,
    ),
    (
        "/var/run",
        "the node's /var/run, which holds the container runtime's API socket",
        SOCKET_RO,
    ),
];

/// Directories that are dangerous with everything under them.
const TREES: [(&str, &str, &str); 9] = [
    (
        "/run/containerd",
        "containerd's state and API socket",
        SOCKET_RO,
    ),
    (
        "/var/run/containerd",
        "containerd's state and API socket",
        SOCKET_RO,
    ),
    ("/run/crio", "CRI-O's state and API socket", SOCKET_RO),
    ("/var/run/crio", "CRI-O's state and API socket", SOCKET_RO),
    (
        "/var/lib/kubelet",
        "the kubelet's state (every pod's volumes, including their Secrets, and the kubelet's credentials)",
        CRED_RO,
    ),
    (
        "/etc/kubernetes",
        "the cluster's certificates and kubeconfigs",
        CRED_RO,
    ),
    (
        "/dev",
        "the node's devices",
        "a read-only mount does not make device nodes read-only",
    ),
    (
        "/proc",
        "the node's /proc (every host process, its environment and its memory)",
        "reading host processes' environments and memory exposes their secrets",
    ),
    (
        "/sys",
        "the node's kernel and device settings",
        "kernel and device state stays readable, and much of it writable through its own interfaces",
    ),
];

/// `path` with `//`, `.` and `..` resolved and no trailing `/` (`/` stays `/`).
pub(crate) fn normalize(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            s => parts.push(s),
        }
    }
    format!("/{}", parts.join("/"))
}

/// What a host path is and why mounting it read-only does not help, when it gives
/// control of the node.
pub(crate) fn sensitive(host: &str) -> Option<(String, &'static str)> {
    if !host.starts_with('/') {
        return None;
    }
    let p = normalize(host);
    if let Some(sock) = SOCKETS.iter().find(|s| p.ends_with(&format!("/{s}"))) {
        return Some((
            format!("the container runtime's API socket ({sock})"),
            SOCKET_RO,
        ));
    }
    if let Some((_, what, ro)) = EXACT.iter().find(|(e, _, _)| p == *e) {
        return Some(((*what).to_string(), ro));
    }
    TREES
        .iter()
        .find(|(t, _, _)| p == *t || p.starts_with(&format!("{t}/")))
        .map(|(_, what, ro)| ((*what).to_string(), *ro))
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let vpath = w.spec_path().key("volumes");
    let node_agent = w.kind == Kind::DaemonSet;
    for (i, v) in w
        .spec_field("volumes")
        .map_or(&[][..], Node::as_seq)
        .iter()
        .enumerate()
    {
        let Some(hp) = v.get("hostPath").filter(|h| h.as_map().is_some()) else {
            continue;
        };
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
        writable.dedup();
        readonly.dedup();
        let p = vpath.index(i).key("hostPath");
        if let Some((what, ro)) = sensitive(host) {
            let how = if writable.is_empty() && !readonly.is_empty() {
                format!(", even though it is mounted read-only ({ro})")
            } else {
                String::new()
            };
            out.emit(
                Severity::Error,
                &p,
                format!(
                    "volume `{vname}` mounts hostPath {host}, {what}: that gives control of the node{how}"
                ),
                format!(
                    "remove volume `{vname}`; talk to the Kubernetes API instead of the runtime or the kubelet, mount only the file the agent needs, or run this as a reviewed node agent and suppress with `berth.dev/ignore: {NAME}`"
                ),
            );
        } else if !writable.is_empty() && node_agent {
            out.emit(
                Severity::Warning,
                &p,
                format!(
                    "volume `{vname}` mounts node directory {host} read-write into {} of this DaemonSet: the agent on every node can change files the node and other pods use there",
                    and_list(&writable)
                ),
                format!(
                    "if the agent only reads {host}, set `readOnly: true` on every volumeMount of `{vname}`; if it must keep state (position files, caches), give it a directory of its own such as `hostPath: {{path: /var/lib/<agent>, type: DirectoryOrCreate}}`"
                ),
            );
        } else if !writable.is_empty() {
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
            out.emit(
                Severity::Info,
                &p,
                format!(
                    "volume `{vname}` mounts hostPath {host} read-only{}: the pod depends on files of the node it runs on",
                    if readonly.is_empty() { String::new() } else { format!(" into {}", and_list(&readonly)) }
                ),
                if node_agent {
                    "fine for a node agent (log shipper, exporter) that reads node files; nothing to change unless the agent does not need them".to_string()
                } else {
                    format!("keep it only for node agents (log shippers, exporters); for application data use a PersistentVolumeClaim or a ConfigMap instead of `{p}`")
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_paths_are_matched_after_normalizing() {
        let cases: &[(&str, bool)] = &[
            ("/", true),
            ("//", true),
            ("/var/run/docker.sock", true),
            ("/run/containerd/containerd.sock", true),
            ("/var/run/", true),
            ("/run", true),
            ("/var/lib/kubelet/pods", true),
            ("/var/lib/kubelet/../kubelet", true),
            ("/etc/kubernetes/pki", true),
            ("/dev", true),
            ("/dev/kmsg", true),
            ("/proc", true),
            ("/sys/fs/cgroup", true),
            ("/var/log/../../etc/kubernetes", true),
            // Log agents and journald readers.
            ("/var/log", false),
            ("/var/lib/docker/containers", false),
            ("/run/log/journal", false),
            ("/var/run/secrets-not-really", false),
            ("/devices", false),
            ("/system", false),
            ("/opt/data", false),
            ("relative/path", false),
            ("", false),
        ];
        for (path, want) in cases {
            assert_eq!(sensitive(path).is_some(), *want, "{path}");
        }
    }
}
