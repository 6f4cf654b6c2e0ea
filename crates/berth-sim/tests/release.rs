//! berth's release engine inside the simulator, under random faults: operator and
//! controller-manager restarts, API errors, a node lost or cut off mid-release, pods deleted.
//! After every simulated second the invariants hold; at the end the release has finished or
//! stopped and said why.

use std::path::Path;

use berth_sim::scenario::Action;
use berth_sim::{Sim, load_scenario};
use proptest::prelude::*;

fn scenario() -> berth_sim::Scenario {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let text = std::fs::read_to_string(dir.join("grouped-release.yaml")).expect("scenario");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).map_err(|e| e.to_string());
    load_scenario("grouped-release.yaml", &text, &read).expect("loads")
}

fn fault(kind: u8, at: u64) -> (u64, Action) {
    let node = format!("sw0{}-host0{}", 1 + at % 4, 1 + at % 5);
    let a = match kind {
        0 => Action::ApiErrors(0.5, 30_000),
        1 => Action::RestartControllers(15_000),
        2 => Action::Crash(node),
        3 => Action::Partition(node),
        _ => Action::DeletePods("catalog".into(), 3),
    };
    (at, a)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 16,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(11),
        ..ProptestConfig::default()
    })]

    #[test]
    fn a_release_keeps_its_invariants_through_random_faults(
        faults in proptest::collection::vec((0u8..5, 61u64..480), 0..5),
        seed in 1u64..1_000,
    ) {
        let mut sc = scenario();
        sc.seed = seed;
        sc.checks.clear();
        // Long enough for a stalled group to reach its 10-minute deadline.
        sc.duration = 20 * 60_000;
        for &(kind, secs) in &faults {
            sc.timeline.push(fault(kind, secs * 1_000));
        }
        let mut sim = Sim::new(sc).expect("sim");
        let mut t = 0;
        while !sim.ended() {
            t += 1_000;
            sim.run_until(t);
            let deps = sim.view().deployments();
            let catalog: Vec<_> = deps.iter().filter(|d| d.app == "catalog").collect();
            let asked: i32 = catalog.iter().map(|d| d.replicas).sum();
            // One group's share (10) of extra capacity at most, whatever happens.
            prop_assert!(asked <= 50, "t={t}: {catalog:?}");
            // The engine never takes the old version below what the new one has made up.
            if let [old, new] = catalog.as_slice() {
                prop_assert!(old.replicas + new.replicas >= 40, "t={t}: {catalog:?}");
            }
        }
        let r = sim.finish();
        let outcome = r
            .events
            .iter()
            .rev()
            .find(|e| e.object.starts_with("release/catalog-") && e.reason != "Release")
            .map(|e| e.reason.clone());
        prop_assert!(
            matches!(outcome.as_deref(), Some("ReleaseSucceeded" | "ReleaseStalled")),
            "{outcome:?} with faults {faults:?}"
        );
        if faults.is_empty() {
            prop_assert_eq!(outcome.as_deref(), Some("ReleaseSucceeded"));
        }
    }
}
