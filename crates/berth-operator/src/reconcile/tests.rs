//! The reconciler against kube's mocked service, through the fake API server of
//! [`crate::test_api`], which records every request so that tests assert exactly what the
//! operator sent.

use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::*;
use crate::release_crd::ReleaseSpec;
use crate::test_api::{Seen, Shared, Store, fake_client};
use berth_release::{Gate, Request};

const NS: &str = "shop";
const APPS: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/applications";
const DEPLOYMENTS: &str = "/apis/apps/v1/namespaces/shop/deployments";
const HPAS: &str = "/apis/autoscaling/v2/namespaces/shop/horizontalpodautoscalers";
const RELEASES: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/releases";
const EVENTS: &str = "/apis/events.k8s.io/v1/namespaces/shop/events";
const SERVICES: &str = "/api/v1/namespaces/shop/services";
const PDBS: &str = "/apis/policy/v1/namespaces/shop/poddisruptionbudgets";
const INGRESSES: &str = "/apis/networking.k8s.io/v1/namespaces/shop/ingresses";
/// 2026-11-24T14:00:00Z.
const T0: Millis = 1_795_528_800_000;

fn context(store: &Shared, now: Millis) -> Arc<Context> {
    context_with(store, now, "http://127.0.0.1:1")
}

fn context_with(store: &Shared, now: Millis, prometheus: &str) -> Arc<Context> {
    let client = fake_client(store.clone(), NS);
    Arc::new(Context {
        recorder: Recorder::new(
            client.clone(),
            Reporter {
                controller: "berth-operator".into(),
                instance: None,
            },
        ),
        cluster: Cluster::new(client),
        clock: Arc::new(move || now),
        metrics: Arc::default(),
        prometheus: prometheus.to_string(),
    })
}

/// A Prometheus stand-in on loopback answering every query with one sample (the real one
/// is exercised in tests/prometheus.rs).
fn prometheus_answering(value: &str) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let body = format!(
        r#"{{"status":"success","data":{{"resultType":"vector","result":[{{"metric":{{}},"value":[1795528800,"{value}"]}}]}}}}"#
    );
    std::thread::spawn(move || {
        use std::io::{Read, Write};
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

async fn run_with(store: &Shared, now: Millis, prometheus: &str) {
    reconcile(stored_release(store), context_with(store, now, prometheus))
        .await
        .expect("reconcile succeeds");
}

#[tokio::test]
async fn a_metric_gate_opens_on_a_passing_sample_and_stops_the_release_on_a_failing_one() {
    for (sample, group, phase) in [("0.01", 2, "Progressing"), ("0.3", 1, "Stalled")] {
        let gate = json!({"metric": {"query": "sum(rate(errors[5m]))", "threshold": 0.05}});
        let store = world(release(spec(gate), None), &[deployment("1.0.0", 8, 8)]);
        let unreachable = "http://127.0.0.1:1";
        // Through group 1 to its gate; Prometheus unreachable meanwhile keeps it closed.
        for t in [0, 30_000, 60_000, 61_000, 62_000] {
            run_with(&store, T0 + t, unreachable).await;
            settle(&store);
        }
        let waiting = stored_release(&store);
        let st = waiting.status.as_ref().expect("status");
        assert_eq!(st.phase.map(|p| p.as_str()), Some("WaitingForGate"));
        let prometheus = prometheus_answering(sample);
        run_with(&store, T0 + 63_000, &prometheus).await;
        let r = stored_release(&store);
        let st = r.status.as_ref().expect("status");
        assert_eq!(st.group, group, "sample {sample}");
        assert_eq!(st.phase.map(|p| p.as_str()), Some(phase), "sample {sample}");
    }
}

fn application() -> Application {
    serde_json::from_value(json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "Application",
        "metadata": {"name": "web", "namespace": NS},
        "spec": {
            "image": "registry.example.com/shop/web",
            "version": "1.0.0",
            "tier": "standard",
            "productLine": "shop",
            "owner": "team-storefront",
            "ports": [{"name": "http", "port": 8080}],
            "resources": {"cpu": "500m", "memory": "256Mi"},
            "scaling": {"minReplicas": 8, "maxReplicas": 32},
            "release": {"groups": 4, "gate": {"interval": "10m"}}
        }
    }))
    .expect("valid Application")
}

/// A version's Deployment as `berth render` writes it, with `replicas` asked for and
/// `ready` of them ready.
fn deployment(version: &str, replicas: i32, ready: i32) -> Value {
    let rendered = berth_render::render(&application(), Some(version)).expect("renders");
    let mut d = rendered
        .iter()
        .find(|m| m.kind() == "Deployment")
        .expect("a Deployment")
        .to_json()
        .expect("json");
    d["spec"]["replicas"] = replicas.into();
    d["status"] = json!({"replicas": replicas, "readyReplicas": ready});
    d
}

fn release(spec: Value, status: Option<Value>) -> Value {
    let mut r = json!({
        "apiVersion": "berth.dev/v1alpha1",
        "kind": "Release",
        "metadata": {"name": "web-2", "namespace": NS, "generation": 1},
        "spec": spec,
    });
    if let Some(s) = status {
        r["status"] = s;
    }
    r
}

fn world(release: Value, deployments: &[Value]) -> Shared {
    let mut s = Store::default();
    let app = serde_json::to_value(application()).expect("json");
    s.objects.insert(format!("{APPS}/web"), app);
    for d in deployments {
        let name = d["metadata"]["name"].as_str().expect("name");
        s.objects.insert(format!("{DEPLOYMENTS}/{name}"), d.clone());
    }
    s.objects.insert(format!("{RELEASES}/web-2"), release);
    Arc::new(Mutex::new(s))
}

/// The Release as the fake server now holds it.
fn stored_release(store: &Shared) -> Arc<Release> {
    let s = store.lock().expect("lock");
    Arc::new(
        serde_json::from_value(s.objects[&format!("{RELEASES}/web-2")].clone()).expect("a Release"),
    )
}

