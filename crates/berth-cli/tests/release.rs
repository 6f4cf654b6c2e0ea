//! `berth release start` writes a Release the CRD accepts; `berth release status` reads one
//! back as a bar per group.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn berth(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(args)
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth runs");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.unwrap_or("").as_bytes())
        .expect("stdin written");
    drop(input);
    child.wait_with_output().expect("berth exits")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn start_writes_a_release_the_crd_schema_accepts() {
    let out = berth(
        &[
            "release",
            "start",
            "web",
            "api",
            "--version",
            "2.0.0",
            "-n",
            "shop",
            "--groups",
            "4",
            "--gate",
            "manual",
            "-o",
            "json",
            "--dry-run",
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["metadata"]["name"], "web-2-0-0");
    assert_eq!(v["metadata"]["namespace"], "shop");
    assert_eq!(v["spec"]["apps"], serde_json::json!(["web", "api"]));
    assert_eq!(v["spec"]["gate"], serde_json::json!({"manual": true}));
    assert!(v.get("status").is_none());
    // The CRD's own schema (unknown fields refused) takes it as it is.
    let crd =
        serde_json::to_value(<berth_model::release::Release as kube::CustomResourceExt>::crd())
            .expect("crd");
    let schema = &crd["spec"]["versions"][0]["schema"]["openAPIV3Schema"];
    let node = berth_manifest::Node::from_json(&v, berth_manifest::Pos::default());
    let mut schema = schema.clone();
    // apiVersion, kind and metadata are the API server's to check, as for any CRD.
    for f in ["apiVersion", "kind"] {
        schema["properties"][f] = serde_json::json!({"type": "string"});
    }
    schema["properties"]["metadata"] = serde_json::json!({"type": "object"});
    assert_eq!(berth_manifest::schema::check(&node, &schema), vec![]);
}

#[test]
fn start_refuses_a_gate_it_cannot_read() {
    let out = berth(
        &[
            "release",
            "start",
            "web",
            "--version",
            "2",
            "--gate",
            "interval=soon",
            "--dry-run",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("interval=soon"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn status_shows_a_bar_per_group_and_what_the_release_waits_for() {
    let out = berth(
        &["release", "status", "-f", "tests/release-status.yaml"],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(s.contains("release shop/web-2-0-0: web → 2.0.0"), "{s}");
    assert!(s.contains("phase WaitingForGate, group 2 of 4"), "{s}");
    assert!(s.contains("group 1 [##########] done"), "{s}");
    assert!(
        s.contains("group 2 [##########] done 2026-11-24T10:11:20Z; gate closed"),
        "{s}"
    );
    assert!(s.contains("group 3 [----------] waiting"), "{s}");
    assert!(s.contains("9m12s left of the 10m interval"), "{s}");
}

#[test]
fn a_new_release_piped_back_reads_as_not_started() {
    let start = berth(
        &["release", "start", "web", "--version", "2.0.0", "--dry-run"],
        None,
    );
    let out = berth(
        &["release", "status", "-f", "-"],
        Some(&text(&start.stdout)),
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("not started yet"));
    let none = berth(
        &["release", "status", "-f", "-"],
        Some("apiVersion: v1\nkind: Pod\nmetadata: {name: x}\n"),
    );
    assert_eq!(none.status.code(), Some(2));
    assert!(text(&none.stderr).contains("no Release in the input"));
}

/// A stand-in for the API server on loopback: keeps Releases of namespace `shop` by name,
/// answers GET (one, or the list), POST (create) and merge PATCH, and records each request
/// as `METHOD PATH BODY`. Real HTTP, so the CLI's kubeconfig loading and client are the
/// ones a cluster would see.
mod api {
    use std::collections::BTreeMap;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::{Arc, Mutex};
    use std::thread;

    use serde_json::{Value, json};

    pub const RELEASES: &str = "/apis/berth.dev/v1alpha1/namespaces/shop/releases";

    #[derive(Default)]
    pub struct State {
        pub releases: BTreeMap<String, Value>,
        pub seen: Vec<String>,
    }

    pub type Shared = Arc<Mutex<State>>;

    fn merge(into: &mut Value, from: &Value) {
        match (into, from) {
            (Value::Object(a), Value::Object(b)) => {
                for (k, v) in b {
                    merge(a.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
            (slot, v) => *slot = v.clone(),
        }
    }

    fn answer(state: &Shared, method: &str, path: &str, body: &Value) -> (u16, Value) {
        let mut s = state.lock().expect("lock");
        s.seen.push(format!("{method} {path} {body}"));
        let missing = json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                             "reason": "NotFound", "code": 404, "message": "not found"});
        if path == RELEASES {
            return match method {
                "GET" => (
                    200,
                    json!({"apiVersion": "berth.dev/v1alpha1", "kind": "ReleaseList",
                           "metadata": {}, "items": s.releases.values().cloned().collect::<Vec<_>>()}),
                ),
                "POST" => {
                    let name = body["metadata"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string();
                    s.releases.insert(name, body.clone());
                    (201, body.clone())
                }
                _ => (405, missing),
            };
        }
        let Some(name) = path.strip_prefix(&format!("{RELEASES}/")) else {
            return (404, missing);
        };
        match (method, s.releases.get_mut(name)) {
            ("GET", Some(r)) => (200, r.clone()),
            ("PATCH", Some(r)) => {
                merge(r, body);
                (200, r.clone())
            }
            _ => (404, missing),
        }
    }

    fn serve(state: Shared, stream: TcpStream) {
        let mut reader = BufReader::new(stream.try_clone().expect("clone"));
        let mut out = stream;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let mut parts = line.split_whitespace();
            let (method, target) = (
                parts.next().unwrap_or_default().to_string(),
                parts.next().unwrap_or_default().to_string(),
            );
            let mut length = 0;
            loop {
                let mut h = String::new();
                if reader.read_line(&mut h).unwrap_or(0) == 0 {
                    return;
                }
                if h == "\r\n" {
                    break;
                }
                if let Some((k, v)) = h.split_once(':')
                    && k.eq_ignore_ascii_case("content-length")
                {
                    length = v.trim().parse().expect("length");
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
            let path = target.split('?').next().unwrap_or_default();
            let (code, answer) = answer(&state, &method, path, &body);
            let text = answer.to_string();
            let head = format!(
                "HTTP/1.1 {code} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
                text.len()
            );
            if out.write_all(head.as_bytes()).is_err() || out.write_all(text.as_bytes()).is_err() {
                return;
            }
        }
    }

    /// Starts the server; returns its state and a kubeconfig file pointing at it.
    pub fn start(dir: &std::path::Path) -> (Shared, std::path::PathBuf) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let state = Shared::default();
        let shared = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let s = shared.clone();
                thread::spawn(move || serve(s, stream));
            }
        });
        std::fs::create_dir_all(dir).expect("dir");
        let kubeconfig = dir.join("kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\nclusters: [{{name: fake, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\nusers: [{{name: me, user: {{}}}}]\ncontexts: [{{name: fake, context: {{cluster: fake, user: me}}}}]\ncurrent-context: fake\n"
            ),
        )
        .expect("kubeconfig");
        (state, kubeconfig)
    }
}

fn waiting_release() -> serde_json::Value {
    serde_json::json!({
        "apiVersion": "berth.dev/v1alpha1", "kind": "Release",
        "metadata": {"name": "web-2", "namespace": "shop", "resourceVersion": "7",
                     "creationTimestamp": "2026-11-24T10:00:00Z"},
        "spec": {"apps": ["web"], "version": "2.0.0", "groups": 4, "gate": {"manual": true}},
        "status": {"phase": "WaitingForGate", "group": 1, "stage": "Shrink", "totals": [8],
                   "groups": [{"started": "2026-11-24T10:00:00Z", "ready": "2026-11-24T10:00:40Z"}, {}, {}, {}],
                   "history": [
                       {"time": "2026-11-24T10:00:00Z", "message": "release started: 4 groups"},
                       {"time": "2026-11-24T10:00:40Z", "message": "group 1 of 4 done; waiting for the gate"}]}
    })
}

#[test]
fn verbs_talk_to_the_cluster_of_the_kubeconfig_and_find_a_release_by_its_app() {
    let dir = std::env::temp_dir().join(format!("berth-release-verbs-{}", std::process::id()));
    let (state, kubeconfig) = api::start(&dir);
    state
        .lock()
        .expect("lock")
        .releases
        .insert("web-2".into(), waiting_release());
    let k = kubeconfig.to_str().expect("utf-8 path");
    let run = |args: &[&str]| {
        let mut all = vec!["release"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["-n", "shop", "--kubeconfig", k]);
        berth(&all, None)
    };

    // By app name: the Release is found through the list, then approved.
    let out = run(&["approve", "web"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "release.berth.dev/web-2 approved the gate after group 1 (group 2 may start)\n"
    );
    let seen = std::mem::take(&mut state.lock().expect("lock").seen);
    assert_eq!(
        seen.iter()
            .map(|s| s.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>(),
        [
            format!("GET {}/web", api::RELEASES),
            format!("GET {}", api::RELEASES),
            format!("GET {}/web-2", api::RELEASES),
            format!("PATCH {}/web-2", api::RELEASES),
        ]
    );
    assert!(
        seen[3].ends_with(r#"{"metadata":{"resourceVersion":"7"},"spec":{"approvals":[1]}}"#),
        "{}",
        seen[3]
    );

    let out = run(&["history", "web-2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let h = text(&out.stdout);
    assert!(
        h.contains("2026-11-24T10:00:40Z   group 1 of 4 done; waiting for the gate"),
        "{h}"
    );

    let out = run(&["status"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("group 1 [##########] done"));

    let out = run(&["pause", "web-2"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        state.lock().expect("lock").releases["web-2"]["spec"]["paused"],
        true
    );

    // A second release of the same app is refused before anything is written.
    let out = run(&["start", "web", "--version", "3.0.0"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("web is already being released by web-2"),
        "{}",
        text(&out.stderr)
    );
    let out = run(&["start", "cart", "--version", "3.0.0"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with("release.berth.dev/cart-3-0-0 created: cart → 3.0.0"),
        "{}",
        text(&out.stdout)
    );

    let out = run(&["resume", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: no Release named nope, and none releases an app nope, in namespace shop\n"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_missing_kubeconfig_is_named() {
    let out = berth(
        &[
            "release",
            "pause",
            "web",
            "--kubeconfig",
            "/nonexistent/kubeconfig",
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("error: --kubeconfig /nonexistent/kubeconfig:"),
        "{}",
        text(&out.stderr)
    );
}
