//! The cluster as the scheduler sees it: nodes with their running totals, and pods.

use std::collections::BTreeMap;

use berth_manifest::{Node, Object};

use crate::resources::{Resources, pod_requests};

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Taint {
    /// Key.
    pub key: String,
    /// Value (may be empty).
    pub value: String,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

/// A pod toleration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toleration {
    /// Key; empty with `Exists` tolerates every key.
    pub key: String,
    /// `Equal` (default) or `Exists`.
    pub operator: String,
    /// Value for `Equal`.
    pub value: String,
    /// Effect; empty tolerates every effect.
    pub effect: String,
}

impl Toleration {
    /// Whether this toleration tolerates `taint` (`v1.Toleration.ToleratesTaint`).
    pub fn tolerates(&self, taint: &Taint) -> bool {
        if !self.effect.is_empty() && self.effect != taint.effect {
            return false;
        }
        if !self.key.is_empty() && self.key != taint.key {
            return false;
        }
        match self.operator.as_str() {
            "Exists" => true,
            "" | "Equal" => self.value == taint.value,
            _ => false,
        }
    }
}

/// One requirement of a node selector term.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Requirement {
    /// Label key (or `metadata.name` for field requirements).
    pub key: String,
    /// `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    pub operator: String,
    /// Values.
    pub values: Vec<String>,
}

impl Requirement {
    fn matches(&self, value: Option<&str>) -> bool {
        match (self.operator.as_str(), value) {
            ("In", Some(v)) => self.values.iter().any(|x| x == v),
            ("In", None) => false,
            ("NotIn", Some(v)) => !self.values.iter().any(|x| x == v),
            ("NotIn", None) => true,
            ("Exists", v) => v.is_some(),
            ("DoesNotExist", v) => v.is_none(),
            ("Gt" | "Lt", Some(v)) => {
                let (Ok(have), Some(Ok(want))) = (
                    v.parse::<i64>(),
                    self.values.first().map(|w| w.parse::<i64>()),
                ) else {
                    return false;
                };
                if self.operator == "Gt" {
                    have > want
                } else {
                    have < want
                }
            }
            _ => false,
        }
    }
}

/// A node selector term: every expression and field requirement must match; an empty term
/// matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Term {
    /// Label requirements.
    pub match_expressions: Vec<Requirement>,
    /// Field requirements (`metadata.name`).
    pub match_fields: Vec<Requirement>,
}

impl Term {
    /// Whether the node matches the term.
    pub fn matches(&self, node: &NodeInfo) -> bool {
        if self.match_expressions.is_empty() && self.match_fields.is_empty() {
            return false;
        }
        self.match_expressions
            .iter()
            .all(|r| r.matches(node.labels.get(&r.key).map(String::as_str)))
            && self
                .match_fields
                .iter()
                .all(|r| r.key == "metadata.name" && r.matches(Some(&node.name)))
    }
}

/// A label selector: every `matchLabels` pair and every expression must match. An empty
/// selector matches everything; `None` where a selector is optional matches nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    /// Exact pairs.
    pub match_labels: BTreeMap<String, String>,
    /// Expressions (`In`, `NotIn`, `Exists`, `DoesNotExist`).
    pub match_expressions: Vec<Requirement>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self
                .match_expressions
                .iter()
                .all(|r| r.matches(labels.get(&r.key).map(String::as_str)))
    }

    /// Reads a `LabelSelector` object.
    pub fn from_node(node: &Node) -> LabelSelector {
        LabelSelector {
            match_labels: string_map(node.get("matchLabels")),
            match_expressions: requirements(node.get("matchExpressions")),
        }
    }

    /// Whether the selector has no requirement at all.
    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

/// A topology spread constraint, with its defaults applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpreadConstraint {
    /// Largest allowed difference between domains.
    pub max_skew: i64,
    /// Node label whose values are the domains.
    pub topology_key: String,
    /// `DoNotSchedule` (filter) or `ScheduleAnyway` (score).
    pub hard: bool,
    /// Which pods count (with `matchLabelKeys` already merged in).
    pub selector: LabelSelector,
    /// Fewest domains; below it the global minimum counts as 0.
    pub min_domains: i64,
    /// Count only nodes matching the pod's node affinity (`Honor`, the default).
    pub honor_node_affinity: bool,
    /// Count only nodes whose taints the pod tolerates (`Ignore` is the default).
    pub honor_node_taints: bool,
}

/// A pod affinity or anti-affinity term.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AffinityTerm {
    /// Which pods; `None` matches no pod.
    pub selector: Option<LabelSelector>,
    /// Namespaces named in the term.
    pub namespaces: Vec<String>,
    /// Namespaces selected by labels (`{}` selects all).
    pub namespace_selector: Option<LabelSelector>,
    /// Node label defining "the same place".
    pub topology_key: String,
}

