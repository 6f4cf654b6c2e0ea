//! Every way a scenario file can be wrong gets one error that names the file, the line and
//! column, the field, what is wrong and how to fix it; a valid scenario gets the defaults.

use std::collections::BTreeMap;
use std::path::Path;

use berth_model::{Diagnostic, Severity};
use berth_sim::scenario::{Behaviour, ClusterSource, ControlPlane, LbParams};
use berth_sim::time::Dist;
use berth_sim::{Scenario, load_scenario};

/// A plain Deployment and its Service: app `web`.
const WEB: &str = "apiVersion: v1
kind: Service
metadata:
  name: web
spec:
  selector:
    app: web
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels:
      app: web
  template:
    metadata:
      labels:
        app: web
    spec:
      containers:
        - name: web
          image: registry.example.com/web:1.0.0
          ports:
            - containerPort: 8080
";

/// A berth Application, as in examples/scenarios/checkout.yaml: app `checkout`.
const CHECKOUT: &str = "# The checkout service as berth renders it.
# (copied from examples/scenarios/checkout.yaml)
apiVersion: berth.dev/v1alpha1
kind: Application
metadata:
  name: checkout
  namespace: shop
spec:
  image: registry.example.com/shop/checkout:1.4.0
  tier: standard
  productLine: shop
  owner: team-checkout
  ports:
    - name: http
      port: 8080
  resources:
    cpu: \"1\"
    memory: 1Gi
  probes:
    readiness:
      http: /ready
  scaling:
    minReplicas: 8
    maxReplicas: 8
  shutdown:
    drainSeconds: 10
    waitForConnections: true
    connectionTimeoutSeconds: 20
    appStopSeconds: 5
";

/// `kubectl get nodes,pods -A -o json` of a one-node cluster.
const SNAPSHOT: &str = r#"{
  "apiVersion": "v1",
  "kind": "List",
  "items": [
    {
      "apiVersion": "v1",
      "kind": "Node",
      "metadata": {"name": "node-a", "labels": {"kubernetes.io/hostname": "node-a"}},
      "status": {"allocatable": {"cpu": "8", "memory": "32Gi", "pods": "110"}}
    }
  ]
}
"#;

/// The scenario every case edits; it loads cleanly (see the first test). Line numbers in
/// the cases below refer to this text.
const BASE: &str = "apiVersion: berth.dev/v1alpha1
kind: Scenario
metadata:
  name: errors
spec:
  duration: 2m
  cluster:
    zones: 1
    switches: 2
    hostsPerSwitch: 2
    node: {cpu: \"8\", memory: 32Gi}
  loadBalancer:
    propagationDelay: 3s
  workloads:
    - web.yaml
    - checkout.yaml
  apps:
    web:
      requestsPerSecond: 100
    checkout:
      startTime: 2s..4s
  timeline:
    - at: 30s
      rolloutRestart: web
    - at: 1m
      scale: {app: checkout, replicas: 4}
  assertions:
    - app: web
      maxFailedRequests: 0
    - app: checkout
      minReady: 6
";

/// The scenario's file name in every diagnostic.
const FILE: &str = "scenario.yaml";

/// The files a scenario may name, in memory; `extra` adds or replaces some.
fn files(extra: &[(&str, &str)]) -> BTreeMap<String, String> {
    let mut m: BTreeMap<String, String> = [
        ("web.yaml", WEB),
        ("checkout.yaml", CHECKOUT),
        ("snap.json", SNAPSHOT),
    ]
    .into_iter()
    .chain(extra.iter().copied())
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    m.retain(|_, v| !v.is_empty());
    m
}

fn load(text: &str, extra: &[(&str, &str)]) -> Result<Scenario, Vec<Diagnostic>> {
    let files = files(extra);
    let read = |name: &str| -> Result<String, String> {
        files
            .get(name)
            .cloned()
            .ok_or_else(|| format!("cannot read {name}: no such file"))
    };
    load_scenario(FILE, text, &read)
}

/// One diagnostic a case must produce.
struct Want {
    file: &'static str,
    line: u32,
    col: u32,
    path: &'static str,
    /// Text the message contains.
    message: &'static str,
    /// Text the fix contains; `None` when the message itself says what to write.
    fix: Option<&'static str>,
}

/// One broken scenario and the only diagnostics it may produce.
struct Case<'a> {
    name: &'static str,
    /// (text of BASE, replacement), applied in order; each text must be in the scenario.
    edits: &'static [(&'static str, &'static str)],
    /// Files added to (or, with empty text, removed from) the file map.
    files: &'static [(&'static str, &'static str)],
    want: &'a [Want],
}