/// What the Deployment controller and kubelets would do given time: every Deployment
/// runs, ready, exactly the replicas it asks for.
fn settle(store: &Shared) {
    let mut s = store.lock().expect("lock");
    for (k, o) in s.objects.iter_mut() {
        if k.starts_with(DEPLOYMENTS) {
            let n = o["spec"]["replicas"].clone();
            o["status"] = json!({"replicas": n, "readyReplicas": n});
        }
    }
}

fn take_seen(store: &Shared) -> Vec<Seen> {
    std::mem::take(&mut store.lock().expect("lock").seen)
}

fn patches_to<'a>(seen: &'a [Seen], path: &str) -> Vec<&'a Seen> {
    seen.iter()
        .filter(|r| r.method == "PATCH" && r.path == path)
        .collect()
}

fn query_pairs(q: &str) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (k.to_string(), v.to_string())
        })
        .collect();
    v.sort();
    v
}

fn assert_apply(r: &Seen, manager: &str) {
    assert_eq!(r.content_type, "application/apply-patch+yaml", "{r:?}");
    assert_eq!(
        query_pairs(&r.query),
        [
            ("fieldManager".to_string(), manager.to_string()),
            ("force".to_string(), "true".to_string())
        ],
        "{r:?}"
    );
}

async fn run(store: &Shared, now: Millis) -> Action {
    let ctx = context(store, now);
    reconcile(stored_release(store), ctx)
        .await
        .expect("reconcile succeeds")
}

fn spec(gate: Value) -> Value {
    json!({"apps": ["web"], "version": "2.0.0", "groups": 4, "gate": gate})
}

#[tokio::test]
async fn first_reconcile_creates_the_new_deployment_at_zero_by_server_side_apply() {
    let store = world(
        release(spec(json!({"interval": "10m"})), None),
        &[deployment("1.0.0", 8, 8)],
    );
    let action = run(&store, T0).await;
    let seen = take_seen(&store);
    let order: Vec<String> = seen
        .iter()
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        order,
        [
            // The Release itself, from the API server rather than the watch cache.
            format!("GET {RELEASES}/web-2"),
            // Other Releases of the namespace: none holds the app.
            format!("GET {RELEASES}"),
            format!("GET {APPS}/web"),
            format!("GET {DEPLOYMENTS}"),
            // Terminating pods still count (the Deployment status may not say).
            "GET /api/v1/namespaces/shop/pods".to_string(),
            // Created at zero as `berth`, with its autoscaler and disruption budget.
            format!("PATCH {DEPLOYMENTS}/web-2-0-0"),
            format!("PATCH {HPAS}/web-2-0-0"),
            format!("PATCH {PDBS}/web-2-0-0"),
            // The finalizer: deleting the Release from now on rolls it back first.
            format!("PATCH {RELEASES}/web-2"),
            // The status (with the totals) before any count moves.
            format!("PATCH {RELEASES}/web-2/status"),
            // Autoscalers pinned, then the new version grown to group 1's share, as
            // `berth-release`.
            format!("PATCH {HPAS}/web-2-0-0"),
            format!("PATCH {HPAS}/web-1-0-0"),
            format!("PATCH {DEPLOYMENTS}/web-2-0-0"),
            format!("POST {EVENTS}"),
        ]
    );
    assert_eq!(seen[3].query, "&labelSelector=berth.dev%2Fapp%3Dweb");

    let create = &seen[5];
    assert_apply(create, "berth");
    // Exactly as kube-core's `PatchParams` writes it (it starts every query with `&`).
    assert_eq!(create.query, "&force=true&fieldManager=berth");
    assert_eq!(create.body["apiVersion"], "apps/v1");
    assert_eq!(create.body["kind"], "Deployment");
    assert_eq!(create.body["spec"]["replicas"], 0);
    assert_eq!(
        create.body["spec"]["template"]["metadata"]["labels"]["berth.dev/version"],
        "2-0-0"
    );
    assert_eq!(
        create.body["spec"]["template"]["spec"]["containers"][0]["image"],
        "registry.example.com/shop/web:2.0.0"
    );
    assert_apply(&seen[6], "berth");
    assert_eq!(seen[6].body["kind"], "HorizontalPodAutoscaler");
    assert_apply(&seen[7], "berth");
    assert_eq!(seen[7].body["kind"], "PodDisruptionBudget");

    // Each autoscaler pinned to its version's count so it cannot undo the group.
    assert_apply(&seen[10], "berth-release");
    assert_eq!(
        seen[10].body["spec"],
        json!({"minReplicas": 2, "maxReplicas": 2})
    );
    assert_eq!(
        seen[11].body["spec"],
        json!({"minReplicas": 8, "maxReplicas": 8})
    );
    // Group 1 of 4 of 8 replicas: ceil(8·1/4) = 2 new pods, the old 8 untouched (surge-first).
    let grow = &seen[12];
    assert_apply(grow, "berth-release");
    assert_eq!(grow.body["spec"], json!({"replicas": 2}));

    assert_apply(&seen[8], "berth");
    assert_eq!(
        seen[8].body["metadata"],
        json!({"name": "web-2", "finalizers": ["berth.dev/release"]})
    );
    let status = &seen[9];
    assert_apply(status, "berth");
    assert_eq!(status.body["kind"], "Release");
    assert_eq!(status.body["status"]["phase"], "Progressing");
    assert_eq!(status.body["status"]["group"], 1);
    assert_eq!(status.body["status"]["stage"], "Surge");
    assert_eq!(status.body["status"]["totals"], json!([8]));
    assert_eq!(
        status.body["status"]["groups"][0]["started"],
        "2026-11-24T14:00:00Z"
    );
    assert_eq!(
        status.body["status"]["deployments"],
        json!([{"app": "web", "old": "web-1-0-0", "new": "web-2-0-0"}])
    );
    assert_eq!(status.body["status"]["observedGeneration"], 1);

    let event = &seen[13];
    assert_eq!(event.body["reason"], "Progressing");
    assert_eq!(event.body["regarding"]["kind"], "Release");
    assert!(
        event.body["note"]
            .as_str()
            .is_some_and(|n| n.contains("web surges to 2 new pods")),
        "{:?}",
        event.body["note"]
    );
    assert_eq!(action, Action::requeue(Duration::from_secs(5)));
}

