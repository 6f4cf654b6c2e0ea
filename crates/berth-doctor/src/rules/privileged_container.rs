//! `privileged-container`: a pod that can act as root on its node.
//!
//! Seed 003 §6 lists privileged containers and added capabilities as the dangerous
//! settings ("only a few containers such as NTP sync need this; it is very dangerous");
//! seed 002 moved its host-level commands out of privileged containers into an
//! allow-listed executor on the host. Flagged: `securityContext.privileged: true`,
//! `capabilities.add` with ALL, SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE or BPF,
//! and the pod's `hostPID`, `hostIPC`, `hostNetwork`.

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "privileged-container";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A container is privileged or adds ALL, SYS_ADMIN, NET_ADMIN, SYS_MODULE, SYS_PTRACE or BPF, or the pod shares the host's PID, IPC or network namespace.",
    source: "seed 003 §6 (privileged and capabilities.add are very dangerous); seed 002 (host commands through an allow-listed executor instead); Pod Security Standards, baseline",
    help: "A privileged container, one with SYS_ADMIN-class capabilities, or a pod in the host's PID/IPC/network namespace can take over its node. Remove the setting; if a node agent truly needs it, keep it in a dedicated, reviewed DaemonSet and suppress this rule there with `berth.dev/ignore: privileged-container`.",
};

const DANGEROUS: [(&str, &str); 6] = [
    ("ALL", "every capability"),
    ("SYS_ADMIN", "mount, namespaces and most of root"),
    ("NET_ADMIN", "the network configuration of the pod and, with hostNetwork, the node"),
    ("SYS_MODULE", "loading kernel modules"),
    ("SYS_PTRACE", "tracing other processes"),
    ("BPF", "loading BPF programs into the kernel"),
];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    for (field, what) in [
        ("hostPID", "sees and can signal every process on the node"),
        ("hostIPC", "shares the node's IPC namespace (shared memory of host processes)"),
        ("hostNetwork", "uses the node's network namespace: it can bind node ports and reach node-local services"),
    ] {
        if w.spec_field(field).and_then(Node::as_bool) == Some(true) {
            let p = spec_path.key(field);
            out.warn(
                &p,
                format!("pod sets {field}: true and so {what}"),
                format!("remove `{p}` (or set it to false); if a node agent needs it, suppress with `berth.dev/ignore: {NAME}` on that DaemonSet"),
            );
        }
    }
    for c in w.containers() {
        let cpath = c.path(&spec_path);
        if c.security("privileged").and_then(Node::as_bool) == Some(true) {
            let p = cpath.key("securityContext").key("privileged");
            out.warn(
                &p,
                format!("{} is privileged: it has every capability and all host devices, so it can take over the node", c.label()),
                format!("remove `{p}` and add only the capability the container needs under `{cpath}.securityContext.capabilities.add`"),
            );
        }
        let adds = c.node.path(&["securityContext", "capabilities", "add"]).map_or(&[][..], Node::as_seq);
        for (i, cap) in adds.iter().enumerate() {
            let Some(name) = cap.as_str() else { continue };
            let bare = name.trim_start_matches("CAP_").to_ascii_uppercase();
            let Some((_, what)) = DANGEROUS.iter().find(|(n, _)| *n == bare) else { continue };
            let p: FieldPath = cpath.key("securityContext").key("capabilities").key("add").index(i);
            out.warn(
                &p,
                format!("{} adds capability {name} ({what}), enough to escape the container", c.label()),
                format!("remove `{name}` from `{cpath}.securityContext.capabilities.add`; if one operation needs it, move that operation to a reviewed node agent"),
            );
        }
    }
}
