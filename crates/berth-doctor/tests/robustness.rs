//! No input makes the doctor panic: random bytes, Helm templates, truncated documents, and
//! every fixture with any subtree replaced by a value of the wrong type. A valid document
//! after a broken one still gets its findings.

use std::path::Path;
use std::sync::{Arc, OnceLock};

use berth_doctor::{Report, check, output};
use berth_manifest::{Entry, Map, Node, Object, Pos, Value, load_bytes, load_objects};
use proptest::prelude::*;

fn fixtures() -> &'static Vec<(String, String)> {
    static F: OnceLock<Vec<(String, String)>> = OnceLock::new();
    F.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
        let mut out = Vec::new();
        for rule in std::fs::read_dir(&dir).expect("fixtures").flatten() {
            for file in std::fs::read_dir(rule.path()).expect("rule dir").flatten() {
                let text = std::fs::read_to_string(file.path()).expect("fixture");
                out.push((file.path().display().to_string(), text));
            }
        }
        out.sort();
        out
    })
}

/// Runs everything a CLI would run on objects; panics propagate.
fn exercise(objects: &[Object], errors: Vec<berth_manifest::LoadError>) {
    let r = Report::new(objects, errors);
    let _ = output::json(&r);
    let _ = output::sarif(&r);
    let _ = output::table(&r, true);
    assert_eq!(r.findings, check(objects));
}

fn junk_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Int),
        prop_oneof![Just(f64::NAN), Just(f64::INFINITY), Just(-0.5), Just(1e300)]
            .prop_map(Value::Float),
        "[a-zA-Z0-9 %:/.@{}-]{0,12}".prop_map(Value::Str),
        prop_oneof![
            Just("65%".to_string()),
            Just("x".to_string()),
            Just("-1".to_string()),
            Just("500m".to_string()),
            Just("sleep 5".to_string())
        ]
        .prop_map(Value::Str),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| Value::Seq(
                v.into_iter()
                    .map(|x| Node::new(Pos::default(), x))
                    .collect()
            )),
            prop::collection::vec(("[a-zA-Z]{1,8}", inner), 0..4).prop_map(|kv| {
                let mut seen = std::collections::HashSet::new();
                Value::Map(Map(kv
                    .into_iter()
                    .filter(|(k, _)| seen.insert(k.clone()))
                    .map(|(k, v)| Entry {
                        key: k,
                        key_pos: Pos::default(),
                        value: Node::new(Pos::default(), v),
                    })
                    .collect()))
            }),
        ]
    })
}

fn count(node: &Node) -> usize {
    1 + match &node.value {
        Value::Seq(items) => items.iter().map(count).sum(),
        Value::Map(m) => m.iter().map(|e| count(&e.value)).sum(),
        _ => 0,
    }
}

/// Replaces the `pick`-th node (pre-order, modulo the node count) of every object.
fn mutate(objects: &mut [Object], pick: usize, junk: &Value) {
    for o in objects.iter_mut() {
        let mut n = pick % count(&o.node);
        if n == 0 {
            n = 1; // keep the root a mapping: load_objects never yields anything else
        }
        replace(&mut o.node, n, junk);
    }
}

fn replace(root: &mut Node, n: usize, junk: &Value) {
    let mut k = n;
    // Pre-order walk with a counter; the `n`-th node takes the junk value.
    fn walk(node: &mut Node, k: &mut usize, junk: &Value) -> bool {
        if *k == 0 {
            node.value = junk.clone();
            return true;
        }
        *k -= 1;
        match &mut node.value {
            Value::Seq(items) => items.iter_mut().any(|c| walk(c, k, junk)),
            Value::Map(m) => m.0.iter_mut().any(|e| walk(&mut e.value, k, junk)),
            _ => false,
        }
    }
    walk(root, &mut k, junk);
}