#[tokio::test]
async fn ready_new_pods_shrink_the_old_version_by_the_share_then_the_next_group_starts() {
    // No gate: group 2 may start as soon as group 1 is done.
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    run(&store, T0).await;
    settle(&store);
    take_seen(&store);

    // The 2 new pods are ready: the old version gives up the same 2.
    run(&store, T0 + 30_000).await;
    let seen = take_seen(&store);
    let old = patches_to(&seen, &format!("{DEPLOYMENTS}/web-1-0-0"));
    assert_eq!(old.len(), 1, "{seen:?}");
    assert_apply(old[0], "berth-release");
    assert_eq!(old[0].body["spec"], json!({"replicas": 6}));
    assert!(patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0")).is_empty());
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(status.len(), 1);
    assert_eq!(status[0].body["status"]["stage"], "Shrink");

    // The old pods are gone: group 1 is done, and (no gate) group 2 starts on the next pass.
    settle(&store);
    run(&store, T0 + 60_000).await;
    run(&store, T0 + 61_000).await;
    let seen = take_seen(&store);
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    let last = &status.last().expect("status written").body["status"];
    assert_apply(status[0], "berth");
    assert_eq!(last["group"], 2);
    assert_eq!(last["stage"], "Surge");
    assert_eq!(last["groups"][0]["ready"], "2026-11-24T14:01:00Z");
    assert_eq!(last["groups"][1]["started"], "2026-11-24T14:01:01Z");
    let grow = patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0"));
    assert_eq!(
        grow.last().expect("grown").body["spec"],
        json!({"replicas": 4})
    );
}

#[tokio::test]
async fn rollback_brings_the_old_version_back_to_full_before_the_new_one_leaves() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    // Through group 1 and into group 2's surge: old 6, new 4.
    for t in [0, 30_000, 60_000, 61_000] {
        run(&store, T0 + t).await;
        settle(&store);
    }
    take_seen(&store);
    {
        let mut s = store.lock().expect("lock");
        let r = s
            .objects
            .get_mut(&format!("{RELEASES}/web-2"))
            .expect("release");
        r["spec"]["rollback"] = true.into();
        r["metadata"]["generation"] = 2.into();
    }

    run(&store, T0 + 90_000).await;
    let seen = take_seen(&store);
    let old = patches_to(&seen, &format!("{DEPLOYMENTS}/web-1-0-0"));
    assert_eq!(old.len(), 1, "{seen:?}");
    assert_eq!(old[0].body["spec"], json!({"replicas": 8}));
    // The new version keeps its pods until the old ones are ready.
    assert!(patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0")).is_empty());
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(status[0].body["status"]["phase"], "RollingBack");
    assert_eq!(status[0].body["status"]["observedGeneration"], 2);

    settle(&store);
    run(&store, T0 + 120_000).await;
    let seen = take_seen(&store);
    let new = patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0"));
    assert_eq!(new.len(), 1, "{seen:?}");
    assert_eq!(new[0].body["spec"], json!({"replicas": 0}));
    // The old version gets the app's own autoscaling bounds back.
    let hpa = patches_to(&seen, &format!("{HPAS}/web-1-0-0"));
    assert_eq!(
        hpa[0].body["spec"],
        json!({"minReplicas": 8, "maxReplicas": 32})
    );
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(status[0].body["status"]["phase"], "RolledBack");
}

#[tokio::test]
async fn deciding_again_on_an_unchanged_world_writes_nothing() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    run(&store, T0).await;
    take_seen(&store);
    // A restarted operator (new context, status read back from the object) sees pods not
    // yet ready and issues no second scale and no status write.
    run(&store, T0 + 1_000).await;
    let seen = take_seen(&store);
    let writes: Vec<&Seen> = seen
        .iter()
        .filter(|r| r.method == "PATCH" && r.path.starts_with(DEPLOYMENTS))
        .collect();
    assert!(writes.is_empty(), "{writes:?}");
    assert!(patches_to(&seen, &format!("{RELEASES}/web-2/status")).is_empty());
}

#[tokio::test]
async fn a_restart_between_status_and_scale_issues_the_same_counts() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    run(&store, T0).await;
    // As if the operator died after writing the status and before the scale landed.
    {
        let mut s = store.lock().expect("lock");
        let new = s
            .objects
            .get_mut(&format!("{DEPLOYMENTS}/web-2-0-0"))
            .expect("created");
        new["spec"]["replicas"] = 0.into();
    }
    take_seen(&store);
    run(&store, T0 + 1_000).await;
    let seen = take_seen(&store);
    // Still 2 of a total of 8 (not ceil(10/4) = 3 of a recounted 10); the old version
    // untouched.
    let grow = patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0"));
    assert_eq!(grow.len(), 1, "{seen:?}");
    assert_eq!(grow[0].body["spec"], json!({"replicas": 2}));
    assert!(patches_to(&seen, &format!("{DEPLOYMENTS}/web-1-0-0")).is_empty());
}

#[tokio::test]
async fn changing_the_apps_of_a_started_release_is_refused_without_moving_anything() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    run(&store, T0).await;
    {
        let mut s = store.lock().expect("lock");
        let r = s
            .objects
            .get_mut(&format!("{RELEASES}/web-2"))
            .expect("release");
        r["spec"]["apps"] = json!(["api"]);
    }
    take_seen(&store);
    assert_eq!(
        run(&store, T0 + 1_000).await,
        Action::requeue(REFUSED_RETRY)
    );
    let seen = take_seen(&store);
    assert!(
        !seen.iter().any(|r| r.path.starts_with(DEPLOYMENTS)),
        "{seen:?}"
    );
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    // The engine's state is kept for a rollback; only the conditions say why it stopped.
    assert_eq!(status[0].body["status"]["totals"], json!([8]));
    assert_eq!(
        status[0].body["status"]["conditions"][0]["reason"],
        "Refused"
    );
}

