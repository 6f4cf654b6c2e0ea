//! `insecure-security-context`: a container missing the restricted securityContext settings.
//!
//! Seed 003 §6 recommends on every pod: `runAsNonRoot: true`, `readOnlyRootFilesystem: true`,
//! `allowPrivilegeEscalation: false`, dropping capabilities, and a seccomp profile. These are
//! also the Pod Security Standards "restricted" profile. Container settings override the
//! pod's (`runAsNonRoot`, `runAsUser`, `seccompProfile` exist at both levels). A
//! `runAsUser` other than 0 counts as non-root. Windows pods (`spec.os.name: windows`) are
//! skipped: these are Linux settings.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};
use crate::rules::shared::and_list;

/// Rule id.
pub const NAME: &str = "insecure-security-context";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A container lacks runAsNonRoot, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities.drop [ALL] or a RuntimeDefault/Localhost seccomp profile (pod or container level; the container wins).",
    source: "seed 003 §6 (Pod SecurityContext settings recommended on every pod); Pod Security Standards, restricted profile",
    help: "A container that may run as root, gain privileges, write its image filesystem, keep default capabilities or make any syscall gives an attacker who gets in far more reach. Set runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true (mount an emptyDir where it must write), capabilities.drop: [ALL] and seccompProfile.type: RuntimeDefault.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let Some(spec) = w.spec() else { return };
    if spec.path(&["os", "name"]).and_then(Node::as_str) == Some("windows") {
        return;
    }
    let pod = |k: &str| spec.path(&["securityContext", k]);
    let spec_path = w.spec_path();
    for c in w.containers() {
        let mut missing = Vec::new();
        let mut fields = Vec::new();
        let non_root = c
            .security("runAsNonRoot")
            .or_else(|| pod("runAsNonRoot"))
            .and_then(Node::as_bool);
        let user = c
            .security("runAsUser")
            .or_else(|| pod("runAsUser"))
            .and_then(Node::as_i64);
        match (non_root, user) {
            (Some(true), _) => {}
            (_, Some(u)) if u > 0 && non_root != Some(false) => {}
            (_, Some(0)) => {
                missing.push("runs as root (runAsUser 0)".to_string());
                fields.push("runAsNonRoot: true, runAsUser: 10001");
            }
            _ => {
                missing.push("runAsNonRoot is not true".to_string());
                fields.push("runAsNonRoot: true");
            }
        }
        if c.security("allowPrivilegeEscalation").and_then(Node::as_bool) != Some(false) {
            missing.push("allowPrivilegeEscalation is not false".into());
            fields.push("allowPrivilegeEscalation: false");
        }
        if c.security("readOnlyRootFilesystem").and_then(Node::as_bool) != Some(true) {
            missing.push("readOnlyRootFilesystem is not true".into());
            fields.push("readOnlyRootFilesystem: true");
        }
        let drops_all = c
            .node
            .path(&["securityContext", "capabilities", "drop"])
            .map_or(&[][..], Node::as_seq)
            .iter()
            .any(|d| d.as_str().is_some_and(|s| s.eq_ignore_ascii_case("ALL")));
        if !drops_all {
            missing.push("capabilities.drop does not include ALL".into());
            fields.push("capabilities: {drop: [ALL]}");
        }
        let seccomp = c
            .node
            .path(&["securityContext", "seccompProfile", "type"])
            .or_else(|| pod("seccompProfile").and_then(|s| s.get("type")))
            .and_then(Node::as_str);
        if !matches!(seccomp, Some("RuntimeDefault" | "Localhost")) {
            missing.push(match seccomp {
                Some(t) => format!("seccompProfile is {t}"),
                None => "no seccompProfile (RuntimeDefault or Localhost)".into(),
            });
            fields.push("seccompProfile: {type: RuntimeDefault}");
        }
        if missing.is_empty() {
            continue;
        }
        let cpath = c.path(&spec_path);
        out.warn(
            &cpath.key("securityContext"),
            format!("{} is not locked down: {}", c.label(), and_list(&missing)),
            format!(
                "set `{cpath}.securityContext: {{{}}}`{}",
                fields.join(", "),
                if fields.contains(&"readOnlyRootFilesystem: true") {
                    " and mount an `emptyDir` volume wherever the application writes"
                } else {
                    ""
                }
            ),
        );
    }
}
