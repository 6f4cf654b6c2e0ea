//! The Application reconciler against the fake API server: what it applies, when it
//! creates a Release, and what it refuses to touch.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;
use crate::metrics::Metrics;
use crate::test_api::{Seen, Shared, Store, fake_client};
use kube::runtime::events::{Recorder, Reporter};

const NS: &str = "shop";
const APPS: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/applications";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/shop/deployments";
const RELEASES: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/releases";
/// 2026-11-24T14:00:00Z.
const T0: Millis = 1_795_528_800_000;

fn app(version: &str, canary: bool) -> Value {
    let mut a = json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": NS, "generation": 3},
        "spec": {
            "image": "registry.example.com/shop/web",
            "version": version,
            "tier": "standard",
            "productLine": "shop",
            "owner": "team-storefront",
            "ports": [{"name": "http", "port": 8080}],
            "resources": {"cpu": "500m", "memory": "256Mi"},
            "scaling": {"minReplicas": 8, "maxReplicas": 32},
            "expose": {"host": "shop.example.com"},
            "release": {"groups": 4, "gate": {"interval": "10m"}}
        }
    });
    if canary {
        a["spec"]["release"]["canary"] = json!({"cookie": "canary"});
    }
    a
}

/// Version `v` of the app's Deployment as `berth render` writes it, with `replicas`.
fn deployment(v: &str, replicas: i32) -> Value {
    let a: Application = serde_json::from_value(app(v, false)).expect("app");
    let d = berth_render::render(&a, None)
        .expect("renders")
        .into_iter()
        .find(|m| m.kind() == "Deployment")
        .expect("a Deployment");
    let mut d = d.to_json().expect("json");
    d["spec"]["replicas"] = replicas.into();
    d
}

fn world(app: Value, deployments: &[Value], releases: &[Value]) -> Shared {
    let mut s = Store::default();
    s.objects.insert(format!("{APPS}/web"), app);
    for d in deployments {
        let name = d["metadata"]["name"].as_str().expect("name");
        s.objects.insert(format!("{DEPLOYMENTS}/{name}"), d.clone());
    }
    for r in releases {
        let name = r["metadata"]["name"].as_str().expect("name");
        s.objects.insert(format!("{RELEASES}/{name}"), r.clone());
    }
    Arc::new(Mutex::new(s))
}

async fn run(store: &Shared) -> Vec<Seen> {
    let client = fake_client(store.clone(), NS);
    let ctx = Arc::new(Context {
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "berth-operator".into(),
                instance: None,
            },
        ),
        cluster: crate::cluster::Cluster::new(client),
        clock: Arc::new(|| T0),
        metrics: Arc::new(Metrics::default()),
        prometheus: "http://127.0.0.1:1".into(),
    });
    let a: Arc<Application> = Arc::new(
        serde_json::from_value(store.lock().expect("lock").objects[&format!("{APPS}/web")].clone())
            .expect("an Application"),
    );
    reconcile(a, ctx).await.expect("reconciled");
    std::mem::take(&mut store.lock().expect("lock").seen)
}

fn writes(seen: &[Seen]) -> Vec<String> {
    seen.iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect()
}

fn app_status(seen: &[Seen]) -> &Value {
    &seen
        .iter()
        .find(|r| r.path == format!("{APPS}/web/status"))
        .expect("status written")
        .body["status"]
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .expect("conditions")
        .iter()
        .find(|c| c["type"] == type_)
        .expect("condition")
}

fn release(name: &str, version: &str, phase: Option<&str>) -> Value {
    let mut r = json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "Release",
        "metadata": {"name": name, "namespace": NS},
        "spec": {"apps": ["web"], "version": version},
    });
    if let Some(p) = phase {
        r["status"] = json!({"phase": p, "group": 2});
    }
    r
}

