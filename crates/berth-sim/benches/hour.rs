//! One simulated hour of a large cluster: 1,000 generated nodes (5 zones, 100 switches of 10
//! hosts), 500 apps with 20,000 pods filling it to about 60%, traffic on every app, 50
//! rolling updates spread over the hour, a node partition that heals and a node that
//! crashes and boots again.
//!
//! Everything is generated from a fixed seed in code. The binary runs the scenario
//! `--runs N` times (default 3) and prints, per run, the wall time (building the simulator
//! and running it, with a breakdown per 5 virtual minutes for the first run), the Events
//! recorded, pods created, requests and failed requests; then the best and median wall time
//! and the peak RSS (`VmHWM`). It checks that the run is not empty (every app got traffic,
//! every rollout completed) and that every run gives the same figures.
//!
//! `cargo bench -p berth-sim --bench hour [-- --runs N --seed S --timeline APP]`
//! (`--timeline` prints one app's Events of the first run); the goal is under 30 s of wall
//! time and under 2 GB of memory per run.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use berth_sim::scenario::{Action, Behaviour, ClusterSource, ControlPlane, LbParams, Scenario};
use berth_sim::time::{Dist, Millis};
use berth_sim::{Report, Sim};
use serde_json::{Value, json};

const ZONES: u32 = 5;
const SWITCHES: u32 = 100;
const HOSTS_PER_SWITCH: u32 = 10;
const NODE_CPU_MILLI: i64 = 32_000;
const NODE_MEMORY: i64 = 128 << 30;
const NODE_PODS: i64 = 110;
const APPS: usize = 500;
const NAMESPACES: usize = 25;
const PODS: i64 = 20_000;
const MIN_REPLICAS: i64 = 20;
const MAX_REPLICAS: i64 = 80;
/// Share of the cluster's CPU and memory the pods request.
const FILL: f64 = 0.60;
const ROLLOUTS: usize = 50;
const MINUTE: Millis = 60_000;
const HOUR: Millis = 60 * MINUTE;
/// Apps whose process crashes now and then (never among the rolled ones).
const CRASHERS: usize = 5;
const DEFAULT_SEED: u64 = 20_000;
/// Length of the breakdown's slices, in virtual time.
const SLICE: Millis = 5 * MINUTE;

/// splitmix64, as the simulator's own source, so the scenario is the same on every machine.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: i64, hi: i64) -> i64 {
        let span = (hi - lo + 1) as u64;
        lo + ((u128::from(self.next_u64()) * u128::from(span)) >> 64) as i64
    }

    /// True with probability `p`.
    fn chance(&mut self, p: f64) -> bool {
        ((self.next_u64() >> 11) as f64 / (1u64 << 53) as f64) < p
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.range(0, items.len() as i64 - 1) as usize]
    }
}

/// How a pod stops.
#[derive(Clone, Copy)]
enum Hook {
    /// No preStop hook.
    None,
    /// berth's drain: `sleep N`, then wait for connections up to a timeout.
    Drain { sleep: i64, timeout: i64 },
    /// A `sleep` action.
    Sleep(i64),
    /// An exec hook `sh -c "sleep N"`.
    ExecSleep(i64),
}

/// One generated app, before it becomes objects.
struct Plan {
    name: String,
    namespace: String,
    replicas: i64,
    cpu_milli: i64,
    memory_mi: i64,
    hook: Hook,
    grace: i64,
    toleration: i64,
    startup_probe: bool,
    liveness_probe: bool,
    /// Topology spread: 0 berth's (switch and hostname, soft), 1 switch hard and hostname
    /// soft, 2 hostname only, 3 none (the scheduler's default spreading).
    spread: u8,
    max_unavailable: Value,
    min_ready_seconds: i64,
    pdb: Option<Value>,
    behaviour: Behaviour,
}

/// Replica counts in `MIN_REPLICAS..=MAX_REPLICAS` summing to exactly `PODS`.
fn replica_counts(rng: &mut Rng) -> Vec<i64> {
    let mean = PODS / APPS as i64;
    let mut r: Vec<i64> = (0..APPS)
        .map(|_| rng.range(MIN_REPLICAS, 2 * mean - MIN_REPLICAS))
        .collect();
    let mut sum: i64 = r.iter().sum();
    while sum != PODS {
        let i = rng.range(0, APPS as i64 - 1) as usize;
        if sum < PODS && r[i] < MAX_REPLICAS {
            r[i] += 1;
            sum += 1;
        } else if sum > PODS && r[i] > MIN_REPLICAS {
            r[i] -= 1;
            sum -= 1;
        }
    }
    r
}

