//! `berth demo`: what berth is for, in a minute of reading. Runs the scenarios of
//! `examples/scenarios/` (built into the binary) on the simulator and prints each part as it
//! finishes.

use std::collections::BTreeMap;

use anyhow::{Context, Result, anyhow};
use berth_sim::{Report, Sim, load_scenario};
use clap::Args;

use crate::Outcome;

/// The scenario files, as `examples/scenarios/` has them.
const FILES: &[(&str, &str)] = &[
    (
        "termination-storm.yaml",
        include_str!("../../../examples/scenarios/termination-storm.yaml"),
    ),
    (
        "kubelet-partition.yaml",
        include_str!("../../../examples/scenarios/kubelet-partition.yaml"),
    ),
    (
        "drain-blocked.yaml",
        include_str!("../../../examples/scenarios/drain-blocked.yaml"),
    ),
    (
        "hpa-warmup-trap.yaml",
        include_str!("../../../examples/scenarios/hpa-warmup-trap.yaml"),
    ),
    (
        "orders-jvm.yaml",
        include_str!("../../../examples/scenarios/orders-jvm.yaml"),
    ),
    (
        "orders-jvm-plain.yaml",
        include_str!("../../../examples/scenarios/orders-jvm-plain.yaml"),
    ),
    (
        "release-rollback.yaml",
        include_str!("../../../examples/scenarios/release-rollback.yaml"),
    ),
    (
        "catalog.yaml",
        include_str!("../../../examples/scenarios/catalog.yaml"),
    ),
    (
        "checkout.yaml",
        include_str!("../../../examples/scenarios/checkout.yaml"),
    ),
    (
        "checkout-naive.yaml",
        include_str!("../../../examples/scenarios/checkout-naive.yaml"),
    ),
    (
        "ledger.yaml",
        include_str!("../../../examples/scenarios/ledger.yaml"),
    ),
    (
        "ledger-plain.yaml",
        include_str!("../../../examples/scenarios/ledger-plain.yaml"),
    ),
    (
        "payments-legacy.yaml",
        include_str!("../../../examples/scenarios/payments-legacy.yaml"),
    ),
];

