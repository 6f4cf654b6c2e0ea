//! `no-spread`: a replicated workload that does not ask to spread its pods over nodes.
//!
//! Seed 000 spreads each service's containers over hosts and top-of-rack switches with
//! podAntiAffinity; seed 003 §4 recommends podAntiAffinity or topologySpreadConstraints on
//! every Deployment. Without either, the scheduler's default spreading is only a soft score
//! and several replicas can land on one node, which one node failure or drain takes down
//! together. Accepted: a topologySpreadConstraint or a (required or preferred)
//! podAntiAffinity term with `topologyKey: kubernetes.io/hostname`, whose `labelSelector`
//! matches the workload's own pod-template labels.
//!
//! A term that selects no pod of the workload spreads nothing and is reported with the
//! reason: a podAntiAffinity term or a topologySpreadConstraint without `labelSelector`
//! matches no pods (core/v1 types.go PodAffinityTerm: "If it's null, this PodAffinityTerm
//! matches with no Pods"; the scheduler's PodTopologySpread plugin turns a constraint's
//! selector into a label selector with `metav1.LabelSelectorAsSelector`, which makes a
//! missing one match nothing, so the skew is always 0), and
//! one whose selector does not match the template's labels (kubernetes/website's
//! zookeeper.yaml selects `app In [zk]` on pods labelled `app.kubernetes.io/name: zk`)
//! keeps the pods away from some other workload only. The fix selects the pods with the
//! workload's own `spec.selector`, which stays the same across rollouts (the template's
//! labels may include `app.kubernetes.io/version`, which changes with every release).

use berth_manifest::{FieldPath, Node};

use crate::engine::{Cx, Sink, flow};
use crate::finding::{RuleInfo, Severity};
use crate::index::Selector;
use crate::workload::Workload;

/// Rule id.
pub const NAME: &str = "no-spread";

/// The node-level topology key.
pub const HOSTNAME: &str = "kubernetes.io/hostname";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Warning,
    summary: "A workload with 2+ replicas has no topologySpreadConstraint or podAntiAffinity term on kubernetes.io/hostname whose labelSelector matches its own pods.",
    source: "seed 000 (spread by service over hosts and switches); seed 003 §4 (podAntiAffinity / topology spread on every Deployment); core/v1 types.go PodAffinityTerm (a null labelSelector matches no pods); metav1.LabelSelectorAsSelector (nil selects nothing)",
    help: "Without a spread rule that selects the workload's own pods, several replicas may be scheduled onto the same node and fail or be drained together. Add a topologySpreadConstraint with topologyKey kubernetes.io/hostname (maxSkew 1) and a labelSelector equal to the workload's spec.selector, or a preferred podAntiAffinity on the same key.",
};

/// Labels that change between rollouts and must not be in a spread selector.
const VOLATILE_LABELS: [&str; 4] = [
    "app.kubernetes.io/version",
    "helm.sh/chart",
    "pod-template-hash",
    "controller-revision-hash",
];

/// One spread term: its topology key, where it is, and why it selects none of the
/// workload's pods (when it does not).
struct Term {
    key: String,
    path: FieldPath,
    ineffective: Option<String>,
}

fn term(w: &Workload<'_>, key: &str, selector: Option<&Node>, path: FieldPath, what: &str) -> Term {
    let sel = selector.filter(|n| !n.is_null());
    let ineffective = match sel {
        None => Some(format!(
            "its {what} has no labelSelector, which matches no pods"
        )),
        Some(n) => (!Selector::label_selector(Some(n), true).matches(w.pod_labels())).then(|| {
            format!(
                "its {what} selects {}, which does not match the pod-template labels {}",
                flow(n),
                w.pod_labels().map_or("{}".into(), flow_map)
            )
        }),
    };
    Term {
        key: key.to_string(),
        path,
        ineffective,
    }
}

fn flow_map(m: &berth_manifest::Map) -> String {
    let items: Vec<String> = m
        .iter()
        .map(|e| format!("{}: {}", crate::engine::yaml_scalar(&e.key), flow(&e.value)))
        .collect();
    format!("{{{}}}", items.join(", "))
}