fn plans(rng: &mut Rng) -> Vec<Plan> {
    let replicas = replica_counts(rng);
    // Draw relative sizes first, then scale so that requests fill FILL of the cluster.
    let cpu_weight: Vec<f64> = (0..APPS).map(|_| rng.range(2, 8) as f64).collect();
    let mem_per_cpu: Vec<f64> = (0..APPS).map(|_| rng.range(2, 6) as f64).collect();
    let nodes = f64::from(SWITCHES * HOSTS_PER_SWITCH);
    let total_cpu: f64 = replicas
        .iter()
        .zip(&cpu_weight)
        .map(|(&r, w)| r as f64 * w)
        .sum();
    let total_mem: f64 = replicas
        .iter()
        .zip(cpu_weight.iter().zip(&mem_per_cpu))
        .map(|(&r, (w, m))| r as f64 * w * m)
        .sum();
    let cpu_scale = FILL * nodes * NODE_CPU_MILLI as f64 / total_cpu;
    let mem_scale = FILL * nodes * (NODE_MEMORY >> 20) as f64 / total_mem;
    let mut out = Vec::with_capacity(APPS);
    for i in 0..APPS {
        let hook = match rng.range(0, 99) {
            0..=39 => Hook::Drain {
                sleep: rng.range(5, 15),
                timeout: *rng.pick(&[20, 30]),
            },
            40..=64 => Hook::Sleep(rng.range(3, 10)),
            65..=79 => Hook::ExecSleep(rng.range(3, 10)),
            _ => Hook::None,
        };
        let stop_hi = rng.range(500, 3_000) as u64;
        let grace = match hook {
            Hook::None => 30,
            Hook::Drain { sleep, timeout } => sleep + timeout + 10,
            Hook::Sleep(s) | Hook::ExecSleep(s) => s + 20,
        };
        let start_lo = rng.range(1_000, 5_000) as u64;
        let pull_lo = rng.range(500, 3_000) as u64;
        let ready_hi = rng.range(0, 3_000) as u64;
        let behaviour = Behaviour {
            image_pull: Dist::Uniform(pull_lo, pull_lo + rng.range(0, 8_000) as u64),
            start: Dist::Uniform(start_lo, start_lo + rng.range(0, 5_000) as u64),
            ready: if ready_hi == 0 {
                Dist::Fixed(0)
            } else {
                Dist::Uniform(0, ready_hi)
            },
            honors_sigterm: rng.chance(0.95),
            stop: Dist::Uniform(100, stop_hi),
            request: rng.range(10, 250) as u64,
            rate: rng.range(50, 500) as f64,
            crash_after: None,
            // Far below the CPU limits: no throttling, but the CPU model runs.
            cpu_per_request: rng.range(5, 30) as f64 / 10.0,
            ..Behaviour::default()
        };
        let spread = match rng.range(0, 99) {
            0..=79 => 0,
            80..=84 => 1,
            85..=92 => 2,
            _ => 3,
        };
        let pdb = match rng.range(0, 9) {
            0..=2 => Some(json!({"minAvailable": "65%"})),
            3 => Some(json!({"maxUnavailable": 1})),
            4 => Some(json!({"maxUnavailable": "10%"})),
            _ => None,
        };
        out.push(Plan {
            name: format!("app-{i:03}"),
            namespace: format!("line-{:02}", i % NAMESPACES),
            replicas: replicas[i],
            cpu_milli: ((cpu_weight[i] * cpu_scale / 10.0).round() as i64 * 10).max(10),
            memory_mi: (cpu_weight[i] * mem_per_cpu[i] * mem_scale).round() as i64,
            hook,
            grace,
            toleration: if rng.chance(0.8) { 300 } else { 900 },
            startup_probe: rng.chance(0.2),
            liveness_probe: rng.chance(0.5),
            spread,
            max_unavailable: if rng.chance(0.5) {
                json!(0)
            } else {
                json!("25%")
            },
            min_ready_seconds: if rng.chance(0.2) { 5 } else { 0 },
            pdb,
            behaviour,
        });
    }
    out
}

fn labels(p: &Plan) -> Value {
    json!({
        "app.kubernetes.io/managed-by": "berth",
        "app.kubernetes.io/name": p.name,
        "app.kubernetes.io/part-of": p.namespace,
        "app.kubernetes.io/version": "1.0.0",
        "berth.dev/app": p.name,
        "berth.dev/product-line": p.namespace,
        "berth.dev/tier": "standard",
        "berth.dev/version": "1-0-0",
    })
}

