//! berth's Kubernetes operator: the kube-rs shell that runs berth's pure controllers
//! against a real cluster.
//!
//! Start with [`reconcile::reconcile`], which drives one `Release` through the release
//! engine (`berth_release::decide`); [`release_crd`] holds the `Release` custom resource
//! and the conversion of its status to and from the engine's state. The binary
//! (`src/main.rs`) wires the reconciler into a `kube::runtime::Controller`.
//!
//! Must not: hold release logic the simulator cannot run. Every rule lives in
//! `berth-release`; this crate only reads, maps and writes.

pub mod application;
pub mod cluster;
pub mod leader;
pub mod mapping;
pub mod metrics;
pub mod prometheus;
pub mod reconcile;
pub mod release_crd;
pub mod verbs;

#[cfg(test)]
mod test_api;