#[tokio::test]
async fn a_missing_application_is_refused_in_the_status_and_an_event_without_writes() {
    let store = world(
        release(json!({"apps": ["nope"], "version": "2.0.0"}), None),
        &[deployment("1.0.0", 8, 8)],
    );
    let action = run(&store, T0).await;
    assert_eq!(action, Action::requeue(REFUSED_RETRY));
    let seen = take_seen(&store);
    assert!(
        !seen
            .iter()
            .any(|r| r.path.starts_with(DEPLOYMENTS) && r.method == "PATCH")
    );
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    let cond = &status[0].body["status"]["conditions"][0];
    assert_eq!(cond["type"], "Progressing");
    assert_eq!(cond["status"], "False");
    assert_eq!(cond["reason"], "Refused");
    assert_eq!(
        cond["message"],
        "Application nope not found in namespace shop"
    );
    let event = seen.iter().find(|r| r.method == "POST").expect("an Event");
    assert_eq!(event.body["type"], "Warning");
}

#[tokio::test]
async fn a_finished_release_settles_once_then_writes_nothing() {
    let done = to_crd_status(&Status {
        phase: Phase::Succeeded,
        group: 4,
        stage: berth_release::Stage::Shrink,
        totals: vec![8],
        groups: vec![Default::default(); 4],
        paused_from: None,
        since: T0,
        history: Vec::new(),
    });
    let store = world(
        release(
            spec(json!({})),
            Some(serde_json::to_value(done).expect("json")),
        ),
        &[],
    );
    // Back when the old version's day of retention is over.
    assert_eq!(
        run(&store, T0).await,
        Action::requeue(Duration::from_secs(86_400))
    );
    // Its end state is confirmed once (nothing recorded to move here), then nothing more
    // is written.
    let seen = take_seen(&store);
    let writes: Vec<&Seen> = seen.iter().filter(|r| r.method != "GET").collect();
    assert_eq!(writes.len(), 1, "{writes:?}");
    assert_eq!(writes[0].body["status"]["settled"], "2026-11-24T14:00:00Z");
    run(&store, T0 + 1_000).await;
    let seen = take_seen(&store);
    assert!(seen.iter().all(|r| r.method == "GET"), "{seen:?}");
}

#[test]
fn a_deployment_change_wakes_the_unfinished_releases_of_its_app_only() {
    let mk = |name: &str, apps: &[&str], phase: Option<&str>| -> Arc<Release> {
        let mut r = release(json!({"apps": apps, "version": "2.0.0"}), None);
        r["metadata"]["name"] = name.into();
        if let Some(p) = phase {
            r["status"] = json!({"phase": p});
        }
        Arc::new(serde_json::from_value(r).expect("release"))
    };
    let releases = [
        mk("running", &["web", "api"], Some("Progressing")),
        mk("new", &["web"], None),
        mk("done", &["web"], Some("Succeeded")),
        mk("other-app", &["api"], None),
    ];
    let d: Deployment = serde_json::from_value(deployment("1.0.0", 8, 8)).expect("deployment");
    let woken: Vec<String> = releases_for_deployment(&releases, &d)
        .into_iter()
        .map(|o| o.name)
        .collect();
    assert_eq!(woken, ["running", "new"]);
    let unlabelled = Deployment::default();
    assert!(releases_for_deployment(&releases, &unlabelled).is_empty());
}

// === pure mapping ===

#[test]
fn plan_takes_groups_and_gate_from_the_release_before_the_application() {
    let app = application();
    let from_app: ReleaseSpec =
        serde_json::from_value(json!({"apps": ["web"], "version": "2.0.0"})).expect("spec");
    let plan = plan_for(&from_app, &app).expect("plan");
    assert_eq!(plan.groups, 4);
    // 10m between each of the 3 boundaries, and the 10-minute default deadline.
    assert_eq!(plan.gates, vec![Gate::Interval(600_000); 3]);
    assert_eq!(plan.progress_deadline, 600_000);

    let own: ReleaseSpec = serde_json::from_value(json!({
        "apps": ["web"], "version": "2.0.0", "groups": 2,
        "gate": {"manual": true}, "progressDeadline": "90s"
    }))
    .expect("spec");
    let plan = plan_for(&own, &app).expect("plan");
    assert_eq!((plan.groups, plan.gates.clone()), (2, vec![Gate::Manual]));
    assert_eq!(plan.progress_deadline, 90_000);
}

#[test]
fn per_boundary_application_gates_keep_their_places() {
    let mut app = application();
    app.spec.release.groups = 3;
    app.spec.release.gates = vec![
        berth_model::Gate::default(),
        berth_model::Gate {
            interval: None,
            manual: Some(true),
        },
    ];
    let spec: ReleaseSpec =
        serde_json::from_value(json!({"apps": ["web"], "version": "2.0.0"})).expect("spec");
    let plan = plan_for(&spec, &app).expect("plan");
    // Boundary 1 passes at once; the manual gate stays at boundary 2.
    assert_eq!(plan.gates, vec![Gate::Interval(0), Gate::Manual]);
}

#[test]
fn plan_refuses_gates_it_cannot_honour() {
    let app = application();
    for (gate, why) in [
        (
            json!({"interval": "10m", "manual": true}),
            "set exactly one",
        ),
        (
            json!({"metric": {"query": " ", "threshold": 1.0}}),
            "needs a PromQL query",
        ),
        (
            json!({"interval": "ten"}),
            "spec.gate.interval: invalid duration",
        ),
    ] {
        let spec: ReleaseSpec =
            serde_json::from_value(json!({"apps": ["web"], "version": "2", "gate": gate}))
                .expect("spec");
        let err = plan_for(&spec, &app).expect_err("refused");
        assert!(err.contains(why), "{gate}: {err}");
    }
}