impl AffinityTerm {
    /// Whether `other` (a pod) matches this term written by a pod of namespace `owner_ns`.
    pub fn matches(
        &self,
        owner_ns: &str,
        other: &PodInfo,
        namespaces: &BTreeMap<String, BTreeMap<String, String>>,
    ) -> bool {
        let Some(sel) = &self.selector else {
            return false;
        };
        let ns_ok = if self.namespaces.is_empty() && self.namespace_selector.is_none() {
            other.namespace == owner_ns
        } else {
            self.namespaces.contains(&other.namespace)
                || self.namespace_selector.as_ref().is_some_and(|s| {
                    // Every namespace carries `kubernetes.io/metadata.name`; assume it when
                    // the snapshot holds no Namespace object.
                    let implied = BTreeMap::from([(
                        "kubernetes.io/metadata.name".to_string(),
                        other.namespace.clone(),
                    )]);
                    s.is_empty() || s.matches(namespaces.get(&other.namespace).unwrap_or(&implied))
                })
        };
        ns_ok && sel.matches(&other.labels)
    }
}

/// A pod's affinity and anti-affinity to other pods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodAffinity {
    /// Required affinity terms (all must hold).
    pub required: Vec<AffinityTerm>,
    /// Required anti-affinity terms.
    pub required_anti: Vec<AffinityTerm>,
    /// Preferred affinity terms with weights.
    pub preferred: Vec<(i64, AffinityTerm)>,
    /// Preferred anti-affinity terms with weights.
    pub preferred_anti: Vec<(i64, AffinityTerm)>,
}

impl PodAffinity {
    /// Whether the pod has no term at all.
    pub fn is_empty(&self) -> bool {
        self.required.is_empty()
            && self.required_anti.is_empty()
            && self.preferred.is_empty()
            && self.preferred_anti.is_empty()
    }
}

/// A host port a container asks for.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct HostPort {
    /// Host IP (`0.0.0.0` when not given).
    pub ip: String,
    /// `TCP` (default), `UDP` or `SCTP`.
    pub protocol: String,
    /// Port number.
    pub port: i64,
}

/// A container image present on a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeImage {
    /// Every name the image is known by.
    pub names: Vec<String>,
    /// Size in bytes.
    pub size_bytes: i64,
}

/// A node with the totals of the pods bound to it.
///
/// Between cycles a caller may change `taints`, `unschedulable`, `allocatable` and
/// `allowed_pods` in place: plugins read them afresh every cycle and no cache of
/// [`Cluster`] is derived from them. `labels` and `images` must not change once the node is
/// in a cluster (topology domains and [`Cluster::image_nodes`] are built from them), and the
/// totals (`requested`, `non_zero_requested`, `pod_count`, `pods`, `used_ports`) belong to
/// [`Cluster::bind`] and [`Cluster::remove_pod`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeInfo {
    /// Node name (shared: every cycle's evidence names nodes without copying).
    pub name: std::sync::Arc<str>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Taints (may be changed between cycles: nothing caches them).
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned; may be changed between cycles: nothing caches it).
    pub unschedulable: bool,
    /// `status.allocatable` (cpu, memory, ephemeral storage, extended resources).
    pub allocatable: Resources,
    /// `status.allocatable.pods`.
    pub allowed_pods: i64,
    /// `status.images`.
    pub images: Vec<NodeImage>,
    /// Sum of the actual requests of the pods on the node.
    pub requested: Resources,
    /// Sum of the requests with scoring defaults (100m, 200 MiB) for unstated ones.
    pub non_zero_requested: Resources,
    /// Number of pods on the node.
    pub pod_count: usize,
    /// Indexes (in [`Cluster::pods`]) of the pods on the node, in no particular order
    /// (removal swaps the last one into the gap); never a removed pod.
    pub pods: Vec<usize>,
    /// Host ports in use.
    pub used_ports: Vec<HostPort>,
}

/// A pod as the scheduler reads it.
#[derive(Debug, Clone, PartialEq)]
pub struct PodInfo {
    /// Namespace.
    pub namespace: String,
    /// Name.
    pub name: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `spec.nodeName`, when bound or pinned; `None` once removed.
    pub node_name: Option<String>,
    /// Actual requests.
    pub requests: Resources,
    /// Requests with scoring defaults.
    pub non_zero_requests: Resources,
    /// Tolerations.
    pub tolerations: Vec<Toleration>,
    /// `spec.nodeSelector`.
    pub node_selector: BTreeMap<String, String>,
    /// Required node affinity terms (ORed); `None` when not set.
    pub required_terms: Option<Vec<Term>>,
    /// Preferred node affinity terms with their weights.
    pub preferred_terms: Vec<(i64, Term)>,
    /// Host ports of its containers.
    pub host_ports: Vec<HostPort>,
    /// Images of its containers and init containers.
    pub images: Vec<String>,
    /// Topology spread constraints.
    pub spread: Vec<SpreadConstraint>,
    /// Pod affinity and anti-affinity.
    pub affinity: PodAffinity,
    /// Being deleted (`metadata.deletionTimestamp` set): not counted by spreading. For a pod
    /// bound in a [`Cluster`], set it with [`Cluster::set_terminating`] (the spreading counts
    /// follow); changing the field directly would leave them stale.
    pub terminating: bool,
    /// Gone from the cluster ([`Cluster::remove_pod`]): a tombstone kept so that the indexes
    /// of the other pods stay valid. No index list of the cluster holds it.
    pub removed: bool,
    /// Its controller (`ownerReferences` with `controller: true`): kind and name.
    pub owner: Option<(String, String)>,
}

