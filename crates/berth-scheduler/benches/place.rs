//! Placement throughput: pods placed one by one on 5,000 nodes with the default profile.
//!
//! `cargo bench -p berth-scheduler --bench place [-- PODS]` (peak memory with
//! `/usr/bin/time -v` on the bench binary). Two workloads, fixed seed:
//! - plain: pods with CPU/memory requests only;
//! - mix: a third with a hard zone spread, a third with a soft host spread, a third with
//!   required hostname anti-affinity, over 500 apps in 20 namespaces.
//!
//! Goals (issue 4): 10,000 plain pods/s and 3,000 mix pods/s on one core at 100,000 pods.

use std::time::Instant;

use berth_scheduler::{
    AffinityTerm, Cluster, LabelSelector, NodeInfo, PodInfo, Profile, Resources, SpreadConstraint,
    State, schedule_quick,
};

const NODES: usize = 5_000;

fn cluster() -> Cluster {
    let mut c = Cluster::default();
    for i in 0..NODES {
        let mut n = NodeInfo::new(
            &format!("node-{i}"),
            Resources {
                milli_cpu: 64_000,
                memory: 256 << 30,
                ..Default::default()
            },
        );
        n.allowed_pods = 250;
        n.labels
            .insert("kubernetes.io/hostname".into(), n.name.to_string());
        n.labels.insert(
            "topology.kubernetes.io/zone".into(),
            format!("zone-{}", i % 10),
        );
        n.labels.insert(
            "topology.berth.dev/switch".into(),
            format!("tor-{}", i / 50),
        );
        c.nodes.push(n);
    }
    c
}

fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    *state >> 33
}

fn pod(i: usize, mix: bool, rng: &mut u64) -> PodInfo {
    let app = i % 500;
    let ns = format!("ns-{}", app % 20);
    let cpu = [100, 250, 500, 1000][(lcg(rng) % 4) as usize];
    let mem = [128i64, 256, 512, 1024][(lcg(rng) % 4) as usize] << 20;
    let mut p = PodInfo::new(
        &ns,
        &format!("app-{app}-{i}"),
        Resources {
            milli_cpu: cpu,
            memory: mem,
            ..Default::default()
        },
    );
    p.labels.insert("app".into(), format!("app-{app}"));
    if mix {
        let sel = LabelSelector {
            match_labels: p.labels.clone(),
            match_expressions: vec![],
        };
        match app % 3 {
            0 => p.spread.push(SpreadConstraint {
                max_skew: 1,
                topology_key: "topology.kubernetes.io/zone".into(),
                hard: true,
                selector: sel,
                min_domains: 1,
                honor_node_affinity: true,
                honor_node_taints: false,
            }),
            1 => p.spread.push(SpreadConstraint {
                max_skew: 1,
                topology_key: "kubernetes.io/hostname".into(),
                hard: false,
                selector: sel,
                min_domains: 1,
                honor_node_affinity: true,
                honor_node_taints: false,
            }),
            _ => p.affinity.required_anti.push(AffinityTerm {
                selector: Some(sel),
                namespaces: vec![],
                namespace_selector: None,
                topology_key: "kubernetes.io/hostname".into(),
            }),
        }
    }
    p
}

fn run(pods: usize, mix: bool) {
    let mut c = cluster();
    let profile = Profile::default();
    let mut state = State::new(42);
    let mut rng = 7u64;
    let start = Instant::now();
    let mut placed = 0;
    for i in 0..pods {
        let p = pod(i, mix, &mut rng);
        let d = schedule_quick(&c, &p, &profile, &mut state);
        if let Some(node) = d.selected {
            let idx = c.node_index(&node).unwrap_or(0);
            c.bind(p, idx);
            placed += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{:<5} {pods:>7} pods on {NODES} nodes: {placed} placed in {secs:.2}s = {:.0} pods/s",
        if mix { "mix" } else { "plain" },
        pods as f64 / secs
    );
}

fn main() {
    let pods: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    run(pods, false);
    run(pods, true);
}
