//! `deprecated-api-version`: an apiVersion/kind that Kubernetes removed or deprecated.
//!
//! Source: the Kubernetes Deprecated API Migration Guide
//! (https://kubernetes.io/docs/reference/using-api/deprecation-guide/), one row per
//! apiVersion/kind with the release that stopped serving it and the replacement. Seed 001:
//! "read the release notes when upgrading: API versions change and features go quickly".
//! Removed (no longer served by a released Kubernetes) is an error; deprecated but still
//! served is a warning.
//!
//! Alpha versions are not in the guide: they were off by default (served only where an
//! administrator enabled them with `--runtime-config`) and could go without a deprecation
//! period. Their rows come from the Kubernetes CHANGELOG and the pull requests that
//! stopped serving them, cited in the table.

use berth_manifest::FieldPath;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "deprecated-api-version";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "An object uses an apiVersion that Kubernetes no longer serves (error, with the removing release) or has deprecated (warning), and names the replacement.",
    source: "Kubernetes Deprecated API Migration Guide (kubernetes.io/docs/reference/using-api/deprecation-guide); seed 001 (API versions change quickly across upgrades)",
    help: "The API server rejects objects of a removed apiVersion, so the manifest fails to apply after an upgrade. Change apiVersion to the replacement and apply the field changes the migration guide lists.",
};

/// One row of the migration guide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deprecation {
    /// The old apiVersion.
    pub api_version: &'static str,
    /// Kinds it applies to; `&[]` for every kind of the version.
    pub kinds: &'static [&'static str],
    /// Release that stopped serving it; `None` when only deprecated.
    pub removed_in: Option<&'static str>,
    /// Release that deprecated it; `""` when it was removed without a deprecation (alpha).
    pub deprecated_in: &'static str,
    /// The apiVersion to use instead (or what replaces the kind).
    pub replacement: &'static str,
    /// What else changes when migrating.
    pub note: &'static str,
}

const WORKLOADS: &[&str] = &["Deployment", "DaemonSet", "StatefulSet", "ReplicaSet"];