/// A diagnostic in the scenario file itself.
const fn here(
    line: u32,
    col: u32,
    path: &'static str,
    message: &'static str,
    fix: Option<&'static str>,
) -> Want {
    Want {
        file: FILE,
        line,
        col,
        path,
        message,
        fix,
    }
}

fn matches(d: &Diagnostic, w: &Want) -> bool {
    d.file == w.file
        && (d.pos.line, d.pos.col) == (w.line, w.col)
        && d.path == w.path
        && d.message.contains(w.message)
        && w.fix
            .is_none_or(|f| d.fix.as_deref().is_some_and(|have| have.contains(f)))
}

fn show(diags: &[Diagnostic]) -> String {
    diags
        .iter()
        .map(|d| format!("  {d}\n    [path {:?}]\n", d.path))
        .collect()
}

/// Runs each case: the scenario does not load, and its diagnostics are exactly the wanted
/// ones (in any order), every one an error with a non-empty message.
fn run(cases: &[Case<'_>]) {
    let mut failures = Vec::new();
    for c in cases {
        let mut text = BASE.to_string();
        for (from, to) in c.edits {
            assert!(
                text.contains(from),
                "{}: edit target {from:?} missing",
                c.name
            );
            text = text.replacen(from, to, 1);
        }
        let diags = match load(&text, c.files) {
            Ok(_) => {
                failures.push(format!("{}: loaded without an error", c.name));
                continue;
            }
            Err(d) => d,
        };
        let mut unmatched: Vec<&Diagnostic> = diags.iter().collect();
        let mut missing = Vec::new();
        for w in c.want {
            match unmatched.iter().position(|d| matches(d, w)) {
                Some(i) => {
                    unmatched.remove(i);
                }
                None => missing.push(format!(
                    "{}:{}:{}: {}: …{}… (help: …{}…)",
                    w.file,
                    w.line,
                    w.col,
                    w.path,
                    w.message,
                    w.fix.unwrap_or("")
                )),
            }
        }
        let bad_severity = diags.iter().any(|d| d.severity != Severity::Error);
        let empty = diags.iter().any(|d| d.message.trim().is_empty());
        if !missing.is_empty() || !unmatched.is_empty() || bad_severity || empty {
            failures.push(format!(
                "{}:\n missing: {missing:#?}\n got:\n{}",
                c.name,
                show(&diags)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_scenario_the_cases_edit_loads_cleanly() {
    let s = load(BASE, &[]).unwrap_or_else(|d| panic!("{}", show(&d)));
    assert_eq!(s.duration, 120_000);
    assert_eq!(s.timeline.len(), 2);
    assert_eq!(s.checks.len(), 2);
    assert_eq!(
        s.apps.keys().map(String::as_str).collect::<Vec<_>>(),
        ["checkout", "web"]
    );
}

#[test]
fn unknown_fields_point_at_the_key_and_suggest_the_nearest_name() {
    run(&[
        Case {
            name: "misspelt field at the top of spec",
            edits: &[("  duration: 2m\n", "  duration: 2m\n  sead: 7\n")],
            files: &[],
            want: &[here(
                7,
                3,
                "spec.sead",
                "unknown field `sead`",
                Some("did you mean `seed`?"),
            )],
        },
        Case {
            name: "misspelt field deep in the load balancer",
            edits: &[("propagationDelay: 3s", "propagationDelai: 3s")],
            files: &[],
            want: &[here(
                13,
                5,
                "spec.loadBalancer.propagationDelai",
                "unknown field `propagationDelai`",
                Some("did you mean `propagationDelay`?"),
            )],
        },
        Case {
            name: "misspelt action in a timeline step",
            edits: &[("rolloutRestart: web", "rolloutRestrat: web")],
            files: &[],
            want: &[here(
                24,
                7,
                "spec.timeline[0].rolloutRestrat",
                "unknown field `rolloutRestrat`",
                Some("did you mean `rolloutRestart`?"),
            )],
        },
        Case {
            name: "misspelt field in a flow mapping",
            edits: &[(
                "{app: checkout, replicas: 4}",
                "{app: checkout, replica: 4}",
            )],
            files: &[],
            want: &[
                here(
                    26,
                    30,
                    "spec.timeline[1].scale.replica",
                    "unknown field `replica`",
                    Some("did you mean `replicas`?"),
                ),
                // The real field is then missing, reported at its parent.
                here(
                    26,
                    7,
                    "spec.timeline[1].scale.replicas",
                    "required field `replicas` is missing",
                    Some("add `replicas:`"),
                ),
            ],
        },
        Case {
            name: "field nothing is close to lists the known fields",
            edits: &[("  apps:\n", "  flavour: vanilla\n  apps:\n")],
            files: &[],
            want: &[here(
                17,
                3,
                "spec.flavour",
                "unknown field `flavour`",
                Some("known fields here: "),
            )],
        },
    ]);
}

#[test]
fn values_of_the_wrong_type_name_the_type_the_field_takes() {
    run(&[
        Case {
            name: "text where a rate is expected",
            edits: &[("requestsPerSecond: 100", "requestsPerSecond: fast")],
            files: &[],
            want: &[here(
                19,
                7,
                "spec.apps.web.requestsPerSecond",
                "expected a number, found a string",
                Some("write a number here"),
            )],
        },
        Case {
            name: "quoted number where a count is expected",
            edits: &[("replicas: 4", "replicas: \"4\"")],
            files: &[],
            want: &[here(
                26,
                30,
                "spec.timeline[1].scale.replicas",
                "expected an integer, found a string",
                Some("remove the quotes"),
            )],
        },
        Case {
            name: "a single file where a list of files is expected",
            edits: &[(
                "  workloads:\n    - web.yaml\n    - checkout.yaml\n",
                "  workloads: web.yaml\n",
            )],
            files: &[],
            want: &[here(
                14,
                3,
                "spec.workloads",
                "expected a sequence, found a string",
                Some("write a sequence here"),
            )],
        },
        Case {
            name: "negative count",
            edits: &[("replicas: 4", "replicas: -4")],
            files: &[],
            want: &[here(
                26,
                30,
                "spec.timeline[1].scale.replicas",
                "must be 0 or more",
                None,
            )],
        },
    ]);
}

#[test]
fn bad_durations_name_the_field_and_show_how_to_write_one() {
    run(&[
        Case {
            name: "unknown unit in a step time",
            edits: &[("at: 30s", "at: 5x")],
            files: &[],
            want: &[here(
                23,
                7,
                "spec.timeline[0].at",
                "invalid duration \"5x\"",
                Some("e.g. `500ms`, `30s`, `2m30s`"),
            )],
        },
        Case {
            name: "a run of no time",
            edits: &[
                ("duration: 2m", "duration: 0s"),
                (
                    "  timeline:\n    - at: 30s\n      rolloutRestart: web\n    - at: 1m\n      scale: {app: checkout, replicas: 4}\n",
                    "",
                ),
            ],
            files: &[],
            want: &[here(
                6,
                3,
                "spec.duration",
                "the run must last longer than 0s",
                None,
            )],
        },
        Case {
            name: "a range that runs backwards",
            edits: &[("startTime: 2s..4s", "startTime: 5s..2s")],
            files: &[],
            want: &[here(
                21,
                7,
                "spec.apps.checkout.startTime",
                "the range \"5s..2s\" runs backwards",
                Some("`2s..5s`"),
            )],
        },
        Case {
            name: "a range with a bad end",
            edits: &[("startTime: 2s..4s", "startTime: 2s..soon")],
            files: &[],
            want: &[here(
                21,
                7,
                "spec.apps.checkout.startTime",
                "invalid duration \"soon\"",
                Some("a range (`2s..5s`)"),
            )],
        },
        Case {
            name: "a propagation delay without a unit",
            edits: &[("propagationDelay: 3s", "propagationDelay: \"3\"")],
            files: &[],
            want: &[here(
                13,
                5,
                "spec.loadBalancer.propagationDelay",
                "invalid duration \"3\"",
                Some("e.g. `500ms`"),
            )],
        },
    ]);
}

#[test]
fn a_step_takes_exactly_one_action_within_the_run() {
    run(&[
        Case {
            name: "step with no action",
            edits: &[(
                "    - at: 30s\n      rolloutRestart: web\n",
                "    - at: 30s\n",
            )],
            files: &[],
            want: &[here(
                23,
                7,
                "spec.timeline[0]",
                "a step needs an action",
                Some("add one of rolloutRestart, setImage, scale"),
            )],
        },
        Case {
            name: "step with two actions",
            edits: &[(
                "      rolloutRestart: web\n",
                "      rolloutRestart: web\n      crashNode: sw01-host01\n",
            )],
            files: &[],
            want: &[here(
                23,
                7,
                "spec.timeline[0]",
                "a step takes exactly one action, found 2",
                Some("split it into several steps with the same `at`"),
            )],
        },
        Case {
            name: "step after the end of the run",
            edits: &[("at: 1m", "at: 2m0.5s")],
            files: &[],
            want: &[here(
                25,
                7,
                "spec.timeline[1].at",
                "2m0.5s is after the end of the run (2m)",
                Some("move it earlier or lengthen `spec.duration`"),
            )],
        },
    ]);
}

#[test]
fn app_names_no_workload_has_suggest_the_nearest_app() {
    run(&[
        Case {
            name: "misspelt app under apps",
            edits: &[("    web:\n", "    webb:\n")],
            files: &[],
            want: &[here(
                18,
                5,
                "spec.apps.webb",
                "no workload is app `webb`",
                Some("did you mean `web`?"),
            )],
        },
        Case {
            name: "misspelt app in a rollout restart",
            edits: &[("rolloutRestart: web", "rolloutRestart: wbe")],
            files: &[],
            want: &[here(
                24,
                7,
                "spec.timeline[0].rolloutRestart",
                "no workload is app `wbe`",
                Some("did you mean `web`?"),
            )],
        },
        Case {
            name: "misspelt app in a scale action",
            edits: &[(
                "{app: checkout, replicas: 4}",
                "{app: chekout, replicas: 4}",
            )],
            files: &[],
            want: &[here(
                26,
                15,
                "spec.timeline[1].scale.app",
                "no workload is app `chekout`",
                Some("did you mean `checkout`?"),
            )],
        },
        Case {
            name: "misspelt app in an assertion",
            edits: &[("    - app: web\n", "    - app: wev\n")],
            files: &[],
            want: &[here(
                28,
                7,
                "spec.assertions[0].app",
                "no workload is app `wev`",
                Some("did you mean `web`?"),
            )],
        },
        Case {
            name: "app nothing is close to lists the apps",
            edits: &[("rolloutRestart: web", "rolloutRestart: inventory")],
            files: &[],
            want: &[here(
                24,
                7,
                "spec.timeline[0].rolloutRestart",
                "no workload is app `inventory`",
                Some("the apps are: checkout, web"),
            )],
        },
    ]);
}

#[test]
fn an_assertion_takes_exactly_one_measure_and_min_ready_an_app() {
    run(&[
        Case {
            name: "assertion with no measure",
            edits: &[(
                "      maxFailedRequests: 0\n",
                "      name: nothing measured\n",
            )],
            files: &[],
            want: &[here(
                28,
                7,
                "spec.assertions[0]",
                "an assertion takes exactly one measure, found 0",
                Some("one of maxFailedRequests, minFailedRequests, minReady"),
            )],
        },
        Case {
            name: "assertion with two measures",
            edits: &[(
                "      maxFailedRequests: 0\n",
                "      maxFailedRequests: 0\n      maxRestarts: 0\n",
            )],
            files: &[],
            want: &[here(
                28,
                7,
                "spec.assertions[0]",
                "an assertion takes exactly one measure, found 2",
                Some("one of maxFailedRequests"),
            )],
        },
        Case {
            name: "minReady about all apps",
            edits: &[(
                "    - app: checkout\n      minReady: 6\n",
                "    - minReady: 6\n",
            )],
            files: &[],
            want: &[here(
                30,
                7,
                "spec.assertions[1].minReady",
                "minReady is about one app",
                Some("add `app:`"),
            )],
        },
    ]);
}

#[test]
fn workload_file_problems_are_reported_where_they_are() {
    const ADD_THIRD: (&str, &str) = (
        "    - checkout.yaml\n",
        "    - checkout.yaml\n    - extra.yaml\n",
    );
    run(&[
        Case {
            name: "unreadable workload file, at its entry in the list",
            edits: &[ADD_THIRD],
            files: &[],
            want: &[here(
                17,
                7,
                "spec.workloads[2]",
                "cannot read extra.yaml: no such file",
                None,
            )],
        },
        Case {
            name: "YAML syntax error, in that file at its line",
            edits: &[ADD_THIRD],
            files: &[(
                "extra.yaml",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg: x\ndata: {}\n",
            )],
            want: &[Want {
                file: "extra.yaml",
                line: 4,
                col: 12,
                path: "",
                message: "mapping values are not allowed",
                fix: None,
            }],
        },
        Case {
            name: "invalid Application, with its own diagnostic in its own file",
            edits: &[ADD_THIRD],
            files: &[(
                "extra.yaml",
                // CHECKOUT renamed `basket`, with a tier berth does not know.
                "# The checkout service as berth renders it.
# (copied from examples/scenarios/checkout.yaml)
apiVersion: berth.dev/v1alpha1
kind: Application
metadata:
  name: basket
  namespace: shop
spec:
  image: registry.example.com/shop/checkout:1.4.0
  tier: gold
  productLine: shop
  owner: team-checkout
  ports:
    - name: http
      port: 8080
  resources:
    cpu: \"1\"
    memory: 1Gi
",
            )],
            want: &[Want {
                file: "extra.yaml",
                line: 10,
                col: 3,
                path: "spec.tier",
                message: "\"gold\" is not one of \"core\", \"standard\", \"batch\"",
                fix: Some("use one of \"core\", \"standard\", \"batch\""),
            }],
        },
    ]);
}

#[test]
fn the_file_must_be_one_scenario_document_with_each_key_once() {
    run(&[
        Case {
            name: "wrong apiVersion",
            edits: &[("apiVersion: berth.dev/v1alpha1", "apiVersion: berth.dev/v1")],
            files: &[],
            want: &[here(
                1,
                1,
                "",
                "expected an `berth.dev/v1alpha1` `Scenario`, found berth.dev/v1 Scenario",
                Some("start the file with `apiVersion: berth.dev/v1alpha1` and `kind: Scenario`"),
            )],
        },
        Case {
            name: "wrong kind",
            edits: &[("kind: Scenario", "kind: Application")],
            files: &[],
            want: &[here(
                1,
                1,
                "",
                "found berth.dev/v1alpha1 Application",
                Some("`kind: Scenario`"),
            )],
        },
        Case {
            name: "two documents",
            edits: &[(
                "      minReady: 6\n",
                "      minReady: 6\n---\nkind: Scenario\n",
            )],
            files: &[],
            want: &[here(
                1,
                1,
                "",
                "a scenario file holds exactly one document, found 2",
                Some("put each scenario in its own file"),
            )],
        },
        Case {
            name: "a key written twice",
            edits: &[("  duration: 2m\n", "  duration: 2m\n  duration: 5m\n")],
            files: &[],
            want: &[here(
                7,
                3,
                "spec.duration",
                "`spec.duration` is written twice (lines 6 and 7)",
                Some("remove one of the two"),
            )],
        },
        Case {
            name: "YAML syntax error in the scenario",
            edits: &[("  name: errors\n", "  name: errors: twice\n")],
            files: &[],
            want: &[here(4, 15, "", "mapping values are not allowed", None)],
        },
    ]);
}

#[test]
fn the_cluster_is_generated_or_a_snapshot_and_consistent() {
    run(&[
        Case {
            name: "neither hostsPerSwitch nor snapshot",
            edits: &[("    hostsPerSwitch: 2\n", "")],
            files: &[],
            want: &[here(
                7,
                3,
                "spec.cluster",
                "the cluster needs `hostsPerSwitch` (with `switches`, `zones`, `node`) or a `snapshot`",
                None,
            )],
        },
        Case {
            name: "snapshot plus switches",
            edits: &[(
                "    zones: 1\n    switches: 2\n    hostsPerSwitch: 2\n    node: {cpu: \"8\", memory: 32Gi}\n",
                "    switches: 2\n    snapshot: snap.json\n",
            )],
            files: &[],
            want: &[here(
                8,
                5,
                "spec.cluster.switches",
                "a snapshot brings its own nodes",
                Some("remove `switches` or `snapshot`"),
            )],
        },
        Case {
            name: "unreadable snapshot",
            edits: &[(
                "    zones: 1\n    switches: 2\n    hostsPerSwitch: 2\n    node: {cpu: \"8\", memory: 32Gi}\n",
                "    snapshot: nodes.json\n",
            )],
            files: &[],
            want: &[here(
                8,
                5,
                "spec.cluster.snapshot",
                "cannot read nodes.json: no such file",
                None,
            )],
        },
        Case {
            name: "fewer switches than zones",
            edits: &[("zones: 1", "zones: 3")],
            files: &[],
            want: &[here(
                9,
                5,
                "spec.cluster.switches",
                "2 switches cannot cover 3 zones",
                Some("give every zone at least one switch"),
            )],
        },
        Case {
            name: "bad cpu quantity",
            edits: &[("cpu: \"8\"", "cpu: lots")],
            files: &[],
            want: &[here(
                11,
                12,
                "spec.cluster.node.cpu",
                "\"lots\" is not a CPU quantity",
                Some("e.g. `\"32\"` or `31500m`"),
            )],
        },
        Case {
            name: "no hosts",
            edits: &[("hostsPerSwitch: 2", "hostsPerSwitch: 0")],
            files: &[],
            want: &[here(
                10,
                5,
                "spec.cluster.hostsPerSwitch",
                "must be at least 1",
                None,
            )],
        },
    ]);
}

#[test]
fn diagnostics_print_as_file_line_column_field_message_and_help() {
    let text = BASE.replacen("propagationDelay: 3s", "propagationDelai: 3s", 1);
    let diags = load(&text, &[]).err().unwrap_or_default();
    assert_eq!(diags.len(), 1, "{}", show(&diags));
    assert_eq!(
        diags[0].to_string(),
        "error: scenario.yaml:13:5: spec.loadBalancer.propagationDelai: \
         unknown field `propagationDelai`\n  help: did you mean `propagationDelay`?"
    );
}

#[test]
fn a_minimal_scenario_loads_with_every_default() {
    let text = "apiVersion: berth.dev/v1alpha1
kind: Scenario
metadata:
  name: minimal
spec:
  duration: 1m
  cluster:
    hostsPerSwitch: 3
  workloads:
    - web.yaml
";
    let s = load(text, &[]).unwrap_or_else(|d| panic!("{}", show(&d)));
    assert_eq!(s.name, "minimal");
    assert_eq!(s.description, None);
    assert_eq!(s.seed, 1);
    assert_eq!(s.duration, 60_000);
    assert_eq!(s.lb.propagation, 3_000);
    assert_eq!(s.lb, LbParams::default());
    assert_eq!(s.control_plane.node_monitor_grace, 50_000);
    assert_eq!(s.control_plane, ControlPlane::default());
    match &s.cluster {
        ClusterSource::Generated {
            zones,
            switches,
            hosts_per_switch,
            cpu_milli,
            memory,
            pods,
            labels,
            switch_label,
        } => {
            assert_eq!((*zones, *switches, *hosts_per_switch), (1, 1, 3));
            assert_eq!((*cpu_milli, *memory, *pods), (32_000, 128 << 30, 110));
            assert!(labels.is_empty());
            assert_eq!(switch_label, berth_model::DEFAULT_SWITCH_LABEL);
        }
        other => panic!("expected a generated cluster, got {other:?}"),
    }
    let kinds: Vec<(&str, &str)> = s
        .objects
        .iter()
        .map(|(file, o)| (file.as_str(), o["kind"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(kinds, [("web.yaml", "Service"), ("web.yaml", "Deployment")]);
    // The one app gets the default behaviour, spelt out here.
    assert_eq!(s.apps.len(), 1);
    let web = &s.apps["web"];
    assert_eq!(web, &Behaviour::default());
    assert_eq!(
        web,
        &Behaviour {
            image_pull: Dist::Fixed(2_000),
            start: Dist::Fixed(2_000),
            ready: Dist::Fixed(0),
            honors_sigterm: true,
            stop: Dist::Fixed(1_000),
            request: 50,
            rate: 0.0,
            crash_after: None,
            cpu_per_request: 0.0,
            idle_cpu: 10.0,
            warmup: 0,
            warmup_factor: 1.0,
            slow_start: None,
            per_request: false,
        }
    );
    assert!(s.timeline.is_empty());
    assert!(s.checks.is_empty());
}

#[test]
fn every_example_scenario_loads_without_diagnostics() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/scenarios");
    let mut entries: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml" || x == "yml"))
        .collect();
    entries.sort();
    let mut loaded = 0;
    let mut failures = Vec::new();
    for path in entries {
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        if !text.contains("kind: Scenario") {
            continue;
        }
        let base = path.parent().unwrap_or(&dir).to_path_buf();
        let read = |name: &str| -> Result<String, String> {
            let p = base.join(name);
            std::fs::read_to_string(&p).map_err(|e| format!("cannot read {}: {e}", p.display()))
        };
        let name = path.display().to_string();
        match load_scenario(&name, &text, &read) {
            Ok(_) => loaded += 1,
            Err(diags) => failures.push(format!("{name}:\n{}", show(&diags))),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(loaded > 0, "no scenario found under {}", dir.display());
}

// Loader behaviours found missing by these tests, then fixed.

#[test]
fn empty_optional_sections_load_as_empty() {
    let empties = [
        (
            "  timeline:\n    - at: 30s\n      rolloutRestart: web\n    - at: 1m\n      scale: {app: checkout, replicas: 4}\n",
            "  timeline:\n",
        ),
        ("    web:\n      requestsPerSecond: 100\n", "    web:\n"),
        ("    zones: 1\n", "    zones: 1\n    labels:\n"),
    ];
    let mut failures = Vec::new();
    for (from, to) in empties {
        let text = BASE.replacen(from, to, 1);
        if let Err(d) = load(&text, &[]) {
            failures.push(format!("{to:?}:\n{}", show(&d)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn app_names_with_dots_are_pointed_at_by_their_own_key() {
    run(&[Case {
        name: "unknown dotted app under apps",
        edits: &[("    web:\n", "    web.v2:\n")],
        files: &[],
        want: &[here(
            18,
            5,
            "spec.apps[\"web.v2\"]",
            "no workload is app `web.v2`",
            Some("the apps are: checkout, web"),
        )],
    }]);
}

#[test]
fn cpu_per_request_in_microseconds_refuses_negative_and_non_finite_values() {
    const AT: &str = "startTime: 2s..4s";
    run(&[
        Case {
            name: "negative",
            edits: &[(AT, "startTime: 2s..4s\n      cpuPerRequest: \"-5us\"")],
            files: &[],
            want: &[here(
                22,
                7,
                "spec.apps.checkout.cpuPerRequest",
                "-5us",
                Some("`500us`"),
            )],
        },
        Case {
            name: "not a number",
            edits: &[(AT, "startTime: 2s..4s\n      cpuPerRequest: NaNus")],
            files: &[],
            want: &[here(
                22,
                7,
                "spec.apps.checkout.cpuPerRequest",
                "NaNus",
                Some("`500us`"),
            )],
        },
        Case {
            name: "infinite",
            edits: &[(AT, "startTime: 2s..4s\n      cpuPerRequest: infus")],
            files: &[],
            want: &[here(
                22,
                7,
                "spec.apps.checkout.cpuPerRequest",
                "infus",
                Some("`500us`"),
            )],
        },
    ]);
}

#[test]
fn cpu_per_request_in_milliseconds_keeps_its_fraction() {
    let mut got = Vec::new();
    for (text, want) in [("1.5ms", 1.5), ("0.4ms", 0.4), ("400us", 0.4), ("2ms", 2.0)] {
        let scenario = BASE.replacen(
            "startTime: 2s..4s",
            &format!("startTime: 2s..4s\n      cpuPerRequest: {text}"),
            1,
        );
        let s = load(&scenario, &[]).unwrap_or_else(|d| panic!("{text}: {}", show(&d)));
        let have = s.apps["checkout"].cpu_per_request;
        if (have - want).abs() > 1e-9 {
            got.push(format!("{text}: {have} ms, want {want} ms"));
        }
    }
    assert!(got.is_empty(), "{}", got.join("\n"));
}

#[test]
fn spike_and_traffic_step_rates_are_checked_like_app_rates() {
    run(&[
        Case {
            name: "negative spike rate",
            edits: &[(
                "startTime: 2s..4s",
                "startTime: 2s..4s\n      spikes:\n        every: 1m\n        duration: 10s\n        requestsPerSecond: -50",
            )],
            files: &[],
            want: &[here(
                25,
                9,
                "spec.apps.checkout.spikes.requestsPerSecond",
                "must be a number",
                None,
            )],
        },
        Case {
            name: "traffic step far above the apps' limit",
            edits: &[(
                "rolloutRestart: web",
                "traffic: {app: web, requestsPerSecond: 1e12}",
            )],
            files: &[],
            want: &[here(
                24,
                27,
                "spec.timeline[0].traffic.requestsPerSecond",
                "must be a number from 0 to 10,000,000",
                None,
            )],
        },
    ]);
}

#[test]

fn generated_nodes_hold_at_least_one_pod() {
    run(&[
        Case {
            name: "negative pods",
            edits: &[("memory: 32Gi}", "memory: 32Gi, pods: -5}")],
            files: &[],
            want: &[here(11, 36, "spec.cluster.node.pods", "at least 1", None)],
        },
        Case {
            name: "no pods",
            edits: &[("memory: 32Gi}", "memory: 32Gi, pods: 0}")],
            files: &[],
            want: &[here(11, 36, "spec.cluster.node.pods", "at least 1", None)],
        },
    ]);
}

#[test]
fn a_workload_document_that_is_not_a_kubernetes_object_is_an_error() {
    const ADD_THIRD: (&str, &str) = (
        "    - checkout.yaml\n",
        "    - checkout.yaml\n    - extra.yaml\n",
    );
    run(&[
        Case {
            name: "plain text",
            edits: &[ADD_THIRD],
            files: &[("extra.yaml", "just text\n")],
            want: &[Want {
                file: "extra.yaml",
                line: 1,
                col: 1,
                path: "",
                message: "not a Kubernetes object",
                fix: Some("apiVersion"),
            }],
        },
        Case {
            name: "no kind",
            edits: &[ADD_THIRD],
            files: &[("extra.yaml", "apiVersion: v1\nmetadata: {name: x}\n")],
            want: &[Want {
                file: "extra.yaml",
                line: 1,
                col: 1,
                path: "",
                message: "`kind` is missing",
                fix: Some("kind"),
            }],
        },
    ]);
}

#[test]
fn unknown_app_hints_never_list_nothing() {
    let text = BASE.replacen(
        "    - web.yaml\n    - checkout.yaml\n",
        "    - svc.yaml\n",
        1,
    );
    let svc =
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{port: 80}]\n";
    let diags = load(&text, &[("svc.yaml", svc)]).err().unwrap_or_default();
    assert!(!diags.is_empty(), "a scenario with no app loaded");
    let empty: Vec<&Diagnostic> = diags
        .iter()
        .filter(|d| {
            d.fix
                .as_deref()
                .is_some_and(|f| f.trim_end().ends_with(':'))
        })
        .collect();
    assert!(
        empty.is_empty(),
        "{}",
        empty.iter().map(|d| format!("{d}\n")).collect::<String>()
    );
}

#[test]
fn a_workload_file_that_fails_to_load_is_reported_once() {
    run(&[Case {
        name: "web.yaml has a syntax error",
        edits: &[],
        files: &[(
            "web.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: web: x\n",
        )],
        want: &[Want {
            file: "web.yaml",
            line: 4,
            col: 12,
            path: "",
            message: "mapping values are not allowed",
            fix: None,
        }],
    }]);
}

#[test]
fn negative_numbers_in_unsigned_fields_are_below_the_minimum() {
    run(&[Case {
        name: "negative maxFails",
        edits: &[("propagationDelay: 3s", "maxFails: -1")],
        files: &[],
        want: &[here(
            13,
            5,
            "spec.loadBalancer.maxFails",
            "-1 is below the minimum 0",
            Some("at least 0"),
        )],
    }]);
}

#[test]
fn help_taken_from_field_docs_stays_on_one_line() {
    let text = BASE.replacen("requestsPerSecond: 100", "requestsPerSecond: fast", 1);
    let diags = load(&text, &[]).err().unwrap_or_default();
    assert_eq!(diags.len(), 1, "{}", show(&diags));
    let fix = diags[0].fix.as_deref().unwrap_or("");
    assert!(!fix.contains('\n'), "{fix:?}");
}
