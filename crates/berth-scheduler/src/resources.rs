//! Resource amounts and what a pod requests, as `component-helpers/resource.PodRequests`
//! computes them.

use std::collections::BTreeMap;

use berth_manifest::Node;
use berth_manifest::quantity::Quantity;

/// CPU counted for a container that does not state a CPU request, in scoring only
/// (`DefaultMilliCPURequest`, `pkg/scheduler/util/pod_resources.go`).
pub const DEFAULT_MILLI_CPU_REQUEST: i64 = 100;
/// Memory counted for a container that does not state a memory request, in scoring only
/// (`DefaultMemoryRequest`: 200 MiB).
pub const DEFAULT_MEMORY_REQUEST: i64 = 200 * 1024 * 1024;

/// A resource's Kubernetes name, told apart from the others once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ResourceName<'a> {
    /// `cpu`.
    Cpu,
    /// `memory`.
    Memory,
    /// `ephemeral-storage`.
    EphemeralStorage,
    /// Any other name: an extended or hugepage resource.
    Scalar(&'a str),
}

impl<'a> ResourceName<'a> {
    /// Resolves a name.
    pub(crate) fn of(name: &'a str) -> Self {
        match name {
            "cpu" => ResourceName::Cpu,
            "memory" => ResourceName::Memory,
            "ephemeral-storage" => ResourceName::EphemeralStorage,
            other => ResourceName::Scalar(other),
        }
    }

    /// Whether it is an extended (or hugepage) resource, one of the `scalars`.
    pub(crate) fn is_extended(self) -> bool {
        matches!(self, ResourceName::Scalar(_))
    }
}

/// An amount of every resource: milli-CPU, bytes of memory and ephemeral storage, and
/// integer units of extended resources (`nvidia.com/gpu`, `hugepages-2Mi`, ...).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resources {
    /// Milli-CPU.
    pub milli_cpu: i64,
    /// Bytes.
    pub memory: i64,
    /// Bytes.
    pub ephemeral_storage: i64,
    /// Extended and hugepage resources, by name.
    pub scalars: BTreeMap<String, i64>,
}

impl Resources {
    /// Adds `other` to this, resource by resource.
    pub fn add(&mut self, other: &Resources) {
        self.milli_cpu += other.milli_cpu;
        self.memory += other.memory;
        self.ephemeral_storage += other.ephemeral_storage;
        for (k, v) in &other.scalars {
            *self.scalars.entry(k.clone()).or_insert(0) += v;
        }
    }

    /// Subtracts `other` from this, resource by resource.
    pub fn sub(&mut self, other: &Resources) {
        self.milli_cpu -= other.milli_cpu;
        self.memory -= other.memory;
        self.ephemeral_storage -= other.ephemeral_storage;
        for (k, v) in &other.scalars {
            *self.scalars.entry(k.clone()).or_insert(0) -= v;
        }
    }

    /// Raises each resource of this to at least `other`'s.
    pub fn max_with(&mut self, other: &Resources) {
        self.milli_cpu = self.milli_cpu.max(other.milli_cpu);
        self.memory = self.memory.max(other.memory);
        self.ephemeral_storage = self.ephemeral_storage.max(other.ephemeral_storage);
        for (k, v) in &other.scalars {
            let e = self.scalars.entry(k.clone()).or_insert(0);
            *e = (*e).max(*v);
        }
    }

    /// The amount of a resource by its Kubernetes name.
    pub fn get(&self, name: &str) -> i64 {
        self.amount(ResourceName::of(name))
    }

    /// The amount of a resource whose name was resolved once (scoring reads the same
    /// resource from the node and the pod for every node).
    pub(crate) fn amount(&self, name: ResourceName<'_>) -> i64 {
        match name {
            ResourceName::Cpu => self.milli_cpu,
            ResourceName::Memory => self.memory,
            ResourceName::EphemeralStorage => self.ephemeral_storage,
            ResourceName::Scalar(other) => self.scalars.get(other).copied().unwrap_or(0),
        }
    }

    /// Whether every amount is zero.
    pub fn is_zero(&self) -> bool {
        self.milli_cpu == 0
            && self.memory == 0
            && self.ephemeral_storage == 0
            && self.scalars.values().all(|v| *v == 0)
    }

    /// Reads a resource list (`{cpu: 500m, memory: 1Gi}`); unparsable amounts count as 0.
    pub fn from_list(list: Option<&Node>) -> Resources {
        let mut r = Resources::default();
        let Some(m) = list.and_then(Node::as_map) else {
            return r;
        };
        for e in m.iter() {
            let Some(text) = e.value.scalar_text() else {
                continue;
            };
            let Ok(q) = Quantity::parse(&text) else {
                continue;
            };
            match e.key.as_str() {
                "cpu" => r.milli_cpu = q.millis() as i64,
                "memory" => r.memory = q.units() as i64,
                "ephemeral-storage" => r.ephemeral_storage = q.units() as i64,
                "pods" => {}
                name => {
                    r.scalars.insert(name.to_string(), q.units() as i64);
                }
            }
        }
        r
    }
}

