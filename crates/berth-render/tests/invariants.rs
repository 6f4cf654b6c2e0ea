//! Properties every rendered Application keeps, whatever the spec.

use berth_manifest::quantity::Quantity;
use berth_model::{Application, ApplicationSpec, Port, Protocol, Resources, Shutdown, Tier};
use berth_render::{Manifest, render};
use proptest::prelude::*;

fn app(
    name: &str,
    tier: Tier,
    ports: usize,
    min: i32,
    extra: i32,
    target: Option<i32>,
    sh: Shutdown,
) -> Application {
    let mut spec: ApplicationSpec = serde_json::from_value(serde_json::json!({
        "image": "registry.example.com/team/app",
        "version": "1.0.0",
        "tier": tier,
        "productLine": "shop",
        "owner": "team",
        "resources": {"cpu": "1500m", "memory": "3Gi"},
    }))
    .expect("base spec decodes");
    spec.ports = (0..ports)
        .map(|i| Port {
            name: format!("p{i}"),
            port: 8000 + i as i32,
            protocol: Protocol::TCP,
        })
        .collect();
    spec.resources = Resources {
        cpu: "1500m".into(),
        memory: "3Gi".into(),
        request_ratio: None,
        scratch: None,
    };
    spec.scaling.min_replicas = Some(min);
    spec.scaling.max_replicas = Some(min + extra);
    spec.scaling.target_cpu_utilization = target;
    spec.shutdown = sh;
    Application::new(name, spec)
}

/// Allowed disruptions with every pod healthy, computed as the disruption controller does
/// (pkg/controller/disruption/disruption.go, getExpectedPodCount + GetScaledValueFromIntOrPercent
/// with roundUp=true for both fields).
fn allowed_disruptions(pdb: &k8s_openapi::api::policy::v1::PodDisruptionBudget, n: i32) -> i32 {
    use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
    let scaled = |v: &IntOrString| match v {
        IntOrString::Int(i) => *i,
        IntOrString::String(s) => {
            let p: i32 = s.trim_end_matches('%').parse().expect("percent");
            (p * n + 99) / 100
        }
    };
    let spec = pdb.spec.as_ref().expect("spec");
    let desired_healthy = match (&spec.min_available, &spec.max_unavailable) {
        (Some(m), _) => scaled(m),
        (None, Some(u)) => n - scaled(u),
        (None, None) => n,
    };
    (n - desired_healthy).max(0)
}

fn tier() -> impl Strategy<Value = Tier> {
    prop_oneof![Just(Tier::Core), Just(Tier::Standard), Just(Tier::Batch)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Deterministic: the same cases on every run and machine.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0062_6572_7468),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn budget_never_blocks_a_drain_and_grace_outlasts_shutdown(
        tier in tier(),
        ports in 0usize..3,
        min_extra in 0i32..6,
        extra in 0i32..40,
        target in proptest::option::of(50i32..95),
        drain in 0i32..60,
        wait in any::<bool>(),
        conn in 0i32..120,
        stop in 0i32..120,
        long_name in any::<bool>(),
    ) {
        let min = tier.policy().min_replicas_floor + min_extra;
        let sh = Shutdown { drain_seconds: drain, wait_for_connections: wait && ports > 0, connection_timeout_seconds: conn, app_stop_seconds: stop };
        let name = if long_name { "a".repeat(berth_model::MAX_APP_NAME) } else { "app".to_string() };
        let a = app(&name, tier, ports, min, extra, target, sh.clone());
        let objects = render(&a, None).expect("valid specs render");
        let pdb = objects.iter().find_map(|o| match o { Manifest::PodDisruptionBudget(p) => Some(p), _ => None }).expect("a PDB");
        for n in min..=min + extra {
            prop_assert!(allowed_disruptions(pdb, n) >= 1, "no disruption allowed at {n} replicas: {:?}", pdb.spec);
        }
        let dep = objects.iter().find_map(|o| match o { Manifest::Deployment(d) => Some(d), _ => None }).expect("a Deployment");
        let spec = dep.spec.as_ref().expect("spec");
        prop_assert!(spec.replicas.is_none(), "the HPA owns the replica count");
        let pod = spec.template.spec.as_ref().expect("pod spec");
        let prestop = i64::from(sh.drain_seconds) + if sh.wait_for_connections { i64::from(sh.connection_timeout_seconds) } else { 0 };
        let grace = pod.termination_grace_period_seconds.expect("grace set");
        prop_assert!(grace > prestop + i64::from(sh.app_stop_seconds));
        let res = pod.containers[0].resources.as_ref().expect("resources");
        let (req, lim) = (res.requests.as_ref().expect("requests"), res.limits.as_ref().expect("limits"));
        for r in ["cpu", "memory"] {
            let rq = Quantity::parse(&req[r].0).expect("request parses");
            let lq = Quantity::parse(&lim[r].0).expect("limit parses");
            if tier == Tier::Core { prop_assert_eq!(rq, lq); } else { prop_assert!(rq < lq); }
        }
        for o in &objects {
            let json = o.to_json().expect("json");
            let name = json["metadata"]["name"].as_str().expect("named");
            prop_assert!(name.len() <= 63);
        }
    }
}

const SPEC: &str = include_str!("../../../examples/order-api.yaml");

fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("".to_string()),
        Just("null".to_string()),
        Just("~".to_string()),
        Just("-1".to_string()),
        Just("0".to_string()),
        Just("99999999999999999999".to_string()),
        Just("1e400".to_string()),
        Just("[a, b]".to_string()),
        Just("{a: 1}".to_string()),
        Just("'unterminated".to_string()),
        Just("*alias".to_string()),
        Just("&anchor x".to_string()),
        Just("{{ .Values.x }}".to_string()),
        Just("0.0001".to_string()),
        Just("\u{0}".to_string()),
        "[a-zA-Z0-9:/._-]{0,12}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 512,
        // Deterministic: the same cases on every run and machine.
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0062_6572_7468),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// Whatever a user writes into any field, berth answers with diagnostics or manifests,
    /// never a panic; and whatever loads without errors renders.
    #[test]
    fn any_edit_of_a_spec_gives_diagnostics_or_manifests_never_a_panic(
        line in 0usize..80,
        tok in token(),
        replace_key in any::<bool>(),
    ) {
        let lines: Vec<&str> = SPEC.lines().collect();
        let idx = line % lines.len();
        let edited: Vec<String> = lines.iter().enumerate().map(|(i, l)| {
            if i != idx { return l.to_string(); }
            match l.split_once(':') {
                Some((k, _)) if !replace_key => format!("{k}: {tok}"),
                Some((k, v)) => format!("{}{tok}:{v}", &k[..k.len() - k.trim_start().len()]),
                None => format!("{l}{tok}"),
            }
        }).collect();
        let text = edited.join("\n");
        let (apps, diags) = berth_model::load_applications("fuzz.yaml", &text);
        for d in &diags {
            prop_assert!(!d.message.is_empty());
            prop_assert!(d.pos.line >= 1);
        }
        for a in &apps {
            match render(a, None) {
                Ok(objs) => { berth_render::to_yaml(&objs).expect("serializes"); }
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }
    }

    #[test]
    fn arbitrary_text_never_panics_the_loader(text in "\\PC{0,200}") {
        let _ = berth_model::load_applications("fuzz.yaml", &text);
    }
}