fn terms_of(w: &Workload<'_>, spec: &Node) -> Vec<Term> {
    let sp = w.spec_path();
    let mut out = Vec::new();
    let tsc = spec
        .get("topologySpreadConstraints")
        .map_or(&[][..], Node::as_seq);
    for (i, c) in tsc.iter().enumerate() {
        if let Some(k) = c.get("topologyKey").and_then(Node::as_str) {
            let path = sp.key("topologySpreadConstraints").index(i);
            out.push(term(
                w,
                k,
                c.get("labelSelector"),
                path.key("labelSelector"),
                "topologySpreadConstraint",
            ));
        }
    }
    let anti = spec.path(&["affinity", "podAntiAffinity"]);
    let anti_path = sp.key("affinity").key("podAntiAffinity");
    let required = "requiredDuringSchedulingIgnoredDuringExecution";
    for (i, t) in anti
        .and_then(|a| a.get(required))
        .map_or(&[][..], Node::as_seq)
        .iter()
        .enumerate()
    {
        if let Some(k) = t.get("topologyKey").and_then(Node::as_str) {
            let path = anti_path.key(required).index(i);
            out.push(term(
                w,
                k,
                t.get("labelSelector"),
                path.key("labelSelector"),
                "podAntiAffinity term",
            ));
        }
    }
    let preferred = "preferredDuringSchedulingIgnoredDuringExecution";
    for (i, t) in anti
        .and_then(|a| a.get(preferred))
        .map_or(&[][..], Node::as_seq)
        .iter()
        .enumerate()
    {
        let Some(pt) = t.get("podAffinityTerm") else {
            continue;
        };
        if let Some(k) = pt.get("topologyKey").and_then(Node::as_str) {
            let path = anti_path.key(preferred).index(i).key("podAffinityTerm");
            out.push(term(
                w,
                k,
                pt.get("labelSelector"),
                path.key("labelSelector"),
                "podAntiAffinity term",
            ));
        }
    }
    out
}

/// The labelSelector a spread rule should use: the workload's `spec.selector` (stable
/// across rollouts), else its pod-template labels without the ones that change per release.
fn own_selector(cx: &Cx<'_>, w: &Workload<'_>) -> String {
    let sel = cx.object.node.path(&["spec", "selector"]);
    if let Some(s) = sel.filter(|s| {
        s.as_map().is_some_and(|m| {
            m.get("matchLabels")
                .and_then(Node::as_map)
                .is_some_and(|ml| !ml.is_empty())
                || !m
                    .get("matchExpressions")
                    .map_or(&[][..], Node::as_seq)
                    .is_empty()
        })
    }) {
        return flow(s);
    }
    let labels: Vec<String> = w
        .pod_labels()
        .map(|m| {
            m.iter()
                .filter(|e| !VOLATILE_LABELS.contains(&e.key.as_str()))
                .filter_map(|e| {
                    e.value.scalar_text().map(|v| {
                        format!(
                            "{}: {}",
                            crate::engine::yaml_scalar(&e.key),
                            crate::engine::yaml_scalar(&v)
                        )
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    format!("{{matchLabels: {{{}}}}}", labels.join(", "))
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    if !w.kind.scalable() {
        return;
    }
    let Some(spec) = w.spec() else { return };
    let scale = cx.index.scale(cx.i);
    if scale.max < 2 {
        return;
    }
    let terms = terms_of(w, spec);
    if terms
        .iter()
        .any(|t| t.key == HOSTNAME && t.ineffective.is_none())
    {
        return;
    }
    let runs = if scale.hpa.is_some() {
        format!("may run up to {} replicas", scale.max)
    } else {
        format!("runs {} replicas", scale.max)
    };
    let spec_path = w.spec_path();
    let selector = own_selector(cx, w);
    let fix = format!(
        "add `{spec_path}.topologySpreadConstraints: [{{maxSkew: 1, topologyKey: {HOSTNAME}, whenUnsatisfiable: ScheduleAnyway, labelSelector: {selector}}}]` (the workload's own spec.selector: it matches every replica and stays the same across rollouts)"
    );
    let kind = cx.object.kind();
    // A hostname term that spreads nothing: say why, at that term.
    if let Some(t) = terms.iter().find(|t| t.key == HOSTNAME) {
        let why = t.ineffective.as_deref().unwrap_or_default();
        out.warn(
            &t.path,
            format!(
                "{kind} {runs} and asks to spread them over nodes ({HOSTNAME}), but {why}: the rule keeps the replicas apart from nothing, so several can land on the same node and fail or be drained together"
            ),
            format!(
                "set `{}: {selector}`: the workload's own spec.selector matches every replica and stays the same across rollouts",
                t.path
            ),
        );
        return;
    }
    let effective: Vec<&str> = terms
        .iter()
        .filter(|t| t.ineffective.is_none())
        .map(|t| t.key.as_str())
        .collect();
    let other = if terms.is_empty() {
        "has neither topologySpreadConstraints nor podAntiAffinity".to_string()
    } else if effective.is_empty() {
        "none of its spread rules selects its own pods".to_string()
    } else {
        format!("spreads only over {}, not over nodes", effective.join(", "))
    };
    out.warn(
        &spec_path.key("topologySpreadConstraints"),
        format!(
            "{kind} {runs} but {other}: several replicas can land on the same node ({HOSTNAME}) and fail or be drained together"
        ),
        fix,
    );
}