/// Arguments of `berth demo`.
#[derive(Args)]
pub struct DemoArgs {
    /// Seed of every random choice.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

fn run(name: &str, seed: u64) -> Result<Report> {
    let files: BTreeMap<&str, &str> = FILES.iter().copied().collect();
    let text = files
        .get(name)
        .ok_or_else(|| anyhow!("built-in scenario {name} is missing"))?;
    let read = |f: &str| -> Result<String, String> {
        files
            .get(f)
            .map(|t| t.to_string())
            .ok_or_else(|| format!("built-in file {f} is missing"))
    };
    let mut scenario = load_scenario(name, text, &read).map_err(|diags| {
        anyhow!(
            "built-in scenario {name} is invalid:\n{}",
            diags
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("\n")
        )
    })?;
    scenario.seed = seed;
    Ok(Sim::new(scenario)
        .with_context(|| format!("cannot start {name}"))?
        .run())
}

fn say(out: &mut impl std::io::Write, text: &str) -> Result<()> {
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `berth demo`.
pub fn demo(args: &DemoArgs) -> Result<Outcome> {
    let mut out = std::io::stdout().lock();
    let mut all_passed = true;
    say(
        &mut out,
        "berth demo: a cluster simulated on this machine, in virtual time (same seed, same story).\n\
         Each part is a scenario of examples/scenarios/; run one with `berth sim FILE` for the full timeline.\n\n",
    )?;

    // 1. Placement and the termination storm share one run.
    say(
        &mut out,
        "1/6  Two copies of a checkout service (8 pods each, 400 req/s each) on 2 zones x 4 switches x 4 hosts.\n",
    )?;
    let storm = run("termination-storm.yaml", args.seed)?;
    for app in &storm.apps {
        let mut per_switch: BTreeMap<&str, (u32, u32)> = BTreeMap::new();
        for (switch, _, pods) in &app.placement {
            let e = per_switch.entry(switch.as_str()).or_default();
            e.0 += pods;
            e.1 += 1;
        }
        let spread: Vec<String> = per_switch
            .iter()
            .map(|(s, (pods, hosts))| format!("{s}: {pods} on {hosts} hosts"))
            .collect();
        say(
            &mut out,
            &format!(
                "       {:<15} placed by the scheduler model: {}\n",
                app.name,
                spread.join(", ")
            ),
        )?;
    }
    say(
        &mut out,
        "\n2/6  A rollout restart, then 4 pods deleted at once. The load balancer needs 3 s to forget a pod.\n",
    )?;
    for app in &storm.apps {
        let how = if app.name == "checkout" {
            "berth's preStop drain (sleep past the propagation delay, wait for connections)"
        } else {
            "no preStop: SIGTERM while still in the endpoints"
        };
        say(
            &mut out,
            &format!(
                "       {:<15} {:>7} requests, {:>5} failed (502: {}, 504: {})  {how}\n",
                app.name, app.requests, app.failed, app.failed_502, app.failed_504
            ),
        )?;
    }
    all_passed &= storm.passed();

    say(
        &mut out,
        "\n3/6  A kubelet loses the API server for 8 minutes; its pods keep serving (seed 000's misdiagnosed node).\n",
    )?;
    let partition = run("kubelet-partition.yaml", args.seed)?;
    let key = partition.highlights(&[
        "Action",
        "NodeNotReady",
        "TaintManagerEviction",
        "NodeReady",
    ]);
    say(&mut out, &indent(&key.timeline_text()))?;
    for app in &partition.apps {
        say(
            &mut out,
            &format!(
                "       {:<15} {} pods evicted, {} failed requests, lowest ready {}\n",
                app.name,
                app.evictions,
                app.failed,
                app.min_ready.map_or("-".into(), |m| m.to_string())
            ),
        )?;
    }
    all_passed &= partition.passed();

    say(
        &mut out,
        "\n4/6  kubectl drain meets a PodDisruptionBudget that allows no disruption.\n",
    )?;
    let drain = run("drain-blocked.yaml", args.seed)?;
    let key = drain.highlights(&[
        "Action",
        "Evicted",
        "EvictionBlocked",
        "DrainTimeout",
        "Drained",
    ]);
    say(&mut out, &indent(&key.timeline_text()))?;
    all_passed &= drain.passed();

    say(
        &mut out,
        "\n5/6  Traffic more than doubles and the autoscaler adds JVMs that are still cold (seed 003's warm-up trap).\n",
    )?;
    let trap = run("hpa-warmup-trap.yaml", args.seed)?;
    for app in &trap.apps {
        let how = if app.name == "orders-jvm" {
            "startup probe, and the balancer ramps new pods up over 3m"
        } else {
            "new pods get a full share at once"
        };
        say(
            &mut out,
            &format!(
                "       {:<17} {:>3} restarts, {:>6} failed requests, {} rescales  {how}\n",
                app.name, app.restarts, app.failed, app.rescales
            ),
        )?;
    }
    all_passed &= trap.passed();

    say(
        &mut out,
        "\n6/6  berth's release engine: 40 replicas in 4 groups, surge-first, 2m gates; rolled back in group 3.\n",
    )?;
    let release = run("release-rollback.yaml", args.seed)?;
    let mut key = release.clone();
    key.events.retain(|e| match e.reason.as_str() {
        "Action" | "ReleaseStarted" | "ReleaseSucceeded" | "ReleaseStalled" => true,
        "ReleaseRolledBack" => e.message.contains("full strength"),
        "Release" => e.message.contains("starts") || e.message.contains("done;"),
        _ => false,
    });
    say(&mut out, &indent(&key.timeline_text()))?;
    for app in &release.apps {
        say(
            &mut out,
            &format!(
                "       {:<15} {} requests, {} failed; ready replicas between {} and {}\n",
                app.name,
                app.requests,
                app.failed,
                app.min_ready.map_or("-".into(), |m| m.to_string()),
                app.max_ready
            ),
        )?;
    }
    all_passed &= release.passed();

    say(&mut out, "\nAssertions of the scenarios\n")?;
    for r in [&storm, &partition, &drain, &trap, &release] {
        say(&mut out, &r.assertions_text())?;
    }
    Ok(if all_passed {
        Outcome::Clean
    } else {
        Outcome::Problems
    })
}

fn indent(text: &str) -> String {
    text.lines().map(|l| format!("   {l}\n")).collect()
}
