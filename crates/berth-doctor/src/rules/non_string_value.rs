//! `non-string-value`: a value Kubernetes types as a string is read as a boolean or a number.

use berth_manifest::{FieldPath, Node, Value};

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "non-string-value";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A label, annotation, selector, ConfigMap/Secret data entry, environment variable value, command or argument is written unquoted and reads as a boolean or number (kubectl reads YAML 1.1: yes/no/on/off/y/n are booleans, 0644 is octal).",
    source: "sigs.k8s.io/yaml decodes with a go-yaml v2 fork (YAML 1.1 resolve.go); ObjectMeta labels/annotations, ConfigMap data and EnvVar value are Go strings, so the API server rejects other JSON types",
    help: "kubectl converts YAML to JSON before sending it: an unquoted `yes`, `on`, `true`, `8080` or `0644` becomes a JSON boolean or number, and the API server refuses it where the field is a string (\"cannot unmarshal bool into Go struct field ... of type string\"). Quote the value.",
};

/// String maps every object may carry.
const META_MAPS: [&str; 2] = ["labels", "annotations"];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let node = &cx.object.node;
    let root = FieldPath::root();
    for m in META_MAPS {
        string_map(node.path(&["metadata", m]), &root.key("metadata").key(m), out);
    }
    match cx.object.kind() {
        "ConfigMap" => string_map(node.get("data"), &root.key("data"), out),
        "Secret" => string_map(node.get("stringData"), &root.key("stringData"), out),
        "Service" => string_map(
            node.path(&["spec", "selector"]),
            &root.key("spec").key("selector"),
            out,
        ),
        _ => {}
    }
    let Some(w) = cx.workload() else { return };
    if w.template.is_some() && !w.template_path.is_root() {
        let meta = w.meta_path();
        for m in META_MAPS {
            string_map(
                w.template.and_then(|t| t.path(&["metadata", m])),
                &meta.key(m),
                out,
            );
        }
        string_map(
            node.path(&["spec", "selector", "matchLabels"]),
            &root.key("spec").key("selector").key("matchLabels"),
            out,
        );
    }
    let spec_path = w.spec_path();
    string_map(w.spec_field("nodeSelector"), &spec_path.key("nodeSelector"), out);
    for c in w.containers() {
        let cp = c.path(&spec_path);
        for (i, e) in c.get("env").map(Node::as_seq).unwrap_or_default().iter().enumerate() {
            if let Some(v) = e.get("value") {
                let name = e.get("name").and_then(Node::as_str).unwrap_or("?");
                scalar(v, &cp.key("env").index(i).key("value"), name, out);
            }
        }
        for field in ["command", "args"] {
            for (i, a) in c.get(field).map(Node::as_seq).unwrap_or_default().iter().enumerate() {
                scalar(a, &cp.key(field).index(i), &format!("{field}[{i}]"), out);
            }
        }
    }
}

fn string_map(map: Option<&Node>, path: &FieldPath, out: &mut Sink<'_>) {
    let Some(m) = map.and_then(Node::as_map) else { return };
    for e in m.iter() {
        scalar(&e.value, &path.key(&e.key), &e.key, out);
    }
}

fn scalar(v: &Node, path: &FieldPath, name: &str, out: &mut Sink<'_>) {
    let (what, shown) = match &v.value {
        Value::Bool(b) => ("the boolean", b.to_string()),
        Value::Int(i) => ("the number", i.to_string()),
        Value::Float(f) => ("the number", f.to_string()),
        _ => return,
    };
    out.warn(
        path,
        format!(
            "`{name}` is read as {what} {shown}, not a string: kubectl sends it as JSON {shown} and the API server rejects a non-string here (YAML 1.1, as kubectl reads it, also turns yes/no/on/off/y/n into booleans and 0644 into octal 420)"
        ),
        format!("quote the value as written, e.g. `{name}: \"...\"`, so that it stays a string"),
    );
}
