//! `missing-network-policy`: a long-running workload whose pods no NetworkPolicy selects.
//!
//! Seed 003 §6 (isolation): use NetworkPolicies so that services of different business
//! lines do not call each other freely and a compromised service cannot reach anything.
//! A policy of the same namespace selects a workload when its podSelector matches the
//! pod-template labels (`podSelector: {}` selects all). Severity: warning when the
//! namespace has NetworkPolicies in the input but none selects this workload (a gap in an
//! isolated namespace, usually a label mismatch); info when the input has none for the
//! namespace (isolation may be managed elsewhere).

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "missing-network-policy";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "No NetworkPolicy in the namespace selects a long-running workload's pods: warning when other policies exist there, info when the namespace has none in the input.",
    source: "seed 003 §6 (network policies for isolation between business lines)",
    help: "Pods that no NetworkPolicy selects accept traffic from, and send it to, anything. Give every namespace a default-deny policy (`podSelector: {}`) and allow the flows each service needs.",
};

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.long_running() || !cx.index.network_policies_of(cx.i).is_empty() {
        return;
    }
    let ns_name = cx.namespace_name();
    let policies = cx.namespace().map_or(0, |n| n.network_policies.len());
    let path = w.meta_path().key("labels");
    let fix = format!(
        "add a NetworkPolicy to namespace `{ns_name}` that selects these pods, e.g. a default deny `{{apiVersion: networking.k8s.io/v1, kind: NetworkPolicy, metadata: {{name: default-deny, namespace: {ns_name}}}, spec: {{podSelector: {{}}, policyTypes: [Ingress, Egress]}}}}` plus policies allowing the traffic this service needs"
    );
    if policies == 0 {
        out.emit(
            Severity::Info,
            &path,
            format!(
                "no NetworkPolicy for namespace `{ns_name}` is in the input, so {} `{}` accepts traffic from and sends traffic to any pod in the cluster",
                cx.object.kind(),
                cx.object.name()
            ),
            fix,
        );
    } else {
        out.emit(
            Severity::Warning,
            &path,
            format!(
                "namespace `{ns_name}` has {policies} NetworkPolic{} in the input but none selects the pods of {} `{}` (check the podSelector labels): these pods stay open to all traffic",
                if policies == 1 { "y" } else { "ies" },
                cx.object.kind(),
                cx.object.name()
            ),
            fix,
        );
    }
}