fn string_map(node: Option<&Node>) -> BTreeMap<String, String> {
    node.and_then(Node::as_map)
        .map(|m| {
            m.iter()
                .filter_map(|e| e.value.scalar_text().map(|v| (e.key.clone(), v)))
                .collect()
        })
        .unwrap_or_default()
}

fn text(node: Option<&Node>) -> String {
    node.and_then(Node::scalar_text).unwrap_or_default()
}

fn requirements(node: Option<&Node>) -> Vec<Requirement> {
    node.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(|r| Requirement {
            key: text(r.get("key")),
            operator: text(r.get("operator")),
            values: r
                .get("values")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(Node::scalar_text)
                .collect(),
        })
        .collect()
}

fn term(node: &Node) -> Term {
    Term {
        match_expressions: requirements(node.get("matchExpressions")),
        match_fields: requirements(node.get("matchFields")),
    }
}

impl NodeInfo {
    /// A node with this allocatable capacity, 110 pods allowed, no labels and no pods.
    pub fn new(name: &str, allocatable: Resources) -> NodeInfo {
        NodeInfo {
            name: name.into(),
            labels: BTreeMap::new(),
            taints: Vec::new(),
            unschedulable: false,
            allocatable,
            allowed_pods: 110,
            images: Vec::new(),
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pod_count: 0,
            pods: Vec::new(),
            used_ports: Vec::new(),
        }
    }

    /// Reads a Node object.
    pub fn from_object(o: &Object) -> NodeInfo {
        let n = &o.node;
        let alloc = n.path(&["status", "allocatable"]);
        NodeInfo {
            name: o.name().into(),
            labels: string_map(n.path(&["metadata", "labels"])),
            taints: n
                .path(&["spec", "taints"])
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|t| Taint {
                    key: text(t.get("key")),
                    value: text(t.get("value")),
                    effect: text(t.get("effect")),
                })
                .collect(),
            unschedulable: n.path(&["spec", "unschedulable"]).and_then(Node::as_bool) == Some(true),
            allocatable: Resources::from_list(alloc),
            allowed_pods: alloc
                .and_then(|a| a.get("pods"))
                .and_then(Node::scalar_text)
                .and_then(|p| berth_manifest::quantity::Quantity::parse(&p).ok())
                .map_or(0, |q| q.units() as i64),
            images: n
                .path(&["status", "images"])
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|i| NodeImage {
                    names: i
                        .get("names")
                        .map(Node::as_seq)
                        .unwrap_or_default()
                        .iter()
                        .filter_map(Node::scalar_text)
                        .collect(),
                    size_bytes: i.get("sizeBytes").and_then(Node::as_i64).unwrap_or(0),
                })
                .collect(),
            requested: Resources::default(),
            non_zero_requested: Resources::default(),
            pod_count: 0,
            pods: Vec::new(),
            used_ports: Vec::new(),
        }
    }

    /// Accounts for a pod bound to this node (its index in [`Cluster::pods`] is recorded by
    /// [`Cluster::bind`]).
    pub fn add_pod(&mut self, pod: &PodInfo) {
        self.requested.add(&pod.requests);
        self.non_zero_requested.add(&pod.non_zero_requests);
        self.pod_count += 1;
        self.used_ports.extend(pod.host_ports.iter().cloned());
    }

    /// Undoes [`NodeInfo::add_pod`] for a pod leaving this node (its index is dropped from
    /// `pods` by [`Cluster::remove_pod`]). Extended resources that fall back to zero are
    /// dropped from the totals, so a node emptied by removals equals one that never had pods.
    pub fn remove_pod(&mut self, pod: &PodInfo) {
        for (total, gone) in [
            (&mut self.requested, &pod.requests),
            (&mut self.non_zero_requested, &pod.non_zero_requests),
        ] {
            total.sub(gone);
            for name in gone.scalars.keys() {
                if total.scalars.get(name) == Some(&0) {
                    total.scalars.remove(name);
                }
            }
        }
        self.pod_count = self.pod_count.saturating_sub(1);
        // Ports form a multiset (two pods may name the same port on different host IPs, or
        // a snapshot may hold a conflict): drop one occurrence per port of the pod.
        for port in &pod.host_ports {
            if let Some(k) = self.used_ports.iter().position(|u| u == port) {
                self.used_ports.swap_remove(k);
            }
        }
    }
}

impl PodInfo {
    /// A pod with these requests and nothing else (scoring defaults applied to zero amounts).
    pub fn new(namespace: &str, name: &str, requests: Resources) -> PodInfo {
        let mut non_zero = requests.clone();
        if non_zero.milli_cpu == 0 {
            non_zero.milli_cpu = crate::resources::DEFAULT_MILLI_CPU_REQUEST;
        }
        if non_zero.memory == 0 {
            non_zero.memory = crate::resources::DEFAULT_MEMORY_REQUEST;
        }
        PodInfo {
            namespace: namespace.to_string(),
            name: name.to_string(),
            labels: BTreeMap::new(),
            node_name: None,
            requests,
            non_zero_requests: non_zero,
            tolerations: Vec::new(),
            node_selector: BTreeMap::new(),
            required_terms: None,
            preferred_terms: Vec::new(),
            host_ports: Vec::new(),
            images: Vec::new(),
            spread: Vec::new(),
            affinity: PodAffinity::default(),
            terminating: false,
            removed: false,
            owner: None,
        }
    }