/// What a pod requests: the element-wise maximum of its running containers (plus restartable
/// init containers, which run beside them) and each init container (plus the sidecars started
/// before it), then pod overhead. With `non_zero`, a container that states no CPU (memory)
/// request counts 100m (200 MiB), as scoring does; an explicit `0` stays 0.
pub fn pod_requests(spec: &Node, non_zero: bool) -> Resources {
    let container = |c: &Node| {
        let requests = c.path(&["resources", "requests"]);
        let limits = c.path(&["resources", "limits"]);
        // The API server defaults a missing request to the limit (pods from a snapshot already
        // carry it; a pod file may not).
        let stated = |name: &str| {
            requests.and_then(|q| q.get(name)).is_some()
                || limits.and_then(|q| q.get(name)).is_some()
        };
        let mut r = Resources::from_list(limits);
        let explicit = Resources::from_list(requests);
        r.milli_cpu = if requests.and_then(|q| q.get("cpu")).is_some() {
            explicit.milli_cpu
        } else {
            r.milli_cpu
        };
        r.memory = if requests.and_then(|q| q.get("memory")).is_some() {
            explicit.memory
        } else {
            r.memory
        };
        if requests.and_then(|q| q.get("ephemeral-storage")).is_some() {
            r.ephemeral_storage = explicit.ephemeral_storage;
        }
        r.scalars.extend(explicit.scalars);
        if non_zero {
            if !stated("cpu") {
                r.milli_cpu = DEFAULT_MILLI_CPU_REQUEST;
            }
            if !stated("memory") {
                r.memory = DEFAULT_MEMORY_REQUEST;
            }
        }
        r
    };
    let mut regular = Resources::default();
    for c in spec.get("containers").map(Node::as_seq).unwrap_or_default() {
        regular.add(&container(c));
    }
    let mut sidecars = Resources::default();
    let mut init_max = Resources::default();
    for ic in spec
        .get("initContainers")
        .map(Node::as_seq)
        .unwrap_or_default()
    {
        let r = container(ic);
        if ic.get("restartPolicy").and_then(Node::as_str) == Some("Always") {
            regular.add(&r);
            sidecars.add(&r);
        } else {
            let mut with_sidecars = r;
            with_sidecars.add(&sidecars);
            init_max.max_with(&with_sidecars);
        }
    }
    regular.max_with(&init_max);
    // PodLevelResources (on by default): pod-level cpu/memory requests replace the sum.
    let pod_level = spec.path(&["resources", "requests"]);
    let stated = Resources::from_list(pod_level);
    if pod_level.and_then(|q| q.get("cpu")).is_some() {
        regular.milli_cpu = stated.milli_cpu;
    }
    if pod_level.and_then(|q| q.get("memory")).is_some() {
        regular.memory = stated.memory;
    }
    regular.add(&Resources::from_list(spec.get("overhead")));
    regular
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> Node {
        let (docs, errs) = berth_manifest::load_documents("t.yaml", yaml);
        assert!(errs.is_empty(), "{errs:?}");
        docs.into_iter().next().expect("one document").root
    }

    #[test]
    fn pod_requests_take_the_larger_of_running_and_init_containers() {
        // component-helpers/resource/helpers.go PodRequests: max(Σ containers + sidecars,
        // max(init + sidecars started before it)) + overhead.
        let s = spec(
            "containers:
- resources: {requests: {cpu: 500m, memory: 1Gi}}
- resources: {requests: {cpu: 250m}}
initContainers:
- name: migrate
  resources: {requests: {cpu: '2', memory: 512Mi}}
- name: proxy
  restartPolicy: Always
  resources: {requests: {cpu: 100m, memory: 64Mi}}
- name: late-init
  resources: {requests: {cpu: 900m, memory: 2Gi}}
overhead: {cpu: 10m}
",
        );
        let r = pod_requests(&s, false);
        // cpu: running 500+250+100 = 850; init max(2000, 900+100) = 2000; +10 overhead.
        assert_eq!(r.milli_cpu, 2010);
        // memory: running 1Gi+64Mi; init max(512Mi, 2Gi+64Mi) = 2Gi+64Mi.
        assert_eq!(r.memory, (2 << 30) + (64 << 20));
    }

    #[test]
    fn limits_stand_in_for_requests_and_pod_level_requests_win() {
        // API defaulting: a container with only limits requests its limits.
        let s = spec("containers:\n- resources: {limits: {cpu: '1', memory: 1Gi}}\n");
        let r = pod_requests(&s, false);
        assert_eq!((r.milli_cpu, r.memory), (1000, 1 << 30));
        // PodLevelResources: spec.resources.requests replaces the containers' sum.
        let s = spec(
            "resources: {requests: {cpu: '20'}}\ncontainers:\n- resources: {requests: {cpu: 100m}}\n",
        );
        assert_eq!(pod_requests(&s, false).milli_cpu, 20_000);
    }

    #[test]
    fn missing_requests_count_the_scoring_defaults_but_explicit_zero_stays_zero() {
        // pkg/scheduler/util/pod_resources.go: only a missing key is defaulted.
        let s = spec("containers:\n- resources: {requests: {cpu: '0'}}\n- {}\n");
        let r = pod_requests(&s, true);
        assert_eq!(r.milli_cpu, DEFAULT_MILLI_CPU_REQUEST);
        assert_eq!(r.memory, 2 * DEFAULT_MEMORY_REQUEST);
        assert!(pod_requests(&s, false).is_zero());
    }
}