#[test]
fn paused_and_rollback_flags_become_edge_requests_against_the_status() {
    let spec = |paused: bool, rollback: bool| ReleaseSpec {
        apps: vec!["web".into()],
        version: "2".into(),
        groups: None,
        gate: None,
        progress_deadline: None,
        paused,
        rollback,
        approvals: Vec::new(),
    };
    let status = |phase| Status {
        phase,
        group: 1,
        stage: berth_release::Stage::Surge,
        totals: vec![8],
        groups: vec![Default::default()],
        paused_from: None,
        since: 0,
        history: Vec::new(),
    };
    let running = status(Phase::Progressing);
    let paused = status(Phase::Paused);
    let cases = [
        (
            "nothing asked",
            spec(false, false),
            Some(&running),
            Request::None,
        ),
        (
            "pause asked",
            spec(true, false),
            Some(&running),
            Request::Pause,
        ),
        (
            "already paused",
            spec(true, false),
            Some(&paused),
            Request::None,
        ),
        (
            "unpaused",
            spec(false, false),
            Some(&paused),
            Request::Resume,
        ),
        (
            "rollback wins over pause",
            spec(true, true),
            Some(&paused),
            Request::Rollback,
        ),
        (
            "pause before start",
            spec(true, false),
            None,
            Request::Pause,
        ),
    ];
    for (name, s, st, want) in cases {
        assert_eq!(request_for(&s, st), want, "{name}");
    }
}

#[test]
fn floor_rounds_budget_percentages_up_like_the_disruption_controller() {
    // minAvailable 85% of 8 = 6.8 → 7; maxUnavailable 35% of 2 = 0.7 → 1 may go, 1 stays.
    assert_eq!(floor(8, Budget::MinAvailablePercent(85)), 7);
    assert_eq!(floor(2, Budget::MaxUnavailablePercent(35)), 1);
    assert_eq!(floor(0, Budget::MinAvailablePercent(85)), 0);
}

#[test]
fn autoscalers_are_pinned_during_a_release_and_the_winner_gets_the_app_bounds() {
    let app = (8, 32);
    assert_eq!(
        hpa_bounds(Phase::Progressing, (6, 2), 2, app),
        ((2, 2), (6, 6))
    );
    // A version at zero is held at one: minReplicas may not be zero.
    assert_eq!(
        hpa_bounds(Phase::Progressing, (8, 0), 0, app),
        ((1, 1), (8, 8))
    );
    assert_eq!(
        hpa_bounds(Phase::Succeeded, (0, 8), 8, app),
        ((8, 32), (1, 1))
    );
    assert_eq!(
        hpa_bounds(Phase::RollingBack, (8, 0), 4, app),
        ((4, 4), (8, 8))
    );
    assert_eq!(
        hpa_bounds(Phase::RolledBack, (8, 0), 0, app),
        ((1, 1), (8, 32))
    );
}

#[test]
fn conditions_keep_their_transition_time_while_their_status_holds() {
    let first = conditions(&[], Some(Phase::Progressing), None, "a", Some(1), T0);
    assert_eq!(first[0].type_, "Progressing");
    assert_eq!(first[0].status, "True");
    let later = conditions(
        &first,
        Some(Phase::WaitingForGate),
        None,
        "b",
        Some(1),
        T0 + 5_000,
    );
    assert_eq!(later[0].last_transition_time, "2026-11-24T14:00:00Z");
    assert_eq!(later[0].reason, "WaitingForGate");
    let done = conditions(
        &later,
        Some(Phase::Succeeded),
        None,
        "c",
        Some(1),
        T0 + 9_000,
    );
    assert_eq!(
        (done[0].status.as_str(), done[1].status.as_str()),
        ("False", "True")
    );
    assert_eq!(done[1].last_transition_time, "2026-11-24T14:00:09Z");
}

#[tokio::test]
async fn a_second_release_of_a_running_app_is_refused_for_good_and_moves_nothing() {
    let store = world(
        release(
            spec(json!({"interval": "10m"})),
            Some(json!({"phase": "WaitingForGate", "group": 1, "stage": "Shrink"})),
        ),
        &[deployment("1.0.0", 8, 8)],
    );
    let mut second = release(
        json!({"apps": ["web"], "version": "3.0.0", "groups": 2}),
        None,
    );
    second["metadata"]["name"] = json!("web-3");
    store
        .lock()
        .expect("lock")
        .objects
        .insert(format!("{RELEASES}/web-3"), second);
    let read = |store: &Shared| -> Arc<Release> {
        let s = store.lock().expect("lock");
        Arc::new(
            serde_json::from_value(s.objects[&format!("{RELEASES}/web-3")].clone())
                .expect("a Release"),
        )
    };

    let action = reconcile(read(&store), context(&store, T0))
        .await
        .expect("reconciled");
    assert_eq!(action, Action::await_change(), "never retried");
    let seen = take_seen(&store);
    let writes: Vec<String> = seen
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            format!("PATCH {RELEASES}/web-3/status"),
            format!("POST {EVENTS}")
        ]
    );
    let cond = &seen[2].body["status"]["conditions"][0];
    assert_eq!(cond["reason"], "Conflict");
    assert_eq!(
        cond["message"],
        "web is already being released by web-2; wait for it to finish, or roll it back; this Release will not start: delete it and start a new one then"
    );
    assert_eq!(seen[3].body["reason"], "Conflict");

    // When web-2 ends, web-3 still does not start: nothing but the Release is read.
    store
        .lock()
        .expect("lock")
        .objects
        .remove(&format!("{RELEASES}/web-2"));
    reconcile(read(&store), context(&store, T0 + 60_000))
        .await
        .expect("reconciled");
    let seen = take_seen(&store);
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.path == format!("{RELEASES}/web-3")),
        "{seen:?}"
    );
}

/// The test app with an Ingress and canary routing: a cookie and a 5% slice for group 1.
fn canary_world() -> Shared {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    let mut app = serde_json::to_value(application()).expect("json");
    app["spec"]["expose"] = json!({"host": "shop.example.com"});
    app["spec"]["release"]["canary"] = json!({"cookie": "canary", "weight": 5});
    store
        .lock()
        .expect("lock")
        .objects
        .insert(format!("{APPS}/web"), app);
    store
}

fn stored(store: &Shared, key: &str) -> Option<Value> {
    store.lock().expect("lock").objects.get(key).cloned()
}

fn canary_annotations(store: &Shared) -> Value {
    stored(store, &format!("{INGRESSES}/web-canary")).expect("canary Ingress")["metadata"]
        ["annotations"]
        .clone()
}