#[tokio::test]
async fn a_new_application_gets_everything_render_writes_applied_as_berth() {
    let store = world(app("1.0.0", false), &[], &[]);
    let seen = run(&store).await;
    assert_eq!(
        writes(&seen),
        [
            "PATCH /api/v1/namespaces/shop/serviceaccounts/web",
            "PATCH /api/v1/namespaces/shop/services/web",
            "PATCH /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/web",
            "PATCH /apis/networking.k8s.io/v1/namespaces/shop/ingresses/web",
            "PATCH /apis/apps/v1/namespaces/shop/deployments/web-1-0-0",
            "PATCH /apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers/web-1-0-0",
            "PATCH /apis/policy/v1/namespaces/shop/poddisruptionbudgets/web-1-0-0",
            "PATCH /apis/berth.dev/v1alpha1/namespaces/shop/applications/web/status",
        ]
    );
    for r in seen.iter().filter(|r| r.method == "PATCH") {
        assert_eq!(r.content_type, "application/apply-patch+yaml", "{r:?}");
        assert!(r.query.contains("fieldManager=berth"), "{r:?}");
    }
    // The Deployment carries no replica count: the autoscaler owns it.
    let d = seen
        .iter()
        .find(|r| r.path.ends_with("deployments/web-1-0-0"))
        .expect("applied");
    assert!(d.body["spec"].get("replicas").is_none());
    let st = app_status(&seen);
    assert_eq!(st["currentVersion"], "1.0.0");
    assert_eq!(st["observedGeneration"], 3);
    assert_eq!(condition(st, "UpToDate")["status"], "True");
    assert_eq!(condition(st, "Applied")["status"], "True");
}

#[tokio::test]
async fn a_new_version_creates_a_release_and_leaves_the_running_deployment_alone() {
    let store = world(app("2.0.0", false), &[deployment("1.0.0", 8)], &[]);
    let seen = run(&store).await;
    let w = writes(&seen);
    assert!(
        !w.iter().any(|p| p.contains("/deployments/")),
        "no Deployment touched: {w:?}"
    );
    let post = seen
        .iter()
        .find(|r| r.method == "POST" && r.path == RELEASES)
        .expect("a Release created");
    assert_eq!(post.body["metadata"]["name"], "web-2-0-0");
    assert_eq!(
        post.body["spec"],
        json!({"apps": ["web"], "version": "2.0.0", "paused": false, "rollback": false})
    );
    let st = app_status(&seen);
    assert_eq!(st["currentVersion"], "1.0.0");
    let c = condition(st, "UpToDate");
    assert_eq!(
        (&c["status"], &c["reason"]),
        (&json!("False"), &json!("Releasing"))
    );
    assert_eq!(c["message"], "started release web-2-0-0: 1.0.0 → 2.0.0");
    assert!(
        seen.iter()
            .any(|r| r.method == "POST" && r.body["reason"] == "Releasing"),
        "an Event"
    );
}

#[tokio::test]
async fn while_a_release_runs_nothing_of_a_version_is_applied_nor_a_second_release_created() {
    let store = world(
        app("3.0.0", true),
        &[deployment("1.0.0", 6), deployment("2.0.0", 2)],
        &[release("web-2-0-0", "2.0.0", Some("WaitingForGate"))],
    );
    let seen = run(&store).await;
    let w = writes(&seen);
    assert_eq!(
        w,
        [
            "PATCH /api/v1/namespaces/shop/serviceaccounts/web",
            "PATCH /api/v1/namespaces/shop/services/web",
            "PATCH /apis/networking.k8s.io/v1/namespaces/shop/networkpolicies/web",
            // No Ingress: the release routes canary traffic through it.
            "PATCH /apis/berth.dev/v1alpha1/namespaces/shop/applications/web/status",
        ]
    );
    let c = condition(app_status(&seen), "UpToDate");
    assert_eq!(
        c["message"],
        "release web-2-0-0 moves the app to version 2.0.0"
    );
}

#[tokio::test]
async fn a_rolled_back_version_is_not_released_again_by_itself() {
    let store = world(
        app("2.0.0", false),
        &[deployment("1.0.0", 8), deployment("2.0.0", 0)],
        &[release("web-2-0-0", "2.0.0", Some("RolledBack"))],
    );
    let seen = run(&store).await;
    assert!(
        !seen
            .iter()
            .any(|r| r.path == RELEASES && r.method == "POST")
    );
    let c = condition(app_status(&seen), "UpToDate");
    assert_eq!(c["reason"], "ReleaseEnded");
    assert_eq!(
        c["message"],
        "release web-2-0-0 of version 2.0.0 ended (RolledBack); set spec.version back to 1.0.0, or delete release web-2-0-0 to try again"
    );
}