fn spread(p: &Plan) -> Option<Value> {
    let constraint = |key: &str, mode: &str| {
        json!({
            "labelSelector": {"matchLabels": {"berth.dev/app": p.name}},
            "maxSkew": 1,
            "nodeTaintsPolicy": "Honor",
            "topologyKey": key,
            "whenUnsatisfiable": mode,
        })
    };
    let switch = berth_model::DEFAULT_SWITCH_LABEL;
    let host = "kubernetes.io/hostname";
    match p.spread {
        0 => Some(json!([
            constraint(switch, "ScheduleAnyway"),
            constraint(host, "ScheduleAnyway")
        ])),
        1 => Some(json!([
            constraint(switch, "DoNotSchedule"),
            constraint(host, "ScheduleAnyway")
        ])),
        2 => Some(json!([constraint(host, "ScheduleAnyway")])),
        _ => None,
    }
}

fn http_probe(path: &str, period: i64, failure: i64) -> Value {
    json!({
        "httpGet": {"path": path, "port": "http", "scheme": "HTTP"},
        "periodSeconds": period,
        "failureThreshold": failure,
        "successThreshold": 1,
        "timeoutSeconds": 2,
    })
}

/// The Deployment, Service and (maybe) PDB of an app, shaped as berth renders them.
fn objects(p: &Plan, image_tag: &str) -> Vec<Value> {
    let mut container = json!({
        "name": "app",
        "image": format!("registry.example.com/{}/{}:{image_tag}", p.namespace, p.name),
        "imagePullPolicy": "IfNotPresent",
        "ports": [{"containerPort": 8080, "name": "http", "protocol": "TCP"}],
        "readinessProbe": http_probe("/ready", 5, 3),
        "resources": {
            "requests": {"cpu": format!("{}m", p.cpu_milli), "memory": format!("{}Mi", p.memory_mi)},
            "limits": {"cpu": format!("{}m", p.cpu_milli * 2), "memory": format!("{}Mi", p.memory_mi)},
        },
        "terminationMessagePolicy": "FallbackToLogsOnError",
    });
    if p.liveness_probe {
        container["livenessProbe"] = http_probe("/live", 10, 3);
    }
    if p.startup_probe {
        container["startupProbe"] = http_probe("/ready", 5, 36);
    }
    let pre_stop = match p.hook {
        Hook::None => None,
        Hook::Drain { sleep, timeout } => Some(json!({"exec": {"command": [
            "/bin/sh",
            "-c",
            format!("sleep {sleep}; end=$(($(date +%s) + {timeout})); while [ $(date +%s) -lt $end ] && cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '$4==\"01\"{{n=split($2,a,\":\"); if (a[n] ~ /^(1F90)$/) f=1}} END{{exit !f}}'; do sleep 1; done"),
        ]}})),
        Hook::Sleep(s) => Some(json!({"sleep": {"seconds": s}})),
        Hook::ExecSleep(s) => {
            Some(json!({"exec": {"command": ["/bin/sh", "-c", format!("sleep {s}")]}}))
        }
    };
    if let Some(h) = pre_stop {
        container["lifecycle"] = json!({"preStop": h});
    }
    let tolerations: Vec<Value> = ["node.kubernetes.io/not-ready", "node.kubernetes.io/unreachable"]
        .iter()
        .map(|k| json!({"key": k, "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": p.toleration}))
        .collect();
    let mut spec = json!({
        "serviceAccountName": p.name,
        "automountServiceAccountToken": false,
        "enableServiceLinks": false,
        "terminationGracePeriodSeconds": p.grace,
        "containers": [container],
        "tolerations": tolerations,
    });
    if let Some(s) = spread(p) {
        spec["topologySpreadConstraints"] = s;
    }
    let selector = json!({"matchLabels": {"berth.dev/app": p.name, "berth.dev/version": "1-0-0"}});
    let name = format!("{}-1-0-0", p.name);
    let meta = |name: &str| json!({"name": name, "namespace": p.namespace, "labels": labels(p)});
    let mut out = vec![
        json!({
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": meta(&p.name),
            "spec": {
                "selector": {"berth.dev/app": p.name},
                "ports": [{"name": "http", "port": 8080, "protocol": "TCP", "targetPort": "http"}],
                "type": "ClusterIP",
            },
        }),
        json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": meta(&name),
            "spec": {
                "replicas": p.replicas,
                "revisionHistoryLimit": 5,
                "minReadySeconds": p.min_ready_seconds,
                "progressDeadlineSeconds": 600,
                "selector": selector,
                "strategy": {
                    "type": "RollingUpdate",
                    "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": p.max_unavailable},
                },
                "template": {"metadata": {"labels": labels(p)}, "spec": spec},
            },
        }),
    ];
    if let Some(budget) = &p.pdb {
        let mut spec = budget.clone();
        spec["selector"] = selector;
        spec["unhealthyPodEvictionPolicy"] = json!("AlwaysAllow");
        out.push(json!({
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": meta(&name),
            "spec": spec,
        }));
    }
    out
}

