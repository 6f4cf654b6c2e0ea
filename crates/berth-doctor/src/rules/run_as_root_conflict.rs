//! `run-as-root-conflict`: `runAsNonRoot: true` together with `runAsUser: 0`.
//!
//! The kubelet checks the effective settings before starting a container
//! (pkg/kubelet/kuberuntime `verifyRunAsNonRoot`, on `DetermineEffectiveSecurityContext`): when
//! `runAsNonRoot` is true and `runAsUser` is 0 it refuses with "container's runAsUser
//! breaks non-root policy" and the pod stays in CreateContainerConfigError. Both fields
//! exist on the pod's and on the container's securityContext; the container's value wins
//! for each field separately (Kubernetes docs, "Configure a Security Context for a Pod or
//! Container"), so `runAsNonRoot: true` on the pod and `runAsUser: 0` on one container
//! conflict for that container only. Windows pods (`spec.os.name: windows`) are skipped:
//! they use `runAsUserName`.

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "run-as-root-conflict";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A container's effective securityContext has runAsNonRoot: true and runAsUser: 0 (pod or container level; the container wins), so the kubelet refuses to start it.",
    source: "pkg/kubelet/kuberuntime verifyRunAsNonRoot (\"container's runAsUser breaks non-root policy\"); Kubernetes docs, Configure a Security Context for a Pod or Container",
    help: "runAsNonRoot: true asks the kubelet to refuse containers that would run as root; runAsUser: 0 asks for root. The kubelet checks before starting the container and fails it with CreateContainerConfigError. Set runAsUser to a non-zero UID the image can run as, or drop runAsNonRoot if the container must run as root.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let Some(spec) = w.spec() else { return };
    if spec.path(&["os", "name"]).and_then(Node::as_str) == Some("windows") {
        return;
    }
    let spec_path = w.spec_path();
    let pod_sc = spec_path.key("securityContext");
    let pod = |k: &str| spec.path(&["securityContext", k]);
    for c in w.containers() {
        let cpath = c.path(&spec_path).key("securityContext");
        // Each field: the container's value when written, else the pod's.
        let pick = |k: &str| -> Option<(&Node, FieldPath, &'static str)> {
            match c.security(k).filter(|n| !n.is_null()) {
                Some(n) => Some((n, cpath.key(k), "the container")),
                None => pod(k)
                    .filter(|n| !n.is_null())
                    .map(|n| (n, pod_sc.key(k), "the pod")),
            }
        };
        let Some((non_root, _, nr_from)) = pick("runAsNonRoot") else {
            continue;
        };
        let Some((user, user_path, user_from)) = pick("runAsUser") else {
            continue;
        };
        if non_root.as_bool() != Some(true) || user.as_i64() != Some(0) {
            continue;
        }
        out.warn(
            &user_path,
            format!(
                "{} runs with runAsNonRoot: true (from {nr_from}) and runAsUser: 0 (from {user_from}): the kubelet refuses to start it (\"container's runAsUser breaks non-root policy\", CreateContainerConfigError)",
                c.label()
            ),
            format!(
                "set `{user_path}` to a non-zero UID the image can run as (e.g. `runAsUser: 10001`){}, or remove runAsNonRoot if the container really must run as root",
                if user_from == "the pod" {
                    format!(" or override it in `{cpath}`")
                } else {
                    String::new()
                }
            ),
        );
    }
}
