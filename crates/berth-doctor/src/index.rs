//! Everything a rule may need to know about other objects, built once per `check` call.
//!
//! Objects are grouped by namespace (a missing `metadata.namespace` counts as `default`,
//! as `kubectl apply` with the default context does). Selector matching first narrows the
//! candidates through a `label=value → workloads` map, so a namespace with thousands of
//! workloads and PDBs is not matched all-against-all.

use std::collections::HashMap;

use berth_manifest::{Node, Object};

use crate::workload::{Kind, LimitDefaults, Workload};

/// The namespace an object lands in.
pub(crate) fn namespace_of(object: &Object) -> &str {
    object.namespace().unwrap_or("default")
}

/// One `matchExpressions` requirement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Requirement<'a> {
    key: &'a str,
    op: Op,
    values: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    In,
    NotIn,
    Exists,
    DoesNotExist,
}

/// A label selector as the API server evaluates it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Selector<'a> {
    /// Selects no pods (a null selector, a Service without selector, an invalid one).
    Nothing,
    /// `matchLabels` pairs and `matchExpressions` requirements, all of which must hold;
    /// both empty means every pod of the namespace.
    Match {
        labels: Vec<(&'a str, String)>,
        exprs: Vec<Requirement<'a>>,
    },
}

impl<'a> Selector<'a> {
    /// A `metav1.LabelSelector` (`matchLabels` + `matchExpressions`). `empty_selects_all`
    /// is false for policy/v1beta1 PDBs, where `{}` selected nothing.
    pub(crate) fn label_selector(node: Option<&'a Node>, empty_selects_all: bool) -> Self {
        let Some(map) = node.and_then(Node::as_map) else {
            return Selector::Nothing;
        };
        let mut labels = Vec::new();
        if let Some(ml) = map.get("matchLabels") {
            let Some(ml) = ml.as_map() else {
                return Selector::Nothing;
            };
            for e in ml.iter() {
                let Some(v) = e.value.scalar_text() else {
                    return Selector::Nothing;
                };
                labels.push((e.key.as_str(), v));
            }
        }
        let mut exprs = Vec::new();
        for req in map.get("matchExpressions").map_or(&[][..], Node::as_seq) {
            let key = req.get("key").and_then(Node::as_str);
            let op = match req.get("operator").and_then(Node::as_str) {
                Some("In") => Op::In,
                Some("NotIn") => Op::NotIn,
                Some("Exists") => Op::Exists,
                Some("DoesNotExist") => Op::DoesNotExist,
                _ => return Selector::Nothing,
            };
            let Some(key) = key else {
                return Selector::Nothing;
            };
            let values = req
                .get("values")
                .map_or(&[][..], Node::as_seq)
                .iter()
                .filter_map(Node::scalar_text)
                .collect();
            exprs.push(Requirement { key, op, values });
        }
        if labels.is_empty() && exprs.is_empty() && !empty_selects_all {
            return Selector::Nothing;
        }
        Selector::Match { labels, exprs }
    }

    /// A Service's plain `selector` map; missing or empty selects nothing.
    pub(crate) fn service(node: Option<&'a Node>) -> Self {
        let Some(map) = node.and_then(Node::as_map) else {
            return Selector::Nothing;
        };
        if map.is_empty() {
            return Selector::Nothing;
        }
        let mut labels = Vec::new();
        for e in map.iter() {
            let Some(v) = e.value.scalar_text() else {
                return Selector::Nothing;
            };
            labels.push((e.key.as_str(), v));
        }
        Selector::Match {
            labels,
            exprs: Vec::new(),
        }
    }

    /// Whether pods with these labels are selected.
    pub(crate) fn matches(&self, pod_labels: Option<&berth_manifest::Map>) -> bool {
        let Selector::Match { labels, exprs } = self else {
            return false;
        };
        let get = |k: &str| -> Option<String> {
            pod_labels
                .and_then(|m| m.get(k))
                .and_then(Node::scalar_text)
        };
        labels
            .iter()
            .all(|(k, v)| get(k).as_deref() == Some(v.as_str()))
            && exprs.iter().all(|r| {
                let have = get(r.key);
                match r.op {
                    Op::In => have.is_some_and(|h| r.values.contains(&h)),
                    Op::NotIn => have.is_none_or(|h| !r.values.contains(&h)),
                    Op::Exists => have.is_some(),
                    Op::DoesNotExist => have.is_none(),
                }
            })
    }

    /// One `matchLabels` pair to narrow candidates with, if there is one.
    fn first_pair(&self) -> Option<(&'a str, &str)> {
        match self {
            Selector::Match { labels, .. } => labels.first().map(|(k, v)| (*k, v.as_str())),
            Selector::Nothing => None,
        }
    }
}

