//! A deterministic, in-process model of a Kubernetes cluster, for proving berth's
//! controllers without a cluster and rehearsing releases on a laptop.
//!
//! A [`Sim`] runs a [`Scenario`] on a virtual clock with a seed: an object store (pods,
//! nodes, Deployments, ReplicaSets, Services and their EndpointSlices, PDBs) whose changes
//! wake the controllers that watch them; the Deployment, ReplicaSet, EndpointSlice and node
//! lifecycle controllers, taint-based eviction, the eviction API and `kubectl drain`; the
//! scheduler model of `berth-scheduler`; a kubelet (image pulls, probes, crashes and
//! CrashLoopBackOff, preStop, SIGTERM, grace period, SIGKILL); and a load balancer in front
//! of the Services whose traffic is counted exactly (see `traffic.rs`). Each module says
//! which upstream code it follows and what it leaves out.
//!
//! Must not: read the wall clock, spawn threads, or do I/O: files a scenario names are read
//! through the function the caller passes to [`load_scenario`]. The same seed gives the same
//! report, byte for byte.

mod controllers;
mod engine;
pub mod hpa;
mod ingest;
mod kubelet;
pub mod plugin;
pub mod release;
pub mod report;
mod requests;
mod rng;
pub mod scenario;
mod template;
pub mod time;
mod traffic;
pub mod world;

pub use engine::Sim;
pub use report::{AppReport, AssertionReport, Event, Report};
pub use scenario::{Scenario, load_scenario};

/// Why a scenario could not start.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// A workload object the simulator cannot use.
    #[error("{file}: {object}: {message}")]
    Object {
        /// File it came from.
        file: String,
        /// `Kind/name`.
        object: String,
        /// What is wrong.
        message: String,
    },
    /// A pod template the simulator cannot use.
    #[error("pod template: {0}")]
    Template(String),
}

/// Runs a scenario to its end.
pub fn run(scenario: Scenario) -> Result<Report, SimError> {
    Ok(Sim::new(scenario)?.run())
}
