//! A model of kube-scheduler, exact enough to explain real placements.
//!
//! Give it a [`Cluster`] (nodes and the pods bound to them, read from
//! `kubectl get nodes,pods -A -o json`) and a pod; [`schedule`] runs one scheduling cycle of
//! a [`Profile`] and returns a [`Decision`]: for every node, the failing filter's reasons in
//! kube-scheduler's own words, or each score plugin's raw and normalized score, the weighted
//! total and the rank; then the chosen node.
//!
//! It mirrors Kubernetes v1.35 (`pkg/scheduler/framework/plugins/...` and
//! `pkg/scheduler/schedule_one.go`; `docs/scheduler-upstream.md` records what was read).
//! Modelled: filters NodeUnschedulable, NodeName, TaintToleration, NodeAffinity, NodePorts,
//! NodeResourcesFit, PodTopologySpread (minDomains, node inclusion policies, matchLabelKeys),
//! InterPodAffinity (required terms both ways); scores TaintToleration, NodeAffinity,
//! NodeResourcesFit (LeastAllocated, MostAllocated, RequestedToCapacityRatio),
//! PodTopologySpread (with the system default constraints), InterPodAffinity,
//! NodeResourcesBalancedAllocation (current, legacy 0–10 and master's improvement formula),
//! ImageLocality. Not modelled: volumes, DRA, preemption, nominated pods.
//!
//! Pure: no I/O, no clock; ties are broken by a seeded random source in [`State`].

mod config;
mod framework;
mod model;
pub mod plugins;
mod resources;

pub use config::{ConfigError, profile_from_config};
pub use framework::{
    Decision, NodeResult, PluginScore, Profile, State, num_feasible_nodes_to_find, schedule,
    schedule_quick,
};
pub use model::{
    AffinityTerm, Cluster, HostPort, LabelSelector, NodeImage, NodeInfo, OwnerSelector,
    PodAffinity, PodInfo, Requirement, SpreadConstraint, Taint, Term, Toleration, normalized_image,
};
pub use resources::{DEFAULT_MEMORY_REQUEST, DEFAULT_MILLI_CPU_REQUEST, Resources, pod_requests};