/// The scale a workload runs at, and where that number comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Scale {
    /// Fewest replicas it runs with (HPA minReplicas, else spec.replicas, default 1).
    pub min: i64,
    /// Most replicas it runs with (HPA maxReplicas, else the same as `min`).
    pub max: i64,
    /// The HPA that sizes it, if any (object index).
    pub hpa: Option<usize>,
    /// `spec.replicas` as written.
    pub replicas: Option<i64>,
}

impl Scale {
    /// "replicas 3", "HPA `web` minReplicas 2".
    pub(crate) fn describe_min(&self, index: &Index<'_>) -> String {
        match self.hpa {
            Some(h) => format!(
                "HorizontalPodAutoscaler `{}` minReplicas {}",
                index.objects[h].name(),
                self.min
            ),
            None => match self.replicas {
                Some(r) => format!("replicas {r}"),
                None => "replicas 1 (the default)".into(),
            },
        }
    }
}

/// A HorizontalPodAutoscaler, read across autoscaling/v1, v2beta1, v2beta2 and v2.
#[derive(Debug, Clone)]
pub(crate) struct Hpa<'a> {
    /// `scaleTargetRef.kind`.
    pub target_kind: &'a str,
    /// `scaleTargetRef.name`.
    pub target_name: &'a str,
    /// `spec.minReplicas`, default 1.
    pub min: i64,
    /// `spec.maxReplicas`, when written.
    pub max: Option<i64>,
}

impl<'a> Hpa<'a> {
    /// Reads an HPA object.
    pub(crate) fn of(object: &'a Object) -> Option<Self> {
        if object.kind() != "HorizontalPodAutoscaler"
            || !object.api_version().starts_with("autoscaling/")
        {
            return None;
        }
        let spec = object.node.get("spec")?;
        let target = spec.get("scaleTargetRef")?;
        Some(Hpa {
            target_kind: target.get("kind").and_then(Node::as_str)?,
            target_name: target.get("name").and_then(Node::as_str)?,
            min: spec.get("minReplicas").and_then(Node::as_i64).unwrap_or(1),
            max: spec.get("maxReplicas").and_then(Node::as_i64),
        })
    }
}

/// The objects of one namespace, by role (indexes into the object slice).
#[derive(Debug, Default)]
pub(crate) struct Namespace<'a> {
    /// Workloads (any [`Kind`]).
    pub workloads: Vec<usize>,
    /// Services.
    pub services: Vec<usize>,
    /// PodDisruptionBudgets.
    pub pdbs: Vec<usize>,
    /// NetworkPolicies.
    pub network_policies: Vec<usize>,
    /// HPAs.
    pub hpas: Vec<usize>,
    /// Defaults of the first LimitRange with a `type: Container` item.
    pub limits: Option<LimitDefaults>,
    /// The Namespace object itself, if in the input.
    pub object: Option<usize>,
    /// `label=value` of pod templates → workloads.
    by_label: HashMap<(&'a str, String), Vec<usize>>,
}

/// The index over all objects of one `check` call.
pub(crate) struct Index<'a> {
    /// All objects, in input order.
    pub objects: &'a [Object],
    /// Workload views, by object index.
    pub workloads: Vec<Option<Workload<'a>>>,
    /// Namespaces by name.
    pub namespaces: HashMap<&'a str, Namespace<'a>>,
    /// HPAs by object index.
    pub hpas: HashMap<usize, Hpa<'a>>,
    /// (namespace, kind, name) → HPAs targeting it.
    hpa_targets: HashMap<(&'a str, &'a str, &'a str), Vec<usize>>,
    /// Services selecting each workload, by workload object index.
    pub services_of: HashMap<usize, Vec<usize>>,
    /// PDBs selecting each workload.
    pub pdbs_of: HashMap<usize, Vec<usize>>,
    /// NetworkPolicies selecting each workload.
    pub network_policies_of: HashMap<usize, Vec<usize>>,
}

static NO_INDEXES: Vec<usize> = Vec::new();