    /// Reads a Pod object, or any object with a pod template (`spec.template`) such as a
    /// Deployment, whose template becomes the pod.
    pub fn from_object(o: &Object) -> PodInfo {
        let n = &o.node;
        let (meta, spec) = match n.path(&["spec", "template"]) {
            Some(t) if o.kind() != "Pod" => (t.get("metadata"), t.get("spec")),
            _ => (n.get("metadata"), n.get("spec")),
        };
        let empty = Node::new(Default::default(), berth_manifest::Value::Null);
        let spec = spec.unwrap_or(&empty);
        let containers = || {
            spec.get("containers")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .chain(
                    spec.get("initContainers")
                        .map(Node::as_seq)
                        .unwrap_or_default(),
                )
        };
        let node_affinity = spec.path(&["affinity", "nodeAffinity"]);
        let labels = string_map(meta.and_then(|m| m.get("labels")));
        PodInfo {
            namespace: o.namespace().unwrap_or("default").to_string(),
            name: meta
                .and_then(|m| m.get("name"))
                .and_then(Node::as_str)
                .unwrap_or(o.name())
                .to_string(),
            node_name: spec
                .get("nodeName")
                .and_then(Node::as_str)
                .map(str::to_string),
            requests: pod_requests(spec, false),
            non_zero_requests: pod_requests(spec, true),
            tolerations: spec
                .get("tolerations")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|t| Toleration {
                    key: text(t.get("key")),
                    operator: text(t.get("operator")),
                    value: text(t.get("value")),
                    effect: text(t.get("effect")),
                })
                .collect(),
            node_selector: string_map(spec.get("nodeSelector")),
            required_terms: node_affinity
                .and_then(|a| {
                    a.path(&[
                        "requiredDuringSchedulingIgnoredDuringExecution",
                        "nodeSelectorTerms",
                    ])
                })
                .map(|t| t.as_seq().iter().map(term).collect()),
            preferred_terms: node_affinity
                .and_then(|a| a.get("preferredDuringSchedulingIgnoredDuringExecution"))
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .filter_map(|p| {
                    Some((
                        p.get("weight").and_then(Node::as_i64)?,
                        term(p.get("preference")?),
                    ))
                })
                .collect(),
            host_ports: spec
                .get("containers")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .flat_map(|c| c.get("ports").map(Node::as_seq).unwrap_or_default())
                .filter_map(|p| {
                    let port = p
                        .get("hostPort")
                        .and_then(Node::as_i64)
                        .filter(|p| *p > 0)?;
                    let ip = text(p.get("hostIP"));
                    let protocol = text(p.get("protocol"));
                    Some(HostPort {
                        ip: if ip.is_empty() { "0.0.0.0".into() } else { ip },
                        protocol: if protocol.is_empty() {
                            "TCP".into()
                        } else {
                            protocol
                        },
                        port,
                    })
                })
                .collect(),
            images: containers()
                .filter_map(|c| c.get("image").and_then(Node::as_str))
                .map(normalized_image)
                .collect(),
            spread: spec
                .get("topologySpreadConstraints")
                .map(Node::as_seq)
                .unwrap_or_default()
                .iter()
                .map(|c| {
                    let mut selector = c
                        .get("labelSelector")
                        .map(LabelSelector::from_node)
                        .unwrap_or_default();
                    for key in c
                        .get("matchLabelKeys")
                        .map(Node::as_seq)
                        .unwrap_or_default()
                    {
                        if let Some(k) = key.as_str()
                            && let Some(v) = labels.get(k)
                        {
                            selector.match_labels.insert(k.to_string(), v.clone());
                        }
                    }
                    SpreadConstraint {
                        max_skew: c.get("maxSkew").and_then(Node::as_i64).unwrap_or(1),
                        topology_key: text(c.get("topologyKey")),
                        hard: c.get("whenUnsatisfiable").and_then(Node::as_str)
                            != Some("ScheduleAnyway"),
                        selector,
                        min_domains: c.get("minDomains").and_then(Node::as_i64).unwrap_or(1),
                        honor_node_affinity: c.get("nodeAffinityPolicy").and_then(Node::as_str)
                            != Some("Ignore"),
                        honor_node_taints: c.get("nodeTaintsPolicy").and_then(Node::as_str)
                            == Some("Honor"),
                    }
                })
                .collect(),
            affinity: PodAffinity {
                required: affinity_terms(spec.path(&[
                    "affinity",
                    "podAffinity",
                    "requiredDuringSchedulingIgnoredDuringExecution",
                ])),
                required_anti: affinity_terms(spec.path(&[
                    "affinity",
                    "podAntiAffinity",
                    "requiredDuringSchedulingIgnoredDuringExecution",
                ])),
                preferred: weighted_terms(spec.path(&[
                    "affinity",
                    "podAffinity",
                    "preferredDuringSchedulingIgnoredDuringExecution",
                ])),
                preferred_anti: weighted_terms(spec.path(&[
                    "affinity",
                    "podAntiAffinity",
                    "preferredDuringSchedulingIgnoredDuringExecution",
                ])),
            },
            terminating: meta
                .and_then(|m| m.get("deletionTimestamp"))
                .is_some_and(|d| !d.is_null()),
            removed: false,
            owner: match o.kind() {
                // A workload's replicas are owned by its ReplicaSet (for a Deployment, named
                // after it with a hash; the caller registers the selector under this name).
                "Deployment" | "ReplicaSet" => Some(("ReplicaSet".into(), o.name().into())),
                "StatefulSet" | "ReplicationController" => Some((o.kind().into(), o.name().into())),
                _ => meta
                    .and_then(|m| m.get("ownerReferences"))
                    .map(Node::as_seq)
                    .unwrap_or_default()
                    .iter()
                    .find(|r| r.get("controller").and_then(Node::as_bool) == Some(true))
                    .map(|r| (text(r.get("kind")), text(r.get("name")))),
            },
            labels,
        }
    }
}