fn backend(ingress: &Value) -> &Value {
    &ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]["name"]
}

#[tokio::test]
async fn canary_traffic_moves_after_each_groups_pods_are_ready_and_ends_at_rest() {
    let store = canary_world();
    run(&store, T0).await;
    let seen = take_seen(&store);
    // Each version gets a Service from its Deployment's selector, applied as `berth`.
    for v in ["web-1-0-0", "web-2-0-0"] {
        let svc = patches_to(&seen, &format!("{SERVICES}/{v}"));
        assert_eq!(svc.len(), 1, "{seen:?}");
        assert_apply(svc[0], "berth");
        assert_eq!(
            svc[0].body["spec"]["selector"],
            json!({"berth.dev/app": "web", "berth.dev/version": v.trim_start_matches("web-")})
        );
    }
    // The app's Ingress goes to the old version alone, the canary Ingress to the new one
    // with no weight yet (its pods are not ready), both as `berth-release`.
    let main = patches_to(&seen, &format!("{INGRESSES}/web"));
    assert_apply(main[0], "berth-release");
    assert_eq!(backend(&main[0].body), "web-1-0-0");
    let canary = patches_to(&seen, &format!("{INGRESSES}/web-canary"));
    assert_apply(canary[0], "berth-release");
    assert_eq!(backend(&canary[0].body), "web-2-0-0");
    assert_eq!(
        canary[0].body["metadata"]["annotations"],
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-by-cookie": "canary",
            "nginx.ingress.kubernetes.io/canary-weight": "0",
        })
    );

    // Group 1's pods are ready: the 5% slice, in the pass that starts shrinking the old.
    let mut weights = Vec::new();
    let mut t = T0;
    for _ in 0..40 {
        settle(&store);
        t += 30_000;
        run(&store, t).await;
        if let Some(c) = stored(&store, &format!("{INGRESSES}/web-canary")) {
            let w = c["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"]
                .as_str()
                .expect("weight")
                .to_string();
            if weights.last() != Some(&w) {
                if w == "100" {
                    // The old version is going to zero: the main backend must keep ready
                    // pods, or ingress-nginx answers 503 without trying the canary.
                    let main = stored(&store, &format!("{INGRESSES}/web")).expect("Ingress");
                    assert_eq!(backend(&main), "web");
                }
                weights.push(w);
            }
        }
        if stored_release(&store).status.as_ref().and_then(|s| s.phase)
            == Some(crate::release_crd::ReleasePhase::Succeeded)
        {
            break;
        }
    }
    // 8 replicas in 4 groups: 2, 4, 6, 8 moved (group 1 gets the 5% slice instead).
    assert_eq!(weights, ["5", "50", "75", "100"]);
    // At rest: the app's Ingress back on the Service of every version, no canary Ingress.
    let main = stored(&store, &format!("{INGRESSES}/web")).expect("Ingress");
    assert_eq!(backend(&main), "web");
    assert_eq!(stored(&store, &format!("{INGRESSES}/web-canary")), None);
    let seen = take_seen(&store);
    assert!(
        seen.iter()
            .any(|r| r.method == "DELETE" && r.path == format!("{INGRESSES}/web-canary")),
        "{seen:?}"
    );
}

#[tokio::test]
async fn a_rollback_unpins_the_cookie_at_once_and_drains_the_weight_as_old_pods_return() {
    let store = canary_world();
    // Into group 2's shrink: old 4, new 4, weight 50.
    for t in [0, 30_000, 60_000, 61_000, 90_000] {
        run(&store, T0 + t).await;
        settle(&store);
    }
    run(&store, T0 + 91_000).await;
    assert_eq!(
        canary_annotations(&store)["nginx.ingress.kubernetes.io/canary-weight"],
        "50"
    );
    {
        let mut s = store.lock().expect("lock");
        let r = s
            .objects
            .get_mut(&format!("{RELEASES}/web-2"))
            .expect("release");
        r["spec"]["rollback"] = true.into();
    }
    // The old version is asked back to 8 but has 4 ready: half the traffic stays, and the
    // cookie no longer picks the new version (server-side apply drops the annotation
    // `berth-release` applied before and omits now).
    take_seen(&store);
    run(&store, T0 + 120_000).await;
    let seen = take_seen(&store);
    let canary = patches_to(&seen, &format!("{INGRESSES}/web-canary"));
    assert_eq!(
        canary.last().expect("applied").body["metadata"]["annotations"],
        json!({
            "nginx.ingress.kubernetes.io/canary": "true",
            "nginx.ingress.kubernetes.io/canary-weight": "50",
        })
    );
    // Old pods ready again: nothing left for the new version; then at rest.
    settle(&store);
    run(&store, T0 + 150_000).await;
    settle(&store);
    run(&store, T0 + 151_000).await;
    let main = stored(&store, &format!("{INGRESSES}/web")).expect("Ingress");
    assert_eq!(backend(&main), "web");
    assert_eq!(stored(&store, &format!("{INGRESSES}/web-canary")), None);
}

fn succeeded_release() -> Value {
    let mut done = to_crd_status(&Status {
        phase: Phase::Succeeded,
        group: 4,
        stage: berth_release::Stage::Shrink,
        totals: vec![8],
        groups: vec![Default::default(); 4],
        paused_from: None,
        since: T0,
        history: vec![(T0, "group 4 of 4 done: release complete".into())],
    });
    done.deployments = vec![AppDeployments {
        app: "web".into(),
        old: "web-1-0-0".into(),
        new: "web-2-0-0".into(),
    }];
    release(
        spec(json!({})),
        Some(serde_json::to_value(done).expect("json")),
    )
}

