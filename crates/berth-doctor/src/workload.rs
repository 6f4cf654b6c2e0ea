//! Where each workload kind keeps its pod template, and typed helpers over pod specs.
//!
//! Every accessor treats a wrong shape (`containers: 5`, `replicas: "x"`) as absent: the
//! schema check in berth-manifest reports wrong types; rules only reason about what is there.

use berth_manifest::quantity::Quantity;
use berth_manifest::{FieldPath, Node, Object, Value};

/// The workload kinds the doctor reads pod specs from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Kind {
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    ReplicationController,
    Job,
    CronJob,
    Pod,
}

impl Kind {
    /// The workload kind of an object, if its apiVersion group is the built-in one for it
    /// (a CRD that happens to be called `Deployment` in another group is not a workload).
    pub(crate) fn of(object: &Object) -> Option<Kind> {
        let group = object.api_version().rsplit_once('/').map_or("", |(g, _)| g);
        let kind = match object.kind() {
            "Deployment" => Kind::Deployment,
            "StatefulSet" => Kind::StatefulSet,
            "DaemonSet" => Kind::DaemonSet,
            "ReplicaSet" => Kind::ReplicaSet,
            "ReplicationController" => Kind::ReplicationController,
            "Job" => Kind::Job,
            "CronJob" => Kind::CronJob,
            "Pod" => Kind::Pod,
            _ => return None,
        };
        let ok = match kind {
            Kind::Pod | Kind::ReplicationController => group.is_empty(),
            Kind::Job | Kind::CronJob => group == "batch",
            _ => group == "apps" || group == "extensions",
        };
        ok.then_some(kind)
    }

    /// Runs until deleted and normally serves (not a Job, CronJob or bare Pod).
    pub(crate) fn long_running(self) -> bool {
        matches!(
            self,
            Kind::Deployment
                | Kind::StatefulSet
                | Kind::DaemonSet
                | Kind::ReplicaSet
                | Kind::ReplicationController
        )
    }

    /// Has `spec.replicas` and a scale subresource (what an HPA and the disruption
    /// controller can size).
    pub(crate) fn scalable(self) -> bool {
        matches!(
            self,
            Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet | Kind::ReplicationController
        )
    }

    /// The path of the pod template's metadata and spec.
    fn template_keys(self) -> &'static [&'static str] {
        match self {
            Kind::Pod => &[],
            Kind::CronJob => &["spec", "jobTemplate", "spec", "template"],
            _ => &["spec", "template"],
        }
    }
}

/// A workload object seen through its pod template.
#[derive(Debug)]
pub(crate) struct Workload<'a> {
    /// Which kind it is.
    pub kind: Kind,
    /// The pod template (the object itself for a Pod); `None` when missing or not a mapping.
    pub template: Option<&'a Node>,
    /// Path of the template (`spec.template`, `spec.jobTemplate.spec.template`, root for Pods).
    pub template_path: FieldPath,
}

impl<'a> Workload<'a> {
    /// The workload view of an object, if it is one.
    pub(crate) fn of(object: &'a Object) -> Option<Workload<'a>> {
        let kind = Kind::of(object)?;
        let keys = kind.template_keys();
        let template = object.node.path(keys).filter(|n| n.as_map().is_some());
        Some(Workload {
            kind,
            template,
            template_path: FieldPath(
                keys.iter()
                    .map(|k| berth_manifest::Seg::Key((*k).to_string()))
                    .collect(),
            ),
        })
    }

    /// The pod spec, if it is a mapping.
    pub(crate) fn spec(&self) -> Option<&'a Node> {
        self.template
            .and_then(|t| t.get("spec"))
            .filter(|n| n.as_map().is_some())
    }

    /// Path of the pod spec.
    pub(crate) fn spec_path(&self) -> FieldPath {
        self.template_path.key("spec")
    }

    /// Path of the pod template's metadata.
    pub(crate) fn meta_path(&self) -> FieldPath {
        self.template_path.key("metadata")
    }