#[tokio::test]
async fn a_change_within_the_running_version_is_applied_to_its_deployment() {
    let mut changed = app("1.0.0", false);
    changed["spec"]["resources"]["memory"] = json!("512Mi");
    let store = world(changed, &[deployment("1.0.0", 8)], &[]);
    let seen = run(&store).await;
    let d = seen
        .iter()
        .find(|r| r.method == "PATCH" && r.path == format!("{DEPLOYMENTS}/web-1-0-0"))
        .expect("the running Deployment applied");
    assert_eq!(
        d.body["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["memory"],
        "512Mi"
    );
    assert!(
        !seen
            .iter()
            .any(|r| r.path == RELEASES && r.method == "POST")
    );
}

#[tokio::test]
async fn a_spec_that_does_not_render_is_reported_and_nothing_is_applied() {
    let mut bad = app("1.0.0", false);
    // Validation refuses canary routing without exposure.
    bad["spec"]["release"]["canary"] = json!({"cookie": "c"});
    bad["spec"].as_object_mut().expect("spec").remove("expose");
    let store = world(bad, &[deployment("1.0.0", 8)], &[]);
    let seen = run(&store).await;
    assert_eq!(
        writes(&seen),
        [
            "PATCH /apis/berth.dev/v1alpha1/namespaces/shop/applications/web/status",
            "POST /apis/events.k8s.io/v1/namespaces/shop/events",
        ]
    );
    let c = condition(app_status(&seen), "Applied");
    assert_eq!(c["reason"], "InvalidSpec");
    assert!(
        c["message"]
            .as_str()
            .expect("message")
            .contains("spec.release.canary"),
        "{c}"
    );
}

#[tokio::test]
async fn a_release_started_by_hand_is_not_undone_until_spec_version_changes() {
    // The controller acted on 1.0.0; a hand-started release then moved the app to 2.0.0.
    let mut a = app("1.0.0", false);
    a["status"] = json!({"currentVersion": "1.0.0", "actedVersion": "1.0.0"});
    let store = world(
        a,
        &[deployment("1.0.0", 0), deployment("2.0.0", 8)],
        &[release("web-2-0-0", "2.0.0", Some("Succeeded"))],
    );
    let seen = run(&store).await;
    assert!(
        !seen
            .iter()
            .any(|r| r.path == RELEASES && r.method == "POST")
    );
    let st = app_status(&seen);
    assert_eq!(st["currentVersion"], "2.0.0");
    let c = condition(st, "UpToDate");
    assert_eq!(c["reason"], "Diverged");
    assert_eq!(
        c["message"],
        "version 2.0.0 runs, released outside spec.version (1.0.0): set spec.version to 2.0.0 to keep it, or start a release of 1.0.0"
    );

    // The spec now names 3.0.0: that is a request, and it is released.
    let mut a = app("3.0.0", false);
    a["status"] = json!({"currentVersion": "2.0.0", "actedVersion": "1.0.0"});
    let store = world(
        a,
        &[deployment("1.0.0", 0), deployment("2.0.0", 8)],
        &[release("web-2-0-0", "2.0.0", Some("Succeeded"))],
    );
    let seen = run(&store).await;
    let post = seen
        .iter()
        .find(|r| r.path == RELEASES && r.method == "POST")
        .expect("released");
    assert_eq!(post.body["spec"]["version"], "3.0.0");
    assert_eq!(app_status(&seen)["actedVersion"], "3.0.0");
}

#[tokio::test]
async fn what_berth_no_longer_renders_is_deleted_and_nothing_else() {
    // `expose` was removed; a release left a canary Ingress; version 0.9.0 is gone but its
    // Service stayed; a Service someone made by hand carries the app label only.
    let mut a = app("1.0.0", false);
    a["spec"].as_object_mut().expect("spec").remove("expose");
    let store = world(a, &[deployment("1.0.0", 8)], &[]);
    let owned = json!({"berth.dev/app": "web", "app.kubernetes.io/managed-by": "berth"});
    {
        let mut s = store.lock().expect("lock");
        for (path, name, labels) in [
            (
                "apis/networking.k8s.io/v1/namespaces/shop/ingresses",
                "web",
                &owned,
            ),
            (
                "apis/networking.k8s.io/v1/namespaces/shop/ingresses",
                "web-canary",
                &owned,
            ),
            ("api/v1/namespaces/shop/services", "web-0-9-0", &owned),
            ("api/v1/namespaces/shop/services", "web-1-0-0", &owned),
            (
                "api/v1/namespaces/shop/services",
                "web-debug",
                &json!({"berth.dev/app": "web"}),
            ),
        ] {
            s.objects.insert(
                format!("/{path}/{name}"),
                json!({"metadata": {"name": name, "namespace": NS, "labels": labels}}),
            );
        }
    }
    let seen = run(&store).await;
    let mut deleted: Vec<&str> = seen
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.as_str())
        .collect();
    deleted.sort_unstable();
    assert_eq!(
        deleted,
        [
            "/api/v1/namespaces/shop/services/web-0-9-0",
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web",
            "/apis/networking.k8s.io/v1/namespaces/shop/ingresses/web-canary",
        ]
    );
}