#[tokio::test]
async fn the_losing_version_is_kept_for_the_retention_then_deleted_with_its_objects() {
    let store = world(
        succeeded_release(),
        &[deployment("1.0.0", 0, 0), deployment("2.0.0", 8, 8)],
    );
    // The app asks for 2 h instead of the default day.
    store
        .lock()
        .expect("lock")
        .objects
        .get_mut(&format!("{APPS}/web"))
        .expect("app")["spec"]["release"]["retainPrevious"] = json!("2h");

    let action = run(&store, T0 + 3_600_000).await;
    assert_eq!(action, Action::requeue(Duration::from_secs(3_600)));
    // The end state confirmed: the winner's autoscaler on the app's bounds, the loser's at
    // one (it is at zero already, so no scale).
    let seen = take_seen(&store);
    let writes: Vec<String> = seen
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(
        writes,
        [
            format!("PATCH {HPAS}/web-2-0-0"),
            format!("PATCH {HPAS}/web-1-0-0"),
            format!("PATCH {RELEASES}/web-2/status"),
        ]
    );

    run(&store, T0 + 7_200_000).await;
    let seen = take_seen(&store);
    let deletes: Vec<&str> = seen
        .iter()
        .filter(|r| r.method == "DELETE")
        .map(|r| r.path.as_str())
        .collect();
    assert_eq!(
        deletes,
        [
            format!("{HPAS}/web-1-0-0"),
            "/apis/policy/v1/namespaces/shop/poddisruptionbudgets/web-1-0-0".to_string(),
            format!("{SERVICES}/web-1-0-0"),
            format!("{DEPLOYMENTS}/web-1-0-0"),
        ]
    );
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-1-0-0")).is_none());
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-2-0-0")).is_some());
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(status[0].body["status"]["retired"], "2026-11-24T16:00:00Z");
    assert_eq!(
        status[0].body["status"]["history"][1]["message"],
        "deleted web-1-0-0 after the 2h kept for rollback"
    );

    // Once retired, a finished release writes nothing more.
    run(&store, T0 + 9_000_000).await;
    assert!(take_seen(&store).iter().all(|r| r.method == "GET"));
}

#[tokio::test]
async fn a_losing_version_that_runs_again_is_not_deleted() {
    // Settled long ago; someone brought the old version back since.
    let mut r = succeeded_release();
    r["status"]["settled"] = json!("2026-11-24T14:00:05Z");
    let store = world(r, &[deployment("1.0.0", 3, 3), deployment("2.0.0", 8, 8)]);
    run(&store, T0 + 86_400_000).await;
    let seen = take_seen(&store);
    assert!(seen.iter().all(|r| r.method != "DELETE"), "{seen:?}");
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(
        status[0].body["status"]["history"][1]["message"],
        "kept web-1-0-0: it runs again after the 24h kept for rollback"
    );
}

#[tokio::test]
async fn old_pods_still_terminating_hold_the_group_where_the_deployment_status_forgets_them() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    run(&store, T0).await;
    settle(&store);
    run(&store, T0 + 30_000).await;
    // The old version went to 6; its status says 6, but 2 pods are still draining.
    settle(&store);
    for i in 0..2 {
        store.lock().expect("lock").objects.insert(
            format!("/api/v1/namespaces/shop/pods/web-1-0-0-{i}"),
            json!({"apiVersion": "v1", "kind": "Pod",
                   "metadata": {"name": format!("web-1-0-0-{i}"), "namespace": NS,
                                "deletionTimestamp": "2026-11-24T14:00:30Z",
                                "labels": {"berth.dev/app": "web", "berth.dev/version": "1-0-0"}}}),
        );
    }
    take_seen(&store);
    run(&store, T0 + 60_000).await;
    let st = stored_release(&store).status.clone().expect("status");
    assert_eq!(
        (st.group, st.stage),
        (1, Some(crate::release_crd::ReleaseStage::Shrink))
    );
    assert_eq!(st.groups[0].ready, None);
    assert!(
        st.conditions[0]
            .message
            .contains("waiting for 2 old pods of web to stop"),
        "{:?}",
        st.conditions
    );

    // Gone: group 1 is done.
    store
        .lock()
        .expect("lock")
        .objects
        .retain(|k, _| !k.starts_with("/api/v1/namespaces/shop/pods/"));
    run(&store, T0 + 90_000).await;
    let st = stored_release(&store).status.clone().expect("status");
    assert_eq!(st.groups[0].ready.as_deref(), Some("2026-11-24T14:01:30Z"));
}

fn rolled_back_release() -> Value {
    let mut done = to_crd_status(&Status {
        phase: Phase::RolledBack,
        group: 2,
        stage: berth_release::Stage::Surge,
        totals: vec![8],
        groups: vec![Default::default(); 4],
        paused_from: None,
        since: T0,
        history: vec![(T0, "rolled back".into())],
    });
    done.deployments = vec![AppDeployments {
        app: "web".into(),
        old: "web-1-0-0".into(),
        new: "web-2-0-0".into(),
    }];
    release(
        json!({"apps": ["web"], "version": "2.0.0", "groups": 4, "rollback": true}),
        Some(serde_json::to_value(done).expect("json")),
    )
}

#[tokio::test]
async fn a_rollback_whose_last_writes_were_lost_is_completed_by_the_next_pass() {
    // RolledBack was written, then the operator stopped: the new version still has 4 pods.
    let store = world(
        rolled_back_release(),
        &[deployment("1.0.0", 8, 8), deployment("2.0.0", 4, 4)],
    );
    run(&store, T0 + 1_000).await;
    let seen = take_seen(&store);
    let scale = patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0"));
    assert_eq!(scale.len(), 1, "{seen:?}");
    assert_apply(scale[0], "berth-release");
    assert_eq!(scale[0].body["spec"], json!({"replicas": 0}));
    // The old version gets the app's bounds back; the new one is held at one.
    assert_eq!(
        patches_to(&seen, &format!("{HPAS}/web-1-0-0"))[0].body["spec"],
        json!({"minReplicas": 8, "maxReplicas": 32})
    );
    assert_eq!(
        patches_to(&seen, &format!("{HPAS}/web-2-0-0"))[0].body["spec"],
        json!({"minReplicas": 1, "maxReplicas": 1})
    );
}