    /// A field of the pod spec.
    pub(crate) fn spec_field(&self, key: &str) -> Option<&'a Node> {
        self.spec().and_then(|s| s.get(key))
    }

    /// A pod-template label value (strings only).
    pub(crate) fn pod_labels(&self) -> Option<&'a berth_manifest::Map> {
        self.template
            .and_then(|t| t.path(&["metadata", "labels"]))
            .and_then(Node::as_map)
    }

    /// A pod-template annotation.
    pub(crate) fn pod_annotation(&self, key: &str) -> Option<&'a str> {
        self.template
            .and_then(|t| t.path(&["metadata", "annotations", key]))
            .and_then(Node::as_str)
    }

    /// A pod-template label.
    pub(crate) fn pod_label(&self, key: &str) -> Option<&'a str> {
        self.pod_labels()
            .and_then(|m| m.get(key))
            .and_then(Node::as_str)
    }

    /// Containers, then init containers; items that are not mappings are skipped.
    pub(crate) fn containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        let spec = self.spec();
        let main = spec
            .and_then(|s| s.get("containers"))
            .map_or(&[][..], Node::as_seq);
        let init = spec
            .and_then(|s| s.get("initContainers"))
            .map_or(&[][..], Node::as_seq);
        let main = main.iter().enumerate().map(|(i, n)| (false, i, n));
        let init = init.iter().enumerate().map(|(i, n)| (true, i, n));
        main.chain(init).filter_map(|(init, index, node)| {
            node.as_map()?;
            Some(Container { node, index, init })
        })
    }

    /// Containers that run for the pod's lifetime: regular containers and native sidecars
    /// (init containers with `restartPolicy: Always`).
    pub(crate) fn running_containers(&self) -> impl Iterator<Item = Container<'a>> + 'a {
        self.containers().filter(|c| !c.init || c.is_sidecar())
    }

    /// `terminationGracePeriodSeconds` and whether it was written (default 30).
    pub(crate) fn grace_period(&self) -> (i64, bool) {
        match self
            .spec_field("terminationGracePeriodSeconds")
            .and_then(Node::as_i64)
        {
            Some(g) => (g, true),
            None => (30, false),
        }
    }
}

/// One container of a pod spec.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Container<'a> {
    /// The container's mapping.
    pub node: &'a Node,
    /// Index within `containers` or `initContainers`.
    pub index: usize,
    /// Whether it is listed under `initContainers`.
    pub init: bool,
}

impl<'a> Container<'a> {
    /// `name`, or `""`.
    pub(crate) fn name(&self) -> &'a str {
        self.node.get("name").and_then(Node::as_str).unwrap_or("")
    }

    /// The name for messages: `` `web` `` or `containers[2]`.
    pub(crate) fn label(&self) -> String {
        match self.name() {
            "" if self.init => format!("initContainers[{}]", self.index),
            "" => format!("containers[{}]", self.index),
            n if self.init => format!("init container `{n}`"),
            n => format!("container `{n}`"),
        }
    }

    /// Path of this container under the pod spec path.
    pub(crate) fn path(&self, spec_path: &FieldPath) -> FieldPath {
        spec_path
            .key(if self.init {
                "initContainers"
            } else {
                "containers"
            })
            .index(self.index)
    }

    /// A native sidecar: an init container with `restartPolicy: Always` (Kubernetes 1.29+).
    pub(crate) fn is_sidecar(&self) -> bool {
        self.init && self.node.get("restartPolicy").and_then(Node::as_str) == Some("Always")
    }

    /// A field of the container.
    pub(crate) fn get(&self, key: &str) -> Option<&'a Node> {
        self.node.get(key)
    }

    /// A field of the container's securityContext.
    pub(crate) fn security(&self, key: &str) -> Option<&'a Node> {
        self.node.path(&["securityContext", key])
    }

    /// Declared ports as (number or name as text, port name).
    pub(crate) fn ports(&self) -> Vec<Port<'a>> {
        self.node
            .get("ports")
            .map_or(&[][..], Node::as_seq)
            .iter()
            .filter_map(|p| {
                let number = p.get("containerPort").and_then(Node::as_i64)?;
                Some(Port {
                    number,
                    name: p.get("name").and_then(Node::as_str),
                })
            })
            .collect()
    }

    /// Resolves a probe or Service port (number or name) to a number.
    pub(crate) fn resolve_port(&self, port: &Node) -> Option<i64> {
        if let Some(n) = port.as_i64() {
            return Some(n);
        }
        let name = port.as_str()?;
        if let Ok(n) = name.parse() {
            return Some(n);
        }
        self.ports()
            .into_iter()
            .find(|p| p.name == Some(name))
            .map(|p| p.number)
    }
}

