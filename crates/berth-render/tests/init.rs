//! Applications that opt in to berth-init: the command runs under it as PID 1, its drain
//! comes from the shutdown block through the environment, and no preStop hook doubles it.

use berth_model::{Severity, load_applications};
use serde_json::Value;

const APP: &str = "apiVersion: berth.dev/v1alpha1
kind: Application
metadata: {name: api, namespace: shop}
spec:
  image: registry.example.com/shop/api:1.0.0
  tier: core
  productLine: shop
  owner: team-api
  command: [/app/api, --serve]
  ports: [{name: http, port: 8080}, {name: grpc, port: 9090}]
  resources: {cpu: \"1\", memory: 1Gi}
  shutdown: {drainSeconds: 10, waitForConnections: true, connectionTimeoutSeconds: 20, appStopSeconds: 5}
  init:
    image: registry.example.com/berth/berth-init:0.1.0
    waitFor: [\"tcp://identity.auth:443\", \"http://config.shop:8080/healthz\"]
    start: [[/app/api, migrate, --to, latest]]
    restartLimit: 3
    metricsPort: 9102
";

fn deployment(text: &str) -> Value {
    let (apps, diags) = load_applications("api.yaml", text);
    assert!(
        diags.iter().all(|d| d.severity != Severity::Error),
        "{diags:#?}"
    );
    berth_render::render(&apps[0], None)
        .expect("renders")
        .into_iter()
        .find(|m| m.kind() == "Deployment")
        .expect("a Deployment")
        .to_json()
        .expect("json")
}

fn env(container: &Value, name: &str) -> Option<String> {
    container["env"]
        .as_array()?
        .iter()
        .find(|e| e["name"] == name)
        .and_then(|e| e["value"].as_str().map(str::to_string))
}

#[test]
fn the_command_runs_under_berth_init_as_pid_1_without_a_pre_stop_hook() {
    let d = deployment(APP);
    let pod = &d["spec"]["template"]["spec"];
    let c = &pod["containers"][0];
    assert_eq!(
        c["command"],
        serde_json::json!(["/berth/bin/berth-init", "--", "/app/api", "--serve"])
    );
    assert!(
        c.get("lifecycle").is_none(),
        "berth-init drains; a preStop would add a delay"
    );
    // The drain of the shutdown block: delay, then connections on the TCP ports, then stop.
    assert_eq!(env(c, "BERTH_INIT_DRAIN_DELAY").as_deref(), Some("10s"));
    assert_eq!(env(c, "BERTH_INIT_DRAIN_TIMEOUT").as_deref(), Some("25s"));
    assert_eq!(
        env(c, "BERTH_INIT_DRAIN_PORTS").as_deref(),
        Some("8080,9090")
    );
    assert_eq!(
        env(c, "BERTH_INIT_WAIT_FOR").as_deref(),
        Some("tcp://identity.auth:443,http://config.shop:8080/healthz")
    );
    assert_eq!(
        env(c, "BERTH_INIT_START").as_deref(),
        Some(r#"["/app/api","migrate","--to","latest"]"#)
    );
    assert_eq!(env(c, "BERTH_INIT_RESTART_LIMIT").as_deref(), Some("3"));
    assert_eq!(env(c, "BERTH_INIT_HTTP_LISTEN").as_deref(), Some("9102"));
    assert!(
        c["ports"]
            .as_array()
            .expect("ports")
            .iter()
            .any(|p| p["name"] == "berth-init" && p["containerPort"] == 9102)
    );
    // The binary arrives through an init container and a memory-backed volume.
    let install = &pod["initContainers"][0];
    assert_eq!(
        install["image"],
        "registry.example.com/berth/berth-init:0.1.0"
    );
    assert_eq!(
        install["command"],
        serde_json::json!(["cp", "/berth-init", "/berth/bin/berth-init"])
    );
    // Core tier: Guaranteed, so the copy's requests equal its limits too.
    assert_eq!(
        install["resources"]["requests"],
        install["resources"]["limits"]
    );
    assert!(
        pod["volumes"]
            .as_array()
            .expect("volumes")
            .iter()
            .any(|v| v["name"] == "berth-init" && v["emptyDir"]["medium"] == "Memory")
    );
    // The grace period still covers the whole drain: 10 + 20 + 5 + margin.
    let grace = pod["terminationGracePeriodSeconds"]
        .as_i64()
        .expect("grace");
    assert!(grace >= 35, "{grace}");
}

#[test]
fn berth_init_settings_are_checked() {
    let cases = [
        (
            APP.replace("  command: [/app/api, --serve]\n", ""),
            "spec.init",
            "give `command:`",
        ),
        (
            APP.replace("tcp://identity.auth:443", "identity.auth:443"),
            "spec.init.waitFor[0]",
            "tcp://host:port",
        ),
        (
            APP.replace("metricsPort: 9102", "metricsPort: 9090"),
            "spec.init.metricsPort",
            "choose a port",
        ),
        (
            APP.replace("start: [[/app/api, migrate, --to, latest]]", "start: [[]]"),
            "spec.init.start[0]",
            "give the program",
        ),
    ];
    for (text, path, fix) in cases {
        let (_, diags) = load_applications("api.yaml", &text);
        let d = diags
            .iter()
            .find(|d| d.path == path)
            .unwrap_or_else(|| panic!("{path}: {diags:#?}"));
        assert_eq!(d.severity, Severity::Error);
        assert!(d.fix.as_deref().unwrap_or("").contains(fix), "{path}: {d}");
    }
}