fn affinity_term(t: &Node) -> AffinityTerm {
    AffinityTerm {
        selector: t
            .get("labelSelector")
            .filter(|s| !s.is_null())
            .map(LabelSelector::from_node),
        namespaces: t
            .get("namespaces")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .filter_map(Node::scalar_text)
            .collect(),
        namespace_selector: t
            .get("namespaceSelector")
            .filter(|s| !s.is_null())
            .map(LabelSelector::from_node),
        topology_key: text(t.get("topologyKey")),
    }
}

fn affinity_terms(n: Option<&Node>) -> Vec<AffinityTerm> {
    n.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .map(affinity_term)
        .collect()
}

fn weighted_terms(n: Option<&Node>) -> Vec<(i64, AffinityTerm)> {
    n.map(Node::as_seq)
        .unwrap_or_default()
        .iter()
        .filter_map(|w| {
            Some((
                w.get("weight").and_then(Node::as_i64)?,
                affinity_term(w.get("podAffinityTerm")?),
            ))
        })
        .collect()
}

/// An image name as ImageLocality compares it: `:latest` appended when there is no tag.
pub fn normalized_image(name: &str) -> String {
    let slash = name.rfind('/').map_or(0, |i| i + 1);
    if name.contains('@') || name[slash..].contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

/// Which domain (value of one topology label) each node is in, by node index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TopologyIndex {
    /// Domain id of each node; `None` when the node lacks the label.
    pub domain_of: Vec<Option<u32>>,
    /// Domain names (label values), by id.
    pub domains: Vec<String>,
}

/// The selector of a Service or a pod controller, for default spreading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerSelector {
    /// Namespace.
    pub namespace: String,
    /// `Service`, `ReplicaSet`, `StatefulSet` or `ReplicationController`.
    pub kind: String,
    /// Object name.
    pub name: String,
    /// Its selector.
    pub selector: LabelSelector,
}

/// Per-node counts of the pods of one namespace that one selector matches.
pub(crate) type SelectorCounts = std::rc::Rc<std::cell::RefCell<Vec<i64>>>;

/// The cached per-node counts of one (namespace, selector): without terminating pods (what
/// spreading counts) and with them (what anti-affinity counts), each built on first use.
#[derive(Debug, Default, PartialEq)]
struct CountPair {
    live: Option<SelectorCounts>,
    all: Option<SelectorCounts>,
}

impl CountPair {
    fn get(&self, with_terminating: bool) -> Option<&SelectorCounts> {
        if with_terminating {
            self.all.as_ref()
        } else {
            self.live.as_ref()
        }
    }

    fn set(&mut self, with_terminating: bool, counts: SelectorCounts) {
        if with_terminating {
            self.all = Some(counts);
        } else {
            self.live = Some(counts);
        }
    }
}

/// Cached counts by namespace, then by selector: nested so that a lookup borrows the
/// caller's namespace and selector instead of building an owned key, and so that a bind
/// only visits the selectors of its pod's namespace.
type CountCache =
    std::collections::HashMap<String, std::collections::HashMap<LabelSelector, CountPair>>;

/// Where [`Cluster::bind`] listed a pod, so that [`Cluster::remove_pod`] can take it out of
/// every list in O(1) per list instead of searching lists that span the whole cluster.
#[derive(Debug, Clone, PartialEq)]
struct Placement {
    /// Its node.
    node: usize,
    /// Its position in `namespace_pods[pod.namespace]`.
    namespace_slot: usize,
    /// Each `affinity_pods` key it is listed under, with its position in that list.
    affinity_slots: Vec<(String, usize)>,
}

/// Adds `by` to `node`'s entry of every cached per-node count that counts `pod` (its
/// namespace, a selector matching its labels), among the counts whose "terminating pods
/// included" flag `touches` accepts.
fn adjust_selector_counts(
    selector_counts: &std::cell::RefCell<CountCache>,
    pod: &PodInfo,
    node: usize,
    by: i64,
    touches: impl Fn(bool) -> bool,
) {
    let cache = selector_counts.borrow();
    let Some(by_selector) = cache.get(&pod.namespace) else {
        return;
    };
    for (sel, pair) in by_selector {
        if !sel.matches(&pod.labels) {
            continue;
        }
        for with_terminating in [false, true] {
            if touches(with_terminating)
                && let Some(counts) = pair.get(with_terminating)
                // A count built before nodes were added is rebuilt on its next use.
                && let Some(c) = counts.borrow_mut().get_mut(node)
            {
                *c += by;
            }
        }
    }
}