impl<'a> Index<'a> {
    /// Builds the index in one pass plus one selector pass per selecting object.
    pub(crate) fn build(objects: &'a [Object]) -> Self {
        let mut namespaces: HashMap<&'a str, Namespace<'a>> = HashMap::new();
        let mut workloads = Vec::with_capacity(objects.len());
        let mut hpas = HashMap::new();
        let mut hpa_targets: HashMap<(&str, &str, &str), Vec<usize>> = HashMap::new();
        for (i, o) in objects.iter().enumerate() {
            let w = Workload::of(o);
            let ns_name = if o.kind() == "Namespace" && o.api_version() == "v1" {
                o.name()
            } else {
                namespace_of(o)
            };
            let ns = namespaces.entry(ns_name).or_default();
            if let Some(w) = &w {
                ns.workloads.push(i);
                if let Some(labels) = w.pod_labels() {
                    for e in labels.iter() {
                        if let Some(v) = e.value.scalar_text() {
                            ns.by_label.entry((e.key.as_str(), v)).or_default().push(i);
                        }
                    }
                }
            } else {
                let core = o.api_version() == "v1";
                match o.kind() {
                    "Service" if core => ns.services.push(i),
                    "PodDisruptionBudget" if o.api_version().starts_with("policy/") => {
                        ns.pdbs.push(i)
                    }
                    "NetworkPolicy"
                        if o.api_version().starts_with("networking.k8s.io/")
                            || o.api_version() == "extensions/v1beta1" =>
                    {
                        ns.network_policies.push(i)
                    }
                    "LimitRange" if core && ns.limits.is_none() => {
                        ns.limits = LimitDefaults::from_limit_range(&o.node);
                    }
                    "Namespace" if core => ns.object = Some(i),
                    _ => {
                        if let Some(h) = Hpa::of(o) {
                            ns.hpas.push(i);
                            hpa_targets
                                .entry((namespace_of(o), h.target_kind, h.target_name))
                                .or_default()
                                .push(i);
                            hpas.insert(i, h);
                        }
                    }
                }
            }
            workloads.push(w);
        }
        let mut index = Index {
            objects,
            workloads,
            namespaces,
            hpas,
            hpa_targets,
            services_of: HashMap::new(),
            pdbs_of: HashMap::new(),
            network_policies_of: HashMap::new(),
        };
        let mut services_of: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut pdbs_of: HashMap<usize, Vec<usize>> = HashMap::new();
        let mut netpols_of: HashMap<usize, Vec<usize>> = HashMap::new();
        for ns in index.namespaces.values() {
            for &s in &ns.services {
                let sel = Selector::service(objects[s].node.path(&["spec", "selector"]));
                for w in index.selected_in(ns, &sel) {
                    services_of.entry(w).or_default().push(s);
                }
            }
            for &p in &ns.pdbs {
                for w in index.selected_in(ns, &pdb_selector(&objects[p])) {
                    pdbs_of.entry(w).or_default().push(p);
                }
            }
            for &n in &ns.network_policies {
                for w in index.selected_in(ns, &network_policy_selector(&objects[n])) {
                    netpols_of.entry(w).or_default().push(n);
                }
            }
        }
        index.services_of = services_of;
        index.pdbs_of = pdbs_of;
        index.network_policies_of = netpols_of;
        index
    }

    /// Workloads of a namespace whose pod labels a selector matches, in input order.
    pub(crate) fn selected_in(&self, ns: &Namespace<'a>, sel: &Selector<'_>) -> Vec<usize> {
        if matches!(sel, Selector::Nothing) {
            return Vec::new();
        }
        let candidates: &[usize] = match sel.first_pair() {
            Some((k, v)) => ns
                .by_label
                .get(&(k, v.to_string()))
                .map_or(&[][..], Vec::as_slice),
            None => &ns.workloads,
        };
        candidates
            .iter()
            .copied()
            .filter(|&w| {
                self.workloads[w]
                    .as_ref()
                    .is_some_and(|wl| sel.matches(wl.pod_labels()))
            })
            .collect()
    }

    /// The namespace record of an object.
    pub(crate) fn namespace(&self, object: usize) -> Option<&Namespace<'a>> {
        self.namespaces.get(namespace_of(&self.objects[object]))
    }

    /// HPAs whose scaleTargetRef names this object.
    pub(crate) fn hpas_targeting(&self, object: usize) -> &[usize] {
        let o = &self.objects[object];
        self.hpa_targets
            .get(&(namespace_of(o), o.kind(), o.name()))
            .map_or(&NO_INDEXES[..], Vec::as_slice)
    }

    /// The workload an HPA scales, if it is in the input.
    pub(crate) fn hpa_target(&self, hpa: usize) -> Option<usize> {
        let h = self.hpas.get(&hpa)?;
        let ns = self.namespace(hpa)?;
        ns.workloads.iter().copied().find(|&w| {
            let o = &self.objects[w];
            o.kind() == h.target_kind && o.name() == h.target_name
        })
    }

    /// Services selecting a workload's pods.
    pub(crate) fn services_of(&self, workload: usize) -> &[usize] {
        self.services_of
            .get(&workload)
            .map_or(&NO_INDEXES[..], Vec::as_slice)
    }

    /// PDBs selecting a workload's pods.
    pub(crate) fn pdbs_of(&self, workload: usize) -> &[usize] {
        self.pdbs_of
            .get(&workload)
            .map_or(&NO_INDEXES[..], Vec::as_slice)
    }

    /// NetworkPolicies selecting a workload's pods.
    pub(crate) fn network_policies_of(&self, workload: usize) -> &[usize] {
        self.network_policies_of
            .get(&workload)
            .map_or(&NO_INDEXES[..], Vec::as_slice)
    }

    /// How many replicas a scalable workload runs with.
    pub(crate) fn scale(&self, workload: usize) -> Scale {
        let o = &self.objects[workload];
        let replicas = o.node.path(&["spec", "replicas"]).and_then(Node::as_i64);
        let hpa = self.hpas_targeting(workload).first().copied();
        match hpa.and_then(|h| self.hpas.get(&h).map(|x| (h, x))) {
            Some((h, x)) => Scale {
                min: x.min,
                max: x.max.unwrap_or(x.min).max(x.min),
                hpa: Some(h),
                replicas,
            },
            None => {
                let n = replicas.unwrap_or(1);
                Scale {
                    min: n,
                    max: n,
                    hpa: None,
                    replicas,
                }
            }
        }
    }

    /// The workload kind of an object.
    pub(crate) fn kind(&self, object: usize) -> Option<Kind> {
        self.workloads[object].as_ref().map(|w| w.kind)
    }
}