/// The migration guide as a table, plus removed alpha versions (from the CHANGELOG) and the
/// deprecated core kinds Endpoints (1.33) and ComponentStatus (1.19).
#[rustfmt::skip]
pub const TABLE: &[Deprecation] = &[
    // v1.16
    Deprecation { api_version: "extensions/v1beta1", kinds: WORKLOADS, removed_in: Some("1.16"), deprecated_in: "1.9", replacement: "apps/v1", note: "apps/v1 requires `spec.selector` matching the template labels, and its default update strategy is RollingUpdate" },
    Deprecation { api_version: "apps/v1beta1", kinds: &["Deployment", "StatefulSet", "ReplicaSet", "ControllerRevision"], removed_in: Some("1.16"), deprecated_in: "1.9", replacement: "apps/v1", note: "apps/v1 requires `spec.selector` matching the template labels" },
    Deprecation { api_version: "apps/v1beta2", kinds: &["Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ControllerRevision"], removed_in: Some("1.16"), deprecated_in: "1.9", replacement: "apps/v1", note: "apps/v1 requires `spec.selector` matching the template labels" },
    Deprecation { api_version: "extensions/v1beta1", kinds: &["NetworkPolicy"], removed_in: Some("1.16"), deprecated_in: "1.9", replacement: "networking.k8s.io/v1", note: "" },
    Deprecation { api_version: "extensions/v1beta1", kinds: &["PodSecurityPolicy"], removed_in: Some("1.16"), deprecated_in: "1.10", replacement: "policy/v1beta1 (itself removed in 1.25: use Pod Security Admission)", note: "" },
    // v1.20 (alpha; kubernetes/kubernetes#94090: "The v1alpha1 PodPreset API and admission plugin has been removed with no built-in replacement")
    Deprecation { api_version: "settings.k8s.io/v1alpha1", kinds: &["PodPreset"], removed_in: Some("1.20"), deprecated_in: "", replacement: "a mutating admission webhook (PodPreset has no built-in replacement)", note: "" },
    // v1.21 (alpha; kubernetes/kubernetes#96987; deprecated since batch/v1beta1 arrived in 1.8)
    Deprecation { api_version: "batch/v2alpha1", kinds: &["CronJob"], removed_in: Some("1.21"), deprecated_in: "1.8", replacement: "batch/v1", note: "" },
    // v1.22
    Deprecation { api_version: "extensions/v1beta1", kinds: &["Ingress"], removed_in: Some("1.22"), deprecated_in: "1.14", replacement: "networking.k8s.io/v1", note: "`spec.backend` becomes `spec.defaultBackend`, `serviceName`/`servicePort` become `service.name`/`service.port.number|name`, and `pathType` is required" },
    Deprecation { api_version: "networking.k8s.io/v1beta1", kinds: &["Ingress"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "networking.k8s.io/v1", note: "`spec.backend` becomes `spec.defaultBackend`, `serviceName`/`servicePort` become `service.name`/`service.port.number|name`, and `pathType` is required" },
    Deprecation { api_version: "networking.k8s.io/v1beta1", kinds: &["IngressClass"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "networking.k8s.io/v1", note: "" },
    Deprecation { api_version: "admissionregistration.k8s.io/v1beta1", kinds: &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"], removed_in: Some("1.22"), deprecated_in: "1.16", replacement: "admissionregistration.k8s.io/v1", note: "`sideEffects` and `admissionReviewVersions` are required; failurePolicy defaults to Fail and matchPolicy to Equivalent" },
    Deprecation { api_version: "apiextensions.k8s.io/v1beta1", kinds: &["CustomResourceDefinition"], removed_in: Some("1.22"), deprecated_in: "1.16", replacement: "apiextensions.k8s.io/v1", note: "a structural `schema` per version is required, `spec.version` is gone, and `preserveUnknownFields: true` is not allowed" },
    Deprecation { api_version: "apiregistration.k8s.io/v1beta1", kinds: &["APIService"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "apiregistration.k8s.io/v1", note: "" },
    Deprecation { api_version: "authentication.k8s.io/v1beta1", kinds: &["TokenReview"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "authentication.k8s.io/v1", note: "" },
    Deprecation { api_version: "authorization.k8s.io/v1beta1", kinds: &["SubjectAccessReview", "LocalSubjectAccessReview", "SelfSubjectAccessReview"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "authorization.k8s.io/v1", note: "`spec.group` is renamed `spec.groups`" },
    Deprecation { api_version: "certificates.k8s.io/v1beta1", kinds: &["CertificateSigningRequest"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "certificates.k8s.io/v1", note: "`spec.signerName` is required" },
    Deprecation { api_version: "coordination.k8s.io/v1beta1", kinds: &["Lease"], removed_in: Some("1.22"), deprecated_in: "1.14", replacement: "coordination.k8s.io/v1", note: "" },
    Deprecation { api_version: "rbac.authorization.k8s.io/v1beta1", kinds: &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"], removed_in: Some("1.22"), deprecated_in: "1.17", replacement: "rbac.authorization.k8s.io/v1", note: "" },
    Deprecation { api_version: "scheduling.k8s.io/v1beta1", kinds: &["PriorityClass"], removed_in: Some("1.22"), deprecated_in: "1.14", replacement: "scheduling.k8s.io/v1", note: "" },
    Deprecation { api_version: "storage.k8s.io/v1beta1", kinds: &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"], removed_in: Some("1.22"), deprecated_in: "1.19", replacement: "storage.k8s.io/v1", note: "" },
    // v1.23 (alpha; CHANGELOG-1.23, kubernetes/kubernetes#104248: "The rbac.authorization.k8s.io/v1alpha1 API version is removed ... The scheduling.k8s.io/v1alpha1 API version is removed"; rbac v1alpha1 deprecated in 1.8 (#49642), PriorityClass v1alpha1 in 1.14 (#74465))
    Deprecation { api_version: "rbac.authorization.k8s.io/v1alpha1", kinds: &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"], removed_in: Some("1.23"), deprecated_in: "1.8", replacement: "rbac.authorization.k8s.io/v1", note: "" },
    Deprecation { api_version: "scheduling.k8s.io/v1alpha1", kinds: &["PriorityClass"], removed_in: Some("1.23"), deprecated_in: "1.14", replacement: "scheduling.k8s.io/v1", note: "" },
    // v1.24 (alpha; CHANGELOG-1.24, kubernetes/kubernetes#103061: "The node.k8s.io/v1alpha1 RuntimeClass API is no longer served. Use the node.k8s.io/v1 API version, available since v1.20")
    Deprecation { api_version: "node.k8s.io/v1alpha1", kinds: &["RuntimeClass"], removed_in: Some("1.24"), deprecated_in: "1.20", replacement: "node.k8s.io/v1", note: "`spec.runtimeHandler` becomes the top-level `handler`, and `spec.overhead`/`spec.scheduling` become top-level `overhead`/`scheduling`" },
    // v1.25
    Deprecation { api_version: "batch/v1beta1", kinds: &["CronJob"], removed_in: Some("1.25"), deprecated_in: "1.21", replacement: "batch/v1", note: "" },
    Deprecation { api_version: "discovery.k8s.io/v1beta1", kinds: &["EndpointSlice"], removed_in: Some("1.25"), deprecated_in: "1.21", replacement: "discovery.k8s.io/v1", note: "`endpoints[].topology[\"kubernetes.io/hostname\"]` becomes `nodeName` and the zone key becomes `zone`" },
    Deprecation { api_version: "events.k8s.io/v1beta1", kinds: &["Event"], removed_in: Some("1.25"), deprecated_in: "1.22", replacement: "events.k8s.io/v1", note: "`type` must be Normal or Warning and `involvedObject` is renamed `regarding`" },
    Deprecation { api_version: "autoscaling/v2beta1", kinds: &["HorizontalPodAutoscaler"], removed_in: Some("1.25"), deprecated_in: "1.22", replacement: "autoscaling/v2", note: "`targetAverageUtilization` becomes `target: {type: Utilization, averageUtilization: N}`" },
    Deprecation { api_version: "policy/v1beta1", kinds: &["PodDisruptionBudget"], removed_in: Some("1.25"), deprecated_in: "1.21", replacement: "policy/v1", note: "in policy/v1 an empty `spec.selector: {}` selects every pod of the namespace (in v1beta1 it selected none)" },
    Deprecation { api_version: "policy/v1beta1", kinds: &["PodSecurityPolicy"], removed_in: Some("1.25"), deprecated_in: "1.21", replacement: "Pod Security Admission (namespace labels `pod-security.kubernetes.io/enforce`) or a third-party admission webhook", note: "PodSecurityPolicy has no replacement API" },
    Deprecation { api_version: "node.k8s.io/v1beta1", kinds: &["RuntimeClass"], removed_in: Some("1.25"), deprecated_in: "1.20", replacement: "node.k8s.io/v1", note: "" },
    // v1.26
    Deprecation { api_version: "flowcontrol.apiserver.k8s.io/v1beta1", kinds: &["FlowSchema", "PriorityLevelConfiguration"], removed_in: Some("1.26"), deprecated_in: "1.23", replacement: "flowcontrol.apiserver.k8s.io/v1", note: "" },
    Deprecation { api_version: "autoscaling/v2beta2", kinds: &["HorizontalPodAutoscaler"], removed_in: Some("1.26"), deprecated_in: "1.23", replacement: "autoscaling/v2", note: "`targetAverageUtilization` becomes `target.averageUtilization` and `targetAverageValue` becomes `target.averageValue`" },
    // v1.27
    Deprecation { api_version: "storage.k8s.io/v1beta1", kinds: &["CSIStorageCapacity"], removed_in: Some("1.27"), deprecated_in: "1.24", replacement: "storage.k8s.io/v1", note: "" },
    // v1.29
    Deprecation { api_version: "flowcontrol.apiserver.k8s.io/v1beta2", kinds: &["FlowSchema", "PriorityLevelConfiguration"], removed_in: Some("1.29"), deprecated_in: "1.26", replacement: "flowcontrol.apiserver.k8s.io/v1", note: "`spec.limited.assuredConcurrencyShares` is renamed `spec.limited.nominalConcurrencyShares`" },
    // v1.29 (alpha; ClusterCIDR: kubernetes/kubernetes#121229 "remove the networking alpha API ClusterCIDR", KEP-2593 withdrawn;
    // flowcontrol v1alpha1: kubernetes/kubernetes#120259, deprecated since v1beta1 in 1.20)
    Deprecation { api_version: "networking.k8s.io/v1alpha1", kinds: &["ClusterCIDR"], removed_in: Some("1.29"), deprecated_in: "", replacement: "the node-ipam controller's --cluster-cidr flags or a CNI plugin's own IPAM (ClusterCIDR has no replacement API)", note: "" },
    Deprecation { api_version: "flowcontrol.apiserver.k8s.io/v1alpha1", kinds: &["FlowSchema", "PriorityLevelConfiguration"], removed_in: Some("1.29"), deprecated_in: "1.20", replacement: "flowcontrol.apiserver.k8s.io/v1", note: "`spec.limited.assuredConcurrencyShares` is renamed `spec.limited.nominalConcurrencyShares`" },
    // v1.31 (alpha API, not in the guide: dynamic resource allocation v1alpha2 was replaced)
    Deprecation { api_version: "resource.k8s.io/v1alpha2", kinds: &[], removed_in: Some("1.31"), deprecated_in: "1.31", replacement: "resource.k8s.io/v1 (ResourceClass is replaced by DeviceClass)", note: "structured parameters replaced the v1alpha2 claim and class parameters" },
    // v1.32
    Deprecation { api_version: "flowcontrol.apiserver.k8s.io/v1beta3", kinds: &["FlowSchema", "PriorityLevelConfiguration"], removed_in: Some("1.32"), deprecated_in: "1.29", replacement: "flowcontrol.apiserver.k8s.io/v1", note: "`spec.limited.nominalConcurrencyShares` defaults to 30 only when unspecified; an explicit 0 stays 0" },
    // Deprecated, still served.
    // kubernetes/kubernetes#93570 "Mark componentstatus as deprecated" (1.19); the API reference: "Deprecated: This API is deprecated in v1.19+".
    Deprecation { api_version: "v1", kinds: &["ComponentStatus"], removed_in: None, deprecated_in: "1.19", replacement: "the components' own health endpoints (`/livez`, `/readyz`) and metrics", note: "ComponentStatus is read-only status that only reflects components the API server can reach; a manifest has nothing to declare with it" },
    Deprecation { api_version: "v1", kinds: &["Endpoints"], removed_in: None, deprecated_in: "1.33", replacement: "discovery.k8s.io/v1 EndpointSlice", note: "Endpoints cannot represent dual-stack or more than 1000 addresses; controllers and kube-proxy use EndpointSlices" },
];

/// The table row for an apiVersion and kind.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static Deprecation> {
    TABLE
        .iter()
        .find(|d| d.api_version == api_version && (d.kinds.is_empty() || d.kinds.contains(&kind)))
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let o = cx.object;
    let Some(d) = lookup(o.api_version(), o.kind()) else {
        return;
    };
    let path = FieldPath::root().key("apiVersion");
    let note = if d.note.is_empty() {
        String::new()
    } else {
        format!("; when migrating: {}", d.note)
    };
    let target = d
        .replacement
        .split_whitespace()
        .next()
        .unwrap_or(d.replacement);
    let fix = if target.contains('/') || target == "v1" {
        format!(
            "change `apiVersion: {}` to `apiVersion: {target}`{note}",
            d.api_version
        )
    } else {
        format!("replace this {} with {}{note}", o.kind(), d.replacement)
    };
    let alpha = d.api_version.contains("alpha");
    let deprecated = if d.deprecated_in.is_empty() {
        String::new()
    } else {
        format!("was deprecated in Kubernetes {} and ", d.deprecated_in)
    };
    match d.removed_in {
        Some(r) => out.emit(
            Severity::Error,
            &path,
            format!(
                "{} {} {deprecated}{}removed in Kubernetes {r}: API servers from {r} on reject it{}; use {}",
                d.api_version,
                o.kind(),
                if deprecated.is_empty() { "was, without a deprecation period, " } else { "" },
                if alpha {
                    " (an alpha API: before that it was served only where an administrator enabled it with --runtime-config)"
                } else {
                    ""
                },
                d.replacement
            ),
            fix,
        ),
        None => out.emit(
            Severity::Warning,
            &path,
            format!(
                "{} {} is deprecated since Kubernetes {} (still served); use {}",
                d.api_version,
                o.kind(),
                d.deprecated_in,
                d.replacement
            ),
            match o.kind() {
                "Endpoints" => format!("manage an EndpointSlice (`apiVersion: discovery.k8s.io/v1`, `kind: EndpointSlice`, label `kubernetes.io/service-name: {}`) instead of this Endpoints object{note}", o.name()),
                "ComponentStatus" => format!("remove this ComponentStatus from the manifests and check component health through {}", d.replacement),
                _ => fix,
            },
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_versions_name_their_release_and_replacement() {
        let cases: &[(&str, &str, Option<&str>, &str)] = &[
            ("extensions/v1beta1", "Deployment", Some("1.16"), "apps/v1"),
            (
                "extensions/v1beta1",
                "Ingress",
                Some("1.22"),
                "networking.k8s.io/v1",
            ),
            ("apps/v1beta2", "DaemonSet", Some("1.16"), "apps/v1"),
            (
                "policy/v1beta1",
                "PodDisruptionBudget",
                Some("1.25"),
                "policy/v1",
            ),
            ("batch/v1beta1", "CronJob", Some("1.25"), "batch/v1"),
            (
                "autoscaling/v2beta1",
                "HorizontalPodAutoscaler",
                Some("1.25"),
                "autoscaling/v2",
            ),
            (
                "autoscaling/v2beta2",
                "HorizontalPodAutoscaler",
                Some("1.26"),
                "autoscaling/v2",
            ),
            (
                "networking.k8s.io/v1beta1",
                "IngressClass",
                Some("1.22"),
                "networking.k8s.io/v1",
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1beta3",
                "FlowSchema",
                Some("1.32"),
                "flowcontrol.apiserver.k8s.io/v1",
            ),
            (
                "storage.k8s.io/v1beta1",
                "CSIStorageCapacity",
                Some("1.27"),
                "storage.k8s.io/v1",
            ),
            (
                "discovery.k8s.io/v1beta1",
                "EndpointSlice",
                Some("1.25"),
                "discovery.k8s.io/v1",
            ),
            (
                "node.k8s.io/v1beta1",
                "RuntimeClass",
                Some("1.25"),
                "node.k8s.io/v1",
            ),
            ("v1", "Endpoints", None, "discovery.k8s.io/v1 EndpointSlice"),
            // Alpha versions, from the CHANGELOG.
            ("batch/v2alpha1", "CronJob", Some("1.21"), "batch/v1"),
            (
                "settings.k8s.io/v1alpha1",
                "PodPreset",
                Some("1.20"),
                "a mutating admission webhook (PodPreset has no built-in replacement)",
            ),
            (
                "flowcontrol.apiserver.k8s.io/v1alpha1",
                "FlowSchema",
                Some("1.29"),
                "flowcontrol.apiserver.k8s.io/v1",
            ),
            (
                "scheduling.k8s.io/v1alpha1",
                "PriorityClass",
                Some("1.23"),
                "scheduling.k8s.io/v1",
            ),
            (
                "rbac.authorization.k8s.io/v1alpha1",
                "Role",
                Some("1.23"),
                "rbac.authorization.k8s.io/v1",
            ),
            (
                "node.k8s.io/v1alpha1",
                "RuntimeClass",
                Some("1.24"),
                "node.k8s.io/v1",
            ),
            (
                "networking.k8s.io/v1alpha1",
                "ClusterCIDR",
                Some("1.29"),
                "the node-ipam controller's --cluster-cidr flags or a CNI plugin's own IPAM (ClusterCIDR has no replacement API)",
            ),
            (
                "v1",
                "ComponentStatus",
                None,
                "the components' own health endpoints (`/livez`, `/readyz`) and metrics",
            ),
        ];
        for (api, kind, removed, replacement) in cases {
            let d = lookup(api, kind).unwrap_or_else(|| panic!("{api} {kind} is in the table"));
            assert_eq!(d.removed_in, *removed, "{api} {kind}");
            assert_eq!(d.replacement, *replacement, "{api} {kind}");
        }
    }

    #[test]
    fn current_versions_are_not_in_the_table() {
        // scheduling.k8s.io/v1alpha1 Workload (1.35) and networking.k8s.io/v1alpha1
        // IPAddress are alpha kinds of the same versions that are not removed.
        for (api, kind) in [
            ("apps/v1", "Deployment"),
            ("policy/v1", "PodDisruptionBudget"),
            ("autoscaling/v2", "HorizontalPodAutoscaler"),
            ("storage.k8s.io/v1beta1", "Unknown"),
            ("v1", "Service"),
            ("scheduling.k8s.io/v1alpha1", "Workload"),
            ("networking.k8s.io/v1alpha1", "IPAddress"),
        ] {
            assert!(lookup(api, kind).is_none(), "{api} {kind}");
        }
    }
}