const FRAGMENTS: &[&str] = &[
    "apiVersion: apps/v1\n",
    "kind: Deployment\n",
    "kind: PodDisruptionBudget\n",
    "apiVersion: policy/v1\n",
    "kind: HorizontalPodAutoscaler\n",
    "apiVersion: autoscaling/v2\n",
    "metadata:\n  name: web\n",
    "spec:\n",
    "  replicas: {{ .Values.replicas }}\n",
    "  replicas: \"x\"\n",
    "  template:\n",
    "    spec:\n",
    "      containers: 5\n",
    "      containers:\n      - name: a\n        image: nginx\n",
    "  minAvailable: 65%\n",
    "  selector: {matchLabels: {app: web}}\n",
    "---\n",
    "- a\n",
    "[unclosed\n",
    "  scaleTargetRef: {kind: Deployment, name: web}\n",
    "\t\u{0}bad",
    "key: &a [*a]\n",
    "'\n",
    ": :\n",
    "        lifecycle: {preStop: {exec: {command: [sh, -c, 'sleep 9']}}}\n",
    "{{- if .Values.x }}\n",
];

proptest! {
    // A fixed seed (as the other crates use) keeps CI reproducible; raise `cases` or set
    // the seed locally to explore further.
    #![proptest_config(ProptestConfig {
        cases: 256,
        rng_seed: proptest::test_runner::RngSeed::Fixed(0x0062_6572_7468),
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let (objs, errs) = load_bytes("junk.bin", &bytes);
        exercise(&objs, errs);
    }

    #[test]
    fn stitched_yaml_fragments_never_panic(picks in prop::collection::vec(0..FRAGMENTS.len(), 0..24), cut in any::<prop::sample::Index>()) {
        let text: String = picks.iter().map(|&i| FRAGMENTS[i]).collect();
        // Also try the text truncated at an arbitrary character boundary.
        let chars: Vec<char> = text.chars().collect();
        let truncated: String = chars[..cut.index(chars.len() + 1)].iter().collect();
        for t in [&text, &truncated] {
            let (objs, errs) = load_bytes("t.yaml", t.as_bytes());
            exercise(&objs, errs);
        }
    }

    #[test]
    fn fixtures_with_any_subtree_of_the_wrong_type_never_panic(file in 0..64usize, pick in 0..400usize, junk in junk_value()) {
        let all = fixtures();
        let (name, text) = &all[file % all.len()];
        let (mut objs, errs) = load_objects(name, text);
        prop_assert!(errs.is_empty());
        mutate(&mut objs, pick, &junk);
        exercise(&objs, Vec::new());
    }

    #[test]
    fn random_trees_as_objects_never_panic(kind in prop::sample::select(vec!["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Pod", "PodDisruptionBudget", "HorizontalPodAutoscaler", "Service", "NetworkPolicy", "LimitRange"]), spec in junk_value(), meta in junk_value()) {
        let api = match kind {
            "Pod" | "Service" | "LimitRange" => "v1",
            "CronJob" => "batch/v1",
            "PodDisruptionBudget" => "policy/v1",
            "HorizontalPodAutoscaler" => "autoscaling/v2",
            "NetworkPolicy" => "networking.k8s.io/v1",
            _ => "apps/v1",
        };
        let e = |k: &str, v: Value| Entry { key: k.into(), key_pos: Pos::default(), value: Node::new(Pos::default(), v) };
        let node = Node::new(Pos::default(), Value::Map(Map(vec![
            e("apiVersion", Value::Str(api.into())),
            e("kind", Value::Str(kind.into())),
            e("metadata", meta),
            e("spec", spec),
        ])));
        let objs = vec![Object { file: Arc::from("tree.yaml"), document: 0, item: None, node, duplicate_keys: Vec::new() }];
        exercise(&objs, Vec::new());
    }

    #[test]
    fn a_valid_document_after_a_broken_one_keeps_its_findings(junk in prop::sample::select(vec!["kind: [unclosed", "a: b: c", "\"unterminated", "spec: {{ .Values.spec }}", "- just\n- a list", "foo: bar"])) {
        let valid = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        image: nginx:latest\n";
        let (alone, _) = load_objects("v.yaml", valid);
        let want: Vec<(&str, String)> = check(&alone).iter().map(|f| (f.rule, f.path.clone())).collect();
        prop_assert!(want.iter().any(|(r, _)| *r == "image-tag-mutable"));
        let text = format!("{junk}\n---\n{valid}");
        let (objs, errs) = load_objects("v.yaml", &text);
        prop_assert!(!errs.is_empty(), "the broken document is reported");
        let got: Vec<(&str, String)> = check(&objs).iter().map(|f| (f.rule, f.path.clone())).collect();
        prop_assert_eq!(got, want);
    }
}