/// Takes entry `slot` (which holds pod `pod`) out of `list` by moving the last entry into
/// its place; returns the pod now at `slot`, whose recorded position must become `slot`.
fn swap_out(list: &mut Vec<(usize, usize)>, slot: usize, pod: usize) -> Option<usize> {
    debug_assert_eq!(list.get(slot).map(|e| e.0), Some(pod), "stale slot");
    if slot >= list.len() {
        return None;
    }
    list.swap_remove(slot);
    list.get(slot).map(|e| e.0)
}

/// Nodes and the pods bound to them.
///
/// It can serve as a long-lived scheduler cache: [`Cluster::bind`] adds a pod,
/// [`Cluster::remove_pod`] takes it away again (leaving a tombstone, so pod indexes stay
/// valid) and [`Cluster::set_terminating`] marks it deleted-but-still-running; each keeps
/// every aggregate current in O(pods on the node + cached selectors). Which node fields may
/// be changed in place between cycles is said on [`NodeInfo`].
#[derive(Debug, Default, PartialEq)]
pub struct Cluster {
    /// Nodes, in input order (the order the scheduler walks them from its start index).
    pub nodes: Vec<NodeInfo>,
    /// Pods, bound or not; removed ones stay as tombstones ([`PodInfo::removed`]) so that an
    /// index, once given, always names the same pod.
    pub pods: Vec<PodInfo>,
    /// Namespace labels, for namespace selectors of affinity terms.
    pub namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Selectors of Services, ReplicaSets, StatefulSets and ReplicationControllers, by
    /// namespace: the source of the system default spreading constraints.
    pub owner_selectors: Vec<OwnerSelector>,
    /// How many nodes hold each image (ImageLocality's spread factor).
    pub image_nodes: std::collections::HashMap<String, usize>,
    /// Bound pods with pod (anti-)affinity terms, with their node, by the namespace their
    /// terms apply to (`""` for terms that select namespaces by label): the only existing
    /// pods InterPodAffinity must look at for an incoming pod of that namespace. In no
    /// particular order; never a removed pod.
    pub affinity_pods: std::collections::HashMap<String, Vec<(usize, usize)>>,
    /// Bound pods by namespace, with their node: spreading counts only pods of the incoming
    /// pod's namespace. In no particular order; never a removed pod.
    pub namespace_pods: std::collections::HashMap<String, Vec<(usize, usize)>>,
    /// By pod index, where [`Cluster::bind`] listed the pod (`None`, or past the end, for
    /// pods that are not bound or were removed).
    ///
    /// Removal takes a pod out of `namespace_pods` and `affinity_pods` by swapping the last
    /// entry into its slot, which needs each pod's slot: these lists span a namespace (or
    /// the cluster), so a search would make removal O(pods); a lazy filter (tombstones
    /// skipped when read) would make every cycle pay for an hour of churn. Every consumer
    /// only sums over the lists, so their order does not matter. `nodes[n].pods` is short
    /// (at most `allowed_pods`) and is searched instead.
    placements: Vec<Option<Placement>>,
    /// Topology indexes built on first use (node labels do not change between cycles).
    topology: std::cell::RefCell<std::collections::HashMap<String, std::rc::Rc<TopologyIndex>>>,
    /// Per-node counts of matching pods, per (namespace, selector), kept up to date by
    /// [`Cluster::bind`]: spreading then costs O(nodes) per cycle, not O(pods).
    selector_counts: std::cell::RefCell<CountCache>,
}

impl Clone for Cluster {
    /// A copy with its own (empty) caches, so that binding in one never counts in the other.
    fn clone(&self) -> Self {
        Cluster {
            nodes: self.nodes.clone(),
            pods: self.pods.clone(),
            namespaces: self.namespaces.clone(),
            owner_selectors: self.owner_selectors.clone(),
            image_nodes: self.image_nodes.clone(),
            affinity_pods: self.affinity_pods.clone(),
            namespace_pods: self.namespace_pods.clone(),
            placements: self.placements.clone(),
            topology: Default::default(),
            selector_counts: Default::default(),
        }
    }
}