#[tokio::test]
async fn a_finished_release_leaves_alone_the_apps_a_later_release_moves() {
    let store = world(
        rolled_back_release(),
        &[deployment("1.0.0", 8, 8), deployment("2.0.0", 4, 4)],
    );
    let mut later = release(
        json!({"apps": ["web"], "version": "3.0.0"}),
        Some(json!({"phase": "Progressing", "group": 1})),
    );
    later["metadata"]["name"] = json!("web-3");
    store
        .lock()
        .expect("lock")
        .objects
        .insert(format!("{RELEASES}/web-3"), later);
    let action = run(&store, T0 + 1_000).await;
    assert_eq!(action, Action::requeue(HELD_RETRY));
    let seen = take_seen(&store);
    assert!(seen.iter().all(|r| r.method == "GET"), "{seen:?}");
}

#[tokio::test]
async fn a_release_created_paused_moves_nothing_until_resumed() {
    let store = world(
        release(
            json!({"apps": ["web"], "version": "2.0.0", "paused": true}),
            None,
        ),
        &[deployment("1.0.0", 8, 8)],
    );
    assert_eq!(run(&store, T0).await, Action::await_change());
    let seen = take_seen(&store);
    assert!(seen.iter().all(|r| r.method == "GET"), "{seen:?}");
}

#[tokio::test]
async fn another_apps_ingress_named_like_a_canary_is_never_deleted() {
    let store = world(
        rolled_back_release(),
        &[deployment("1.0.0", 8, 8), deployment("2.0.0", 0, 0)],
    );
    // An Application called `web-canary` owns this Ingress; `web` has canary routing.
    let mut app = serde_json::to_value(application()).expect("json");
    app["spec"]["expose"] = json!({"host": "shop.example.com"});
    app["spec"]["release"]["canary"] = json!({"cookie": "canary"});
    {
        let mut s = store.lock().expect("lock");
        s.objects.insert(format!("{APPS}/web"), app);
        s.objects.insert(
            format!("{INGRESSES}/web-canary"),
            json!({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                   "metadata": {"name": "web-canary", "namespace": NS,
                                "labels": {"berth.dev/app": "web-canary"}}}),
        );
    }
    run(&store, T0 + 1_000).await;
    let seen = take_seen(&store);
    assert!(seen.iter().all(|r| r.method != "DELETE"), "{seen:?}");
    // The app's own Ingress is at rest.
    assert_eq!(
        backend(&stored(&store, &format!("{INGRESSES}/web")).expect("Ingress")),
        "web"
    );
}

/// Marks the stored Release deleted (as the API server does when it has finalizers).
fn delete_release(store: &Shared) {
    let mut s = store.lock().expect("lock");
    let r = s
        .objects
        .get_mut(&format!("{RELEASES}/web-2"))
        .expect("release");
    r["metadata"]["deletionTimestamp"] = json!("2026-11-24T14:02:00Z");
}

#[tokio::test]
async fn deleting_a_release_under_way_rolls_it_back_before_the_object_goes() {
    let store = world(release(spec(json!({})), None), &[deployment("1.0.0", 8, 8)]);
    // Into group 2's surge: old 6, new 4.
    for t in [0, 30_000, 60_000, 61_000] {
        run(&store, T0 + t).await;
        settle(&store);
    }
    assert_eq!(
        stored_release(&store).metadata.finalizers,
        Some(vec!["berth.dev/release".to_string()])
    );
    delete_release(&store);
    take_seen(&store);

    run(&store, T0 + 90_000).await;
    let seen = take_seen(&store);
    // Rolled back like `spec.rollback`: the old version to full strength at once.
    assert_eq!(
        patches_to(&seen, &format!("{DEPLOYMENTS}/web-1-0-0"))[0].body["spec"],
        json!({"replicas": 8})
    );
    assert_eq!(
        patches_to(&seen, &format!("{RELEASES}/web-2/status"))[0].body["status"]["phase"],
        "RollingBack"
    );
    assert!(stored_release(&store).metadata.finalizers.is_some());

    // Old pods ready: the new version goes to zero, the release is rolled back, then the
    // version kept for a rollback is deleted at once and the finalizer comes off.
    for t in [120_000, 121_000, 122_000] {
        settle(&store);
        run(&store, T0 + t).await;
    }
    let st = stored_release(&store);
    assert_eq!(
        st.status.as_ref().and_then(|s| s.phase),
        Some(crate::release_crd::ReleasePhase::RolledBack)
    );
    assert_eq!(st.metadata.finalizers, Some(vec![]));
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-2-0-0")).is_none());
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-1-0-0")).is_some());
}

#[tokio::test]
async fn deleting_a_succeeded_release_keeps_the_new_version_and_drops_the_old_at_once() {
    let mut r = succeeded_release();
    r["metadata"]["finalizers"] = json!(["berth.dev/release"]);
    let store = world(r, &[deployment("1.0.0", 0, 0), deployment("2.0.0", 8, 8)]);
    delete_release(&store);
    run(&store, T0 + 60_000).await;
    let seen = take_seen(&store);
    // Not rolled back: the new version is untouched.
    assert!(patches_to(&seen, &format!("{DEPLOYMENTS}/web-2-0-0")).is_empty());
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-1-0-0")).is_none());
    assert!(stored(&store, &format!("{DEPLOYMENTS}/web-2-0-0")).is_some());
    assert_eq!(stored_release(&store).metadata.finalizers, Some(vec![]));
}

#[tokio::test]
async fn rolling_back_a_succeeded_release_brings_the_old_version_back_at_todays_size() {
    let mut r = succeeded_release();
    r["spec"]["rollback"] = json!(true);
    r["status"]["settled"] = json!("2026-11-24T14:00:05Z");
    // Released at 8; the autoscaler has taken the new version to 12 since.
    let store = world(r, &[deployment("1.0.0", 0, 0), deployment("2.0.0", 12, 12)]);
    run(&store, T0 + 3_600_000).await;
    let seen = take_seen(&store);
    assert_eq!(
        patches_to(&seen, &format!("{DEPLOYMENTS}/web-1-0-0"))[0].body["spec"],
        json!({"replicas": 12})
    );
    let status = patches_to(&seen, &format!("{RELEASES}/web-2/status"));
    assert_eq!(status[0].body["status"]["phase"], "RollingBack");
    assert_eq!(status[0].body["status"]["totals"], json!([12]));
}