/// A declared container port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Port<'a> {
    /// `containerPort`.
    pub number: i64,
    /// `name`, when set.
    pub name: Option<&'a str>,
}

impl Port<'_> {
    /// Ports conventionally used only for scraping metrics (by their name).
    pub(crate) fn is_metrics(&self) -> bool {
        self.name.is_some_and(is_metrics_name)
    }

    /// `8080` or `8080 (http)`.
    pub(crate) fn describe(&self) -> String {
        match self.name {
            Some(n) => format!("{} ({n})", self.number),
            None => self.number.to_string(),
        }
    }
}

/// A port name conventionally used only for scraping metrics: containing `metrics`,
/// `prometheus`, `monitoring` or `telemetry` (kube-state-metrics' self-metrics port), or
/// exactly `prom`.
pub(crate) fn is_metrics_name(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["metrics", "prometheus", "monitoring", "telemetry"]
        .iter()
        .any(|m| n.contains(m))
        || n == "prom"
}

/// A quantity read from a node written as a string or a number (`cpu: 1`, `cpu: "500m"`).
pub(crate) fn quantity(node: Option<&Node>) -> Option<Quantity> {
    let node = node?;
    let text = match &node.value {
        Value::Str(s) => s.clone(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) if f.is_finite() => format!("{f}"),
        _ => return None,
    };
    Quantity::parse(&text).ok()
}

/// Defaults a namespace's LimitRange gives containers (`type: Container`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LimitDefaults {
    /// `defaultRequest` (or `default`, or `max`, as the API server defaults it).
    pub request: [Option<Quantity>; 2],
    /// `default` (or `max`).
    pub limit: [Option<Quantity>; 2],
}

impl LimitDefaults {
    /// Reads the first `type: Container` item of a LimitRange.
    pub(crate) fn from_limit_range(node: &Node) -> Option<Self> {
        let item = node
            .path(&["spec", "limits"])?
            .as_seq()
            .iter()
            .find(|i| i.get("type").and_then(Node::as_str) == Some("Container"))?;
        let mut d = LimitDefaults::default();
        for (i, res) in ["cpu", "memory"].into_iter().enumerate() {
            // pkg/apis/core/v1/defaults.go SetDefaults_LimitRangeItem: default ← max,
            // defaultRequest ← default.
            let limit = quantity(item.path(&["default", res]))
                .or_else(|| quantity(item.path(&["max", res])));
            let request = quantity(item.path(&["defaultRequest", res])).or(limit);
            d.limit[i] = limit;
            d.request[i] = request;
        }
        Some(d)
    }
}

/// Index of cpu in [`Resources`] arrays.
pub(crate) const CPU: usize = 0;
/// Index of memory in [`Resources`] arrays.
pub(crate) const MEMORY: usize = 1;
/// Resource names by index.
pub(crate) const RESOURCE_NAMES: [&str; 2] = ["cpu", "memory"];

/// A container's effective cpu and memory requests and limits, as the pod will have them:
/// a request missing where a limit is set defaults to the limit (SetDefaults_Pod), then the
/// namespace LimitRange fills what is still missing (LimitRanger admission).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Resources {
    /// Effective requests: cpu, memory.
    pub request: [Option<Quantity>; 2],
    /// Effective limits: cpu, memory.
    pub limit: [Option<Quantity>; 2],
    /// Requests as written.
    pub written_request: [Option<Quantity>; 2],
    /// Limits as written.
    pub written_limit: [Option<Quantity>; 2],
}