fn node_name(switch: u32, host: u32) -> String {
    format!("sw{switch:02}-host{host:02}")
}

/// The scenario, all of it from `seed`.
fn scenario(seed: u64) -> (Scenario, Vec<String>) {
    let mut rng = Rng(seed);
    let mut plans = plans(&mut rng);
    // Rolled apps: distinct, spread over the hour, alternating restart and new image.
    let mut order: Vec<usize> = (0..APPS).collect();
    for i in (1..order.len()).rev() {
        let j = rng.range(0, i as i64) as usize;
        order.swap(i, j);
    }
    let rolled: Vec<usize> = order[..ROLLOUTS].to_vec();
    for &i in &order[ROLLOUTS..ROLLOUTS + CRASHERS] {
        let lo = rng.range(15, 25) as u64 * MINUTE;
        plans[i].behaviour.crash_after = Some(Dist::Uniform(lo, lo + 20 * MINUTE));
    }
    let mut timeline: Vec<(Millis, Action)> = Vec::new();
    let window = 50 * MINUTE - 3 * MINUTE;
    for (k, &i) in rolled.iter().enumerate() {
        let at = 3 * MINUTE + window * k as u64 / ROLLOUTS as u64 + rng.range(0, 30_000) as u64;
        let app = plans[i].name.clone();
        let action = if k % 2 == 0 {
            Action::RolloutRestart(app)
        } else {
            let image = format!(
                "registry.example.com/{}/{}:1.0.1",
                plans[i].namespace, plans[i].name
            );
            Action::SetImage(app, image)
        };
        timeline.push((at, action));
    }
    // Faults: a partition shorter than the pods' tolerations, and a crash longer.
    let partitioned = node_name(rng.range(1, 100) as u32, rng.range(1, 10) as u32);
    let crashed = node_name(rng.range(1, 100) as u32, rng.range(1, 10) as u32);
    timeline.push((20 * MINUTE, Action::Partition(partitioned.clone())));
    timeline.push((23 * MINUTE, Action::Heal(partitioned)));
    timeline.push((30 * MINUTE, Action::Crash(crashed.clone())));
    timeline.push((42 * MINUTE, Action::Restart(crashed)));
    // A few apps see their traffic double for a while.
    for _ in 0..5 {
        let i = order[rng.range(0, APPS as i64 - 1) as usize];
        let rate = plans[i].behaviour.rate;
        let at = rng.range(10, 40) as u64 * MINUTE;
        timeline.push((at, Action::Traffic(plans[i].name.clone(), rate * 2.0)));
        timeline.push((
            at + 10 * MINUTE,
            Action::Traffic(plans[i].name.clone(), rate),
        ));
    }
    timeline.sort_by_key(|(t, _)| *t);
    let mut objs = Vec::new();
    let mut apps = BTreeMap::new();
    for p in &plans {
        for o in objects(p, "1.0.0") {
            objs.push((format!("{}.yaml", p.namespace), o));
        }
        apps.insert(p.name.clone(), p.behaviour.clone());
    }
    let sc = Scenario {
        name: "hour".into(),
        description: Some(format!(
            "{} nodes, {APPS} apps, {PODS} pods, {ROLLOUTS} rollouts, a partition and a crash, one hour",
            SWITCHES * HOSTS_PER_SWITCH
        )),
        seed,
        duration: HOUR,
        cluster: ClusterSource::Generated {
            zones: ZONES,
            switches: SWITCHES,
            hosts_per_switch: HOSTS_PER_SWITCH,
            cpu_milli: NODE_CPU_MILLI,
            memory: NODE_MEMORY,
            pods: NODE_PODS,
            labels: BTreeMap::new(),
            switch_label: berth_model::DEFAULT_SWITCH_LABEL.to_string(),
        },
        lb: LbParams::default(),
        control_plane: ControlPlane::default(),
        objects: objs,
        applications: Vec::new(),
        apps,
        timeline,
        checks: Vec::new(),
    };
    let rolled_names: Vec<String> = rolled.iter().map(|&i| plans[i].name.clone()).collect();
    (sc, rolled_names)
}