/// A PDB's selector; `{}` selects all pods in policy/v1 but none in policy/v1beta1.
pub(crate) fn pdb_selector(pdb: &Object) -> Selector<'_> {
    Selector::label_selector(
        pdb.node.path(&["spec", "selector"]),
        pdb.api_version() != "policy/v1beta1",
    )
}

/// A NetworkPolicy's podSelector; `{}` (and a missing one, which decodes as `{}`) selects
/// every pod of the namespace.
pub(crate) fn network_policy_selector(np: &Object) -> Selector<'_> {
    match np.node.path(&["spec", "podSelector"]) {
        None => Selector::Match {
            labels: Vec::new(),
            exprs: Vec::new(),
        },
        Some(n) if n.is_null() => Selector::Match {
            labels: Vec::new(),
            exprs: Vec::new(),
        },
        some => Selector::label_selector(some, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_manifest::load_objects;

    fn objects(yaml: &str) -> Vec<Object> {
        let (objs, errs) = load_objects("t.yaml", yaml);
        assert!(errs.is_empty(), "{errs:?}");
        objs
    }

    #[test]
    fn selectors_evaluate_like_the_api_server() {
        let objs = objects(
            "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  labels: {app: web, track: stable}\n",
        );
        let labels = objs[0]
            .node
            .path(&["metadata", "labels"])
            .and_then(Node::as_map);
        let cases: &[(&str, &str, bool)] = &[
            (
                "matching matchLabels select",
                "{matchLabels: {app: web}}",
                true,
            ),
            (
                "a different value does not",
                "{matchLabels: {app: api}}",
                false,
            ),
            (
                "In with the value selects",
                "{matchExpressions: [{key: track, operator: In, values: [stable, canary]}]}",
                true,
            ),
            (
                "NotIn with the value does not",
                "{matchExpressions: [{key: track, operator: NotIn, values: [stable]}]}",
                false,
            ),
            (
                "NotIn on a missing label selects",
                "{matchExpressions: [{key: zone, operator: NotIn, values: [a]}]}",
                true,
            ),
            (
                "Exists selects",
                "{matchExpressions: [{key: app, operator: Exists}]}",
                true,
            ),
            (
                "DoesNotExist on a present label does not",
                "{matchExpressions: [{key: app, operator: DoesNotExist}]}",
                false,
            ),
            (
                "an unknown operator selects nothing",
                "{matchExpressions: [{key: app, operator: Like}]}",
                false,
            ),
            ("an empty selector selects everything", "{}", true),
        ];
        for (name, sel, want) in cases {
            let doc = objects(&format!("apiVersion: v1\nkind: X\nsel: {sel}\n"));
            let s = Selector::label_selector(doc[0].node.get("sel"), true);
            assert_eq!(s.matches(labels), *want, "{name}");
        }
    }

    #[test]
    fn an_empty_v1beta1_pdb_selector_selects_nothing() {
        let objs = objects(
            "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nspec: {selector: {}}\n",
        );
        assert_eq!(pdb_selector(&objs[0]), Selector::Nothing);
    }

    #[test]
    fn objects_without_a_namespace_share_the_default_one() {
        let objs = objects(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web, namespace: default}\nspec: {selector: {matchLabels: {app: web}}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\nspec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 3, maxReplicas: 9}\n",
        );
        let index = Index::build(&objs);
        assert_eq!(index.pdbs_of(0), &[1]);
        assert_eq!(index.hpa_target(2), Some(0));
        let s = index.scale(0);
        assert_eq!((s.min, s.max, s.hpa), (3, 9, Some(2)));
    }
}