#[test]
fn wrong_types_in_the_usual_places_are_read_as_absent() {
    let docs = [
        "apiVersion: apps/v1\nkind: Deployment\nspec: {replicas: x, template: {spec: {containers: 5}}}\n",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: 7\nspec: {template: {metadata: [1], spec: {containers: [5, null, {name: 3, resources: {requests: {cpu: [1]}}, lifecycle: {preStop: {exec: {command: sleep}}}}]}}}\n",
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nspec: {minAvailable: {a: 1}, selector: {matchLabels: [a]}}\n",
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {scaleTargetRef: {kind: 5, name: web}, minReplicas: '2', metrics: {a: 1}}\n",
        "apiVersion: v1\nkind: Pod\nspec: {tolerations: [{key: node.kubernetes.io/not-ready, tolerationSeconds: '30'}], volumes: [{hostPath: 5}], securityContext: 5}\n",
        "apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: [1, 2]}\n",
        "apiVersion: v1\nkind: LimitRange\nspec: {limits: [{type: Container, default: {cpu: abc, memory: [1]}}]}\n",
    ];
    for d in docs {
        let (objs, errs) = load_objects("w.yaml", d);
        assert!(errs.is_empty(), "{d}: {errs:?}");
        exercise(&objs, Vec::new());
    }
}

#[test]
fn extreme_numbers_do_not_overflow() {
    let max = i64::MAX;
    let min = i64::MIN;
    let text = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {max}\n  template:\n    metadata: {{labels: {{app: web, tier: standard}}}}\n    spec:\n      terminationGracePeriodSeconds: {min}\n      tolerations: [{{key: node.kubernetes.io/unreachable, effect: NoExecute, tolerationSeconds: {min}}}]\n      containers:\n      - name: a\n        image: a:1\n        ports: [{{containerPort: {max}}}]\n        lifecycle: {{preStop: {{exec: {{command: [sleep, '1e300']}}}}}}\n        livenessProbe: {{tcpSocket: {{port: {max}}}, initialDelaySeconds: {max}, failureThreshold: {max}, periodSeconds: {max}}}\n        resources: {{requests: {{cpu: '999999999999999999999999999', memory: 1Ei}}, limits: {{cpu: 1n, memory: 8Ei}}}}\n      - name: b\n        image: b:1\n        lifecycle: {{preStop: {{sleep: {{seconds: {max}}}}}}}\n        livenessProbe: {{exec: {{command: [x]}}, initialDelaySeconds: {min}, failureThreshold: {min}, periodSeconds: {min}}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {{name: web}}\nspec: {{scaleTargetRef: {{kind: Deployment, name: web}}, minReplicas: {max}, maxReplicas: {max}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web}}\nspec: {{minAvailable: '{max}%', selector: {{matchLabels: {{app: web}}}}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {{name: web2}}\nspec: {{maxUnavailable: {min}, selector: {{matchLabels: {{app: web}}}}}}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web-b}}\nspec:\n  replicas: {max}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec: {{containers: [{{name: a, image: 'a:1'}}]}}\n"
    );
    let (objs, errs) = load_objects("big.yaml", &text);
    assert!(errs.is_empty(), "{errs:?}");
    exercise(&objs, Vec::new());
}