/// What one run produced, for the sanity checks and the determinism check.
#[derive(Debug, PartialEq)]
struct Figures {
    events: usize,
    pods_created: usize,
    requests: u64,
    failed: u64,
    /// 502, 503, 504.
    failed_by_code: [u64; 3],
    rollouts_complete: usize,
    restarts: u64,
    evictions: u64,
    failed_scheduling: usize,
    overloaded: usize,
}

fn figures(r: &Report) -> Figures {
    let count = |reason: &str| r.events.iter().filter(|e| e.reason == reason).count();
    Figures {
        events: r.events.len(),
        pods_created: count("SuccessfulCreate"),
        requests: r.apps.iter().map(|a| a.requests).sum(),
        failed: r.apps.iter().map(|a| a.failed).sum(),
        failed_by_code: [
            r.apps.iter().map(|a| a.failed_502).sum(),
            r.apps.iter().map(|a| a.failed_503).sum(),
            r.apps.iter().map(|a| a.failed_504).sum(),
        ],
        rollouts_complete: count("RolloutComplete"),
        restarts: r.apps.iter().map(|a| a.restarts).sum(),
        evictions: r.apps.iter().map(|a| a.evictions).sum(),
        failed_scheduling: count("FailedScheduling"),
        overloaded: count("Overloaded"),
    }
}

/// Fails loudly if the run did not do what the scenario asks, so that the bench cannot time
/// an empty run.
fn check(r: &Report, f: &Figures, rolled: &[String]) {
    assert_eq!(
        r.nodes,
        (SWITCHES * HOSTS_PER_SWITCH) as usize,
        "node count"
    );
    assert_eq!(r.apps.len(), APPS, "app count");
    for a in &r.apps {
        assert!(
            a.ready_at.is_some(),
            "{} never had all replicas ready",
            a.name
        );
        assert!(a.requests > 0, "{} got no traffic", a.name);
    }
    assert!(f.requests > 0, "no requests at all");
    assert!(f.failed <= f.requests);
    assert!(
        f.pods_created >= PODS as usize,
        "only {} pods created",
        f.pods_created
    );
    assert_eq!(
        f.rollouts_complete, ROLLOUTS,
        "rollouts complete: {} of {ROLLOUTS}",
        f.rollouts_complete
    );
    for app in rolled {
        assert!(
            r.events
                .iter()
                .any(|e| e.reason == "RolloutComplete" && e.app.as_deref() == Some(app.as_str())),
            "the rollout of {app} did not complete"
        );
    }
    let actions = r.events.iter().filter(|e| e.reason == "Action").count();
    assert!(
        actions >= ROLLOUTS + 4,
        "only {actions} timeline actions ran"
    );
    assert!(
        r.events.iter().any(|e| e.reason == "NodeNotReady"),
        "the faults were not noticed"
    );
}

fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn secs(d: Duration) -> f64 {
    d.as_secs_f64()
}

struct Args {
    runs: usize,
    seed: u64,
    /// Print this app's timeline (first run), to see why a check failed.
    timeline: Option<String>,
}

fn args() -> Args {
    let mut a = Args {
        runs: 3,
        seed: DEFAULT_SEED,
        timeline: None,
    };
    let mut it = std::env::args().skip(1);
    let number = |flag: &str, v: Option<String>| -> u64 {
        v.and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{flag} takes a number"))
    };
    while let Some(arg) = it.next() {
        match arg.as_str() {
            // cargo bench passes --bench; filters are for libtest harnesses.
            "--bench" => {}
            "--runs" => a.runs = number("--runs", it.next()) as usize,
            "--seed" => a.seed = number("--seed", it.next()),
            "--timeline" => a.timeline = Some(it.next().expect("--timeline takes an app name")),
            s if s.starts_with("--runs=") => {
                a.runs = number("--runs", Some(s["--runs=".len()..].into())) as usize;
            }
            s if s.starts_with("--seed=") => {
                a.seed = number("--seed", Some(s["--seed=".len()..].into()));
            }
            s if s.starts_with("--") => {
                panic!("unknown flag {s} (known: --runs N, --seed S, --timeline APP)")
            }
            _ => {}
        }
    }
    assert!(a.runs > 0, "--runs must be at least 1");
    a
}