impl Cluster {
    /// Builds the cluster from `kubectl get nodes,pods -A -o json` objects. Pods that have
    /// finished (`Succeeded`, `Failed`) hold no resources and are left out.
    pub fn from_objects(objects: &[Object]) -> Cluster {
        let mut c = Cluster {
            nodes: objects
                .iter()
                .filter(|o| o.kind() == "Node")
                .map(NodeInfo::from_object)
                .collect(),
            pods: Vec::new(),
            image_nodes: Default::default(),
            affinity_pods: Default::default(),
            namespace_pods: Default::default(),
            placements: Default::default(),
            topology: Default::default(),
            selector_counts: Default::default(),
            namespaces: objects
                .iter()
                .filter(|o| o.kind() == "Namespace")
                .map(|o| {
                    (
                        o.name().to_string(),
                        string_map(o.node.path(&["metadata", "labels"])),
                    )
                })
                .collect(),
            owner_selectors: objects
                .iter()
                .filter_map(|o| {
                    let selector = match o.kind() {
                        "Service" | "ReplicationController" => o
                            .node
                            .path(&["spec", "selector"])
                            .filter(|s| s.as_map().is_some_and(|m| !m.is_empty()))
                            .map(|s| LabelSelector {
                                match_labels: string_map(Some(s)),
                                match_expressions: vec![],
                            }),
                        "ReplicaSet" | "StatefulSet" => o
                            .node
                            .path(&["spec", "selector"])
                            .map(LabelSelector::from_node),
                        _ => None,
                    }?;
                    Some(OwnerSelector {
                        namespace: o.namespace().unwrap_or("default").to_string(),
                        kind: o.kind().to_string(),
                        name: o.name().to_string(),
                        selector,
                    })
                })
                .collect(),
        };
        c.image_nodes = crate::plugins::image_locality::image_spread(&c.nodes);
        let index: BTreeMap<String, usize> = c
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| (n.name.to_string(), i))
            .collect();
        for o in objects.iter().filter(|o| o.kind() == "Pod") {
            let phase = o.node.path(&["status", "phase"]).and_then(Node::as_str);
            if matches!(phase, Some("Succeeded" | "Failed")) {
                continue;
            }
            let pod = PodInfo::from_object(o);
            let node = pod.node_name.as_ref().and_then(|n| index.get(n)).copied();
            match node {
                Some(i) => c.bind(pod, i),
                None => c.pods.push(pod),
            }
        }
        c
    }

    /// The domains of topology label `key` (built once, then shared; rebuilt if nodes were
    /// added since).
    pub fn topology(&self, key: &str) -> std::rc::Rc<TopologyIndex> {
        if let Some(t) = self.topology.borrow().get(key)
            && t.domain_of.len() == self.nodes.len()
        {
            return t.clone();
        }
        let mut ids: std::collections::HashMap<&str, u32> = std::collections::HashMap::new();
        let mut domains = Vec::new();
        let domain_of = self
            .nodes
            .iter()
            .map(|n| {
                n.labels.get(key).map(|v| {
                    *ids.entry(v.as_str()).or_insert_with(|| {
                        domains.push(v.clone());
                        (domains.len() - 1) as u32
                    })
                })
            })
            .collect();
        let t = std::rc::Rc::new(TopologyIndex { domain_of, domains });
        self.topology
            .borrow_mut()
            .insert(key.to_string(), t.clone());
        t
    }

    /// For each node, how many pods of namespace `ns` (not terminating) `selector` matches.
    pub fn matching_per_node(&self, ns: &str, selector: &LabelSelector) -> SelectorCounts {
        self.matching_counts(ns, selector, false)
    }

    /// Like [`Cluster::matching_per_node`], terminating pods included.
    pub fn matching_per_node_all(&self, ns: &str, selector: &LabelSelector) -> SelectorCounts {
        self.matching_counts(ns, selector, true)
    }

    fn matching_counts(
        &self,
        ns: &str,
        selector: &LabelSelector,
        terminating: bool,
    ) -> SelectorCounts {
        if let Some(c) = self
            .selector_counts
            .borrow()
            .get(ns)
            .and_then(|m| m.get(selector))
            .and_then(|pair| pair.get(terminating))
            && c.borrow().len() == self.nodes.len()
        {
            return c.clone();
        }
        let mut counts = vec![0i64; self.nodes.len()];
        for &(pi, ni) in self.namespace_pods.get(ns).map_or(&[][..], Vec::as_slice) {
            let p = &self.pods[pi];
            if (terminating || !p.terminating) && selector.matches(&p.labels) {
                counts[ni] += 1;
            }
        }
        let c = std::rc::Rc::new(std::cell::RefCell::new(counts));
        self.selector_counts
            .borrow_mut()
            .entry(ns.to_string())
            .or_default()
            .entry(selector.clone())
            .or_default()
            .set(terminating, c.clone());
        c
    }

    /// Adds a pod bound to node `node` (as the scheduler's assume step does); it gets index
    /// `self.pods.len()`.
    pub fn bind(&mut self, mut pod: PodInfo, node: usize) {
        let index = self.pods.len();
        pod.node_name = Some(self.nodes[node].name.to_string());
        pod.removed = false;
        self.nodes[node].add_pod(&pod);
        self.nodes[node].pods.push(index);
        let mut affinity_slots = Vec::new();
        if !pod.affinity.is_empty() {
            let a = &pod.affinity;
            let terms = a
                .required
                .iter()
                .chain(&a.required_anti)
                .chain(a.preferred.iter().map(|(_, t)| t))
                .chain(a.preferred_anti.iter().map(|(_, t)| t));
            // A pod is listed under each namespace its terms name, or only under `""` when
            // a term selects namespaces by label, so no pod is ever visited twice.
            let terms: Vec<_> = terms.collect();
            let mut targets: Vec<String> = if terms.iter().any(|t| t.namespace_selector.is_some()) {
                vec![String::new()]
            } else {
                terms
                    .iter()
                    .flat_map(|t| {
                        if t.namespaces.is_empty() {
                            vec![pod.namespace.clone()]
                        } else {
                            t.namespaces.clone()
                        }
                    })
                    .collect()
            };
            targets.sort();
            targets.dedup();
            for ns in targets {
                let list = self.affinity_pods.entry(ns.clone()).or_default();
                affinity_slots.push((ns, list.len()));
                list.push((index, node));
            }
        }
        let list = self
            .namespace_pods
            .entry(pod.namespace.clone())
            .or_default();
        let namespace_slot = list.len();
        list.push((index, node));
        adjust_selector_counts(&self.selector_counts, &pod, node, 1, |with_terminating| {
            with_terminating || !pod.terminating
        });
        // Pods pushed straight onto `pods` (unbound ones) have no placement.
        self.placements.resize(index, None);
        self.placements.push(Some(Placement {
            node,
            namespace_slot,
            affinity_slots,
        }));
        self.pods.push(pod);
    }

    /// Takes pod `pod` (an index in [`Cluster::pods`]) off its node, as when the pod object
    /// is deleted: undoes everything [`Cluster::bind`] did for it (node totals, host ports,
    /// the node's, namespace's and affinity lists, the per-node selector counts), clears
    /// its `node_name` and marks it [`PodInfo::removed`]. The entry stays in `pods` as a
    /// tombstone, so every other index stays valid. A pod that is not bound (never bound
    /// through [`Cluster::bind`], or already removed) is left alone.
    ///
    /// Costs O(pods on the node + cached selectors).
    pub fn remove_pod(&mut self, pod: usize) {
        let Some(place) = self.placements.get_mut(pod).and_then(Option::take) else {
            return;
        };
        let p = &self.pods[pod];
        let node = &mut self.nodes[place.node];
        node.remove_pod(p);
        if let Some(k) = node.pods.iter().position(|&i| i == pod) {
            node.pods.swap_remove(k);
        }
        if let Some(list) = self.namespace_pods.get_mut(&p.namespace)
            && let Some(moved) = swap_out(list, place.namespace_slot, pod)
            && let Some(Some(m)) = self.placements.get_mut(moved)
        {
            m.namespace_slot = place.namespace_slot;
        }
        for (ns, slot) in &place.affinity_slots {
            if let Some(list) = self.affinity_pods.get_mut(ns)
                && let Some(moved) = swap_out(list, *slot, pod)
                && let Some(Some(m)) = self.placements.get_mut(moved)
                && let Some(s) = m.affinity_slots.iter_mut().find(|(k, _)| k == ns)
            {
                s.1 = *slot;
            }
        }
        adjust_selector_counts(
            &self.selector_counts,
            p,
            place.node,
            -1,
            |with_terminating| with_terminating || !p.terminating,
        );
        let p = &mut self.pods[pod];
        p.node_name = None;
        p.removed = true;
    }

    /// Marks pod `pod` terminating (`metadata.deletionTimestamp` set): it stays on its node
    /// and keeps its resources, ports and (anti-)affinity, but spreading stops counting it
    /// (the terminating-excluded selector counts drop; the terminating-included ones, used
    /// by anti-affinity, do not change). A removed or already terminating pod is left alone;
    /// a pod that is not bound only has its flag set.
    ///
    /// Costs O(cached selectors).
    pub fn set_terminating(&mut self, pod: usize) {
        let Some(p) = self.pods.get_mut(pod) else {
            return;
        };
        if p.removed || p.terminating {
            return;
        }
        p.terminating = true;
        if let Some(Some(place)) = self.placements.get(pod) {
            adjust_selector_counts(
                &self.selector_counts,
                p,
                place.node,
                -1,
                |with_terminating| !with_terminating,
            );
        }
    }

    /// Existing pods whose affinity terms can concern a pod of namespace `ns`.
    pub fn affinity_pods_for<'a>(&'a self, ns: &str) -> impl Iterator<Item = (usize, usize)> + 'a {
        let own = self.affinity_pods.get(ns).map_or(&[][..], Vec::as_slice);
        let any = if ns.is_empty() {
            &[][..]
        } else {
            self.affinity_pods.get("").map_or(&[][..], Vec::as_slice)
        };
        own.iter().chain(any).copied()
    }

    /// The system default spreading selector of a pod: the union of the selectors of the
    /// Services, ReplicaSets, StatefulSets and ReplicationControllers of its namespace that
    /// select it (`podtopologyspread/plugin.go`); `None` when nothing selects it.
    pub fn default_spread_selector(&self, pod: &PodInfo) -> Option<LabelSelector> {
        let mut union = LabelSelector::default();
        let mut any = false;
        for o in &self.owner_selectors {
            // Services that select the pod, and the pod's own controller
            // (`helper/spread.go` DefaultSelector).
            let relevant = o.namespace == pod.namespace
                && match o.kind.as_str() {
                    "Service" => o.selector.matches(&pod.labels),
                    _ => pod
                        .owner
                        .as_ref()
                        .is_some_and(|(k, n)| *k == o.kind && *n == o.name),
                };
            let sel = &o.selector;
            if relevant && !sel.is_empty() {
                any = true;
                union.match_labels.extend(sel.match_labels.clone());
                union
                    .match_expressions
                    .extend(sel.match_expressions.clone());
            }
        }
        any.then_some(union)
    }

    /// The index of a node by name.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| &*n.name == name)
    }
}