impl Resources {
    /// Effective resources of a container given its namespace's LimitRange defaults.
    pub(crate) fn of(container: &Container<'_>, defaults: Option<&LimitDefaults>) -> Self {
        let mut r = Resources::default();
        for (i, name) in RESOURCE_NAMES.into_iter().enumerate() {
            let req = quantity(container.node.path(&["resources", "requests", name]));
            let lim = quantity(container.node.path(&["resources", "limits", name]));
            r.written_request[i] = req;
            r.written_limit[i] = lim;
            let mut req = req.or(lim);
            let mut lim = lim;
            if let Some(d) = defaults {
                lim = lim.or(d.limit[i]);
                req = req.or(d.request[i]);
            }
            r.request[i] = req;
            r.limit[i] = lim;
        }
        r
    }
}

/// Formats a quantity the way a manifest would write it (`500m`, `2`, `512Mi`).
pub(crate) fn show_quantity(q: Quantity, resource: usize) -> String {
    if resource == MEMORY {
        const MI: i128 = 1_000_000_000 * 1024 * 1024;
        if q.0 % (MI * 1024) == 0 && q.0 != 0 {
            return format!("{}Gi", q.0 / (MI * 1024));
        }
        if q.0 % MI == 0 && q.0 != 0 {
            return format!("{}Mi", q.0 / MI);
        }
    }
    q.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use berth_manifest::load_objects;

    fn one(yaml: &str) -> Object {
        let (mut objs, errs) = load_objects("t.yaml", yaml);
        assert!(errs.is_empty(), "{errs:?}");
        objs.remove(0)
    }

    #[test]
    fn each_kind_reads_its_pod_spec_from_the_right_place() {
        let cases = [
            ("apps/v1", "Deployment", "spec.template.spec"),
            ("batch/v1", "CronJob", "spec.jobTemplate.spec.template.spec"),
            ("v1", "Pod", "spec"),
            ("batch/v1", "Job", "spec.template.spec"),
        ];
        for (api, kind, want) in cases {
            let o = one(&format!(
                "apiVersion: {api}\nkind: {kind}\nmetadata: {{name: x}}\n"
            ));
            let w = Workload::of(&o).expect(kind);
            assert_eq!(w.spec_path().to_string(), want, "{kind}");
        }
    }

    #[test]
    fn a_kind_from_another_group_is_not_a_workload() {
        let o = one("apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: x}\n");
        assert!(Workload::of(&o).is_none());
    }

    #[test]
    fn wrong_shapes_read_as_absent() {
        let o = one(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      containers: 5\n",
        );
        let w = Workload::of(&o).expect("deployment");
        assert_eq!(w.containers().count(), 0);
        let o = one("apiVersion: apps/v1\nkind: Deployment\nspec:\n  template: [1]\n");
        assert!(Workload::of(&o).expect("deployment").spec().is_none());
    }

    #[test]
    fn requests_default_to_limits_then_to_the_limit_range() {
        let o = one(
            "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - name: a\n    resources:\n      limits: {cpu: 1, memory: 1Gi}\n  - name: b\n",
        );
        let w = Workload::of(&o).expect("pod");
        let cs: Vec<_> = w.containers().collect();
        let a = Resources::of(&cs[0], None);
        assert_eq!(a.request[CPU], Quantity::parse("1000m").ok());
        assert_eq!(a.written_request[CPU], None);
        let d = LimitDefaults {
            request: [Quantity::parse("100m").ok(), None],
            limit: [None, Quantity::parse("256Mi").ok()],
        };
        let b = Resources::of(&cs[1], Some(&d));
        assert_eq!(b.request[CPU], Quantity::parse("100m").ok());
        assert_eq!(b.limit[MEMORY], Quantity::parse("256Mi").ok());
        assert_eq!(b.request[MEMORY], None);
    }

    #[test]
    fn memory_prints_in_binary_units() {
        let q = |s| Quantity::parse(s).expect(s);
        assert_eq!(show_quantity(q("512Mi"), MEMORY), "512Mi");
        assert_eq!(show_quantity(q("2Gi"), MEMORY), "2Gi");
        assert_eq!(show_quantity(q("500m"), CPU), "500m");
        assert_eq!(show_quantity(q("2"), CPU), "2");
    }
}