fn main() {
    let args = args();
    let t = Instant::now();
    let (sc, rolled) = scenario(args.seed);
    let objects = sc.objects.len();
    println!(
        "hour (seed {}): {} nodes, {APPS} apps, {PODS} pods, {objects} objects, {} timeline steps; scenario built in {:.3} s",
        args.seed,
        SWITCHES * HOSTS_PER_SWITCH,
        sc.timeline.len(),
        secs(t.elapsed())
    );
    let mut walls = Vec::new();
    let mut first: Option<Figures> = None;
    for run in 1..=args.runs {
        let sc = sc.clone();
        let t0 = Instant::now();
        let mut sim = Sim::new(sc).expect("the generated scenario is valid");
        let built = t0.elapsed();
        let mut slices = Vec::new();
        let mut at = 0;
        while at < HOUR {
            at = (at + SLICE).min(HOUR);
            let t = Instant::now();
            sim.run_until(at);
            slices.push((at, t.elapsed(), sim.events().len()));
        }
        sim.run_until(Millis::MAX);
        assert!(sim.ended(), "the run did not reach its end");
        let t = Instant::now();
        let report = sim.finish();
        let finished = t.elapsed();
        let wall = t0.elapsed();
        walls.push(wall);
        let f = figures(&report);
        println!(
            "run {run}: wall {:.3} s (new {:.3} s, run {:.3} s, report {:.3} s); {} events; {} pods created; {} requests, {} failed (502 {}, 503 {}, 504 {}); {} rollouts complete; {} restarts, {} evictions, {} FailedScheduling, {} Overloaded",
            secs(wall),
            secs(built),
            secs(wall - built - finished),
            secs(finished),
            f.events,
            f.pods_created,
            f.requests,
            f.failed,
            f.failed_by_code[0],
            f.failed_by_code[1],
            f.failed_by_code[2],
            f.rollouts_complete,
            f.restarts,
            f.evictions,
            f.failed_scheduling,
            f.overloaded,
        );
        if run == 1 {
            let mut before = 0;
            for (at, d, events) in &slices {
                println!(
                    "  up to {:>2} min: {:>8.3} s, {:>7} events",
                    at / MINUTE,
                    secs(*d),
                    events - before
                );
                before = *events;
            }
        }
        if run == 1 {
            // How the scheduler spread the apps when each first had all replicas ready.
            let (mut one_per_switch, mut one_per_node, mut worst_node) = (0, 0, 0);
            for a in &report.apps {
                let mut per_switch: BTreeMap<&str, u32> = BTreeMap::new();
                for (switch, _, n) in &a.placement {
                    *per_switch.entry(switch.as_str()).or_default() += n;
                    worst_node = worst_node.max(*n);
                }
                one_per_switch += usize::from(per_switch.values().all(|&n| n <= 1));
                one_per_node += usize::from(a.placement.iter().all(|(_, _, n)| *n <= 1));
            }
            println!(
                "  placement: {one_per_switch} of {APPS} apps with at most one pod per switch, {one_per_node} with at most one per node; at most {worst_node} pods of an app on one node"
            );
        }
        if run == 1
            && let Some(app) = &args.timeline
        {
            let mut r = report.clone();
            r.events
                .retain(|e| e.app.as_deref() == Some(app.as_str()) || e.reason == "Action");
            print!("{}", r.timeline_text());
        }
        check(&report, &f, &rolled);
        drop(report);
        match &first {
            None => first = Some(f),
            Some(f1) => assert_eq!(f1, &f, "run {run} differs from run 1 (not deterministic)"),
        }
    }
    let mut sorted = walls.clone();
    sorted.sort();
    let best = sorted[0];
    let median = sorted[sorted.len() / 2];
    println!(
        "best {:.3} s, median {:.3} s over {} runs",
        secs(best),
        secs(median),
        sorted.len()
    );
    match peak_rss_kib() {
        Some(kib) => {
            println!("peak RSS (VmHWM): {:.1} MiB", kib as f64 / 1024.0);
            let met = secs(median) < 30.0 && kib * 1024 < 2_000_000_000;
            println!(
                "goal (median < 30 s, peak RSS < 2 GB): {}",
                if met { "met" } else { "NOT met" }
            );
        }
        None => println!("peak RSS: /proc/self/status unavailable"),
    }
}
