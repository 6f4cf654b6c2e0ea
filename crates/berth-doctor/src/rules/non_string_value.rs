//! `non-string-value`: a value Kubernetes types as a string is read as a boolean or a number.
//!
//! kubectl converts YAML to JSON before sending it, reading YAML 1.1 (sigs.k8s.io/yaml, a
//! go-yaml v2 fork, `resolve.go`): an unquoted `yes`, `no`, `on`, `off`, `y` or `n` is a
//! boolean, `0644` is the octal number 420, `1.10` is the number 1.1. Where the field is a Go
//! string the API server refuses the JSON boolean or number (`cannot unmarshal bool into Go
//! struct field ObjectMeta.metadata.labels of type string`); `.inf` and `.nan` do not even
//! get that far: Go's encoding/json cannot encode them and kubectl fails with `json:
//! unsupported value: +Inf`. Checked: `metadata.name` and `metadata.namespace` (an
//! unquoted `namespace: no` is the boolean false), labels and annotations (object and pod
//! template), Service and workload selectors, `nodeSelector`, ConfigMap `data`, Secret
//! `stringData`, container `env[].value`, `command` and `args`.
//!
//! The fix is written for the field: `key: "true"` in a map, `value: "true"` in an env
//! entry, `- "8080"` (or `args: [--port, "8080"]`) in a command or argument list. It shows
//! the value as kubectl read it; when YAML changed the text on the way (`on` → true, `0644`
//! → 420, `1.10` → 1.1) the original spelling is what belongs between the quotes.

use berth_manifest::{FieldPath, Node, Value};

use crate::engine::{Cx, Sink, yaml_scalar};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "non-string-value";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "metadata.name or namespace, a label, annotation, selector, ConfigMap/Secret data entry, environment variable value, command or argument is written unquoted and reads as a boolean or number (kubectl reads YAML 1.1: yes/no/on/off/y/n are booleans, 0644 is octal; .inf and .nan cannot even be encoded).",
    source: "sigs.k8s.io/yaml decodes with a go-yaml v2 fork (YAML 1.1 resolve.go); ObjectMeta name/namespace/labels/annotations, ConfigMap data and EnvVar value are Go strings, so the API server rejects other JSON types; Go encoding/json UnsupportedValueError for Inf/NaN",
    help: "kubectl converts YAML to JSON before sending it: an unquoted `yes`, `on`, `true`, `8080` or `0644` becomes a JSON boolean or number, and the API server refuses it where the field is a string (\"cannot unmarshal bool into Go struct field ... of type string\"); `.inf` and `.nan` make kubectl itself fail (\"json: unsupported value\"). Quote the value: `key: \"true\"`, `value: \"on\"`, `args: [--port, \"8080\"]`.",
};

/// String maps every object may carry.
const META_MAPS: [&str; 2] = ["labels", "annotations"];

/// Where a scalar sits, which decides how the fix is written.
enum Place<'a> {
    /// `metadata.name` or `metadata.namespace`.
    Meta { key: &'a str },
    /// `key: value` in a mapping (labels, data, selectors).
    Map { key: &'a str },
    /// `env[].value` of the variable named `name`.
    Env { name: &'a str },
    /// An item of a `command` or `args` list.
    Item {
        field: &'a str,
        index: usize,
        list: &'a [Node],
    },
}

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let node = &cx.object.node;
    let root = FieldPath::root();
    let meta = root.key("metadata");
    for key in ["name", "namespace"] {
        if let Some(v) = node.path(&["metadata", key]) {
            scalar(v, &meta.key(key), &Place::Meta { key }, out);
        }
    }
    for m in META_MAPS {
        string_map(node.path(&["metadata", m]), &meta.key(m), out);
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
    string_map(
        w.spec_field("nodeSelector"),
        &spec_path.key("nodeSelector"),
        out,
    );
    for c in w.containers() {
        let cp = c.path(&spec_path);
        for (i, e) in c
            .get("env")
            .map(Node::as_seq)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            if let Some(v) = e.get("value") {
                let name = e.get("name").and_then(Node::as_str).unwrap_or("?");
                scalar(
                    v,
                    &cp.key("env").index(i).key("value"),
                    &Place::Env { name },
                    out,
                );
            }
        }
        for field in ["command", "args"] {
            let list = c.get(field).map(Node::as_seq).unwrap_or_default();
            for (index, a) in list.iter().enumerate() {
                scalar(
                    a,
                    &cp.key(field).index(index),
                    &Place::Item { field, index, list },
                    out,
                );
            }
        }
    }
}

fn string_map(map: Option<&Node>, path: &FieldPath, out: &mut Sink<'_>) {
    let Some(m) = map.and_then(Node::as_map) else {
        return;
    };
    for e in m.iter() {
        scalar(
            &e.value,
            &path.key(&e.key),
            &Place::Map { key: &e.key },
            out,
        );
    }
}

/// Go's `strconv.FormatFloat(f, 'g', -1, 64)` for the values JSON cannot hold.
fn go_non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        "NaN"
    } else if f > 0.0 {
        "+Inf"
    } else {
        "-Inf"
    }
}

/// The YAML spelling of a non-finite float.
fn yaml_non_finite(f: f64) -> &'static str {
    if f.is_nan() {
        ".nan"
    } else if f > 0.0 {
        ".inf"
    } else {
        "-.inf"
    }
}

/// A scalar as kubectl read it, as text to put between quotes; `None` for strings, null
/// and collections.
fn read_as(v: &Node) -> Option<String> {
    match &v.value {
        Value::Bool(b) => Some(b.to_string()),
        Value::Int(i) => Some(i.to_string()),
        Value::Float(f) if !f.is_finite() => Some(yaml_non_finite(*f).to_string()),
        Value::Float(f) => Some(f.to_string()),
        _ => None,
    }
}

fn quoted(text: &str) -> String {
    format!("{text:?}")
}

fn scalar(v: &Node, path: &FieldPath, place: &Place<'_>, out: &mut Sink<'_>) {
    let Some(text) = read_as(v) else { return };
    let (what, caveat) = match &v.value {
        Value::Float(f) if !f.is_finite() => ("the float", ""),
        Value::Bool(_) => (
            "the boolean",
            " (YAML 1.1 also reads yes/no/on/off/y/n as booleans: if you wrote one of those, quote the word you wrote)",
        ),
        Value::Int(_) => (
            "the number",
            " (if you wrote it with a leading 0, 0x, 0o or 0b, or with _, YAML read it as a number in that base: quote the digits as you wrote them)",
        ),
        _ => (
            "the number",
            " (YAML drops trailing zeros and exponents, 1.10 reads as 1.1: quote the text exactly as you wrote it)",
        ),
    };
    let name = match place {
        Place::Meta { key } => format!("`metadata.{key}`"),
        Place::Map { key } => format!("`{key}`"),
        Place::Env { name } => format!("environment variable `{name}`"),
        Place::Item { field, index, .. } => format!("`{field}[{index}]`"),
    };
    let fix = match place {
        Place::Meta { key } | Place::Map { key } => format!(
            "quote it: `{}: {}`{caveat}",
            yaml_scalar(key),
            quoted(&text)
        ),
        Place::Env { name } => format!(
            "quote it: `value: {}`, i.e. `- {{name: {}, value: {}}}`{caveat}",
            quoted(&text),
            yaml_scalar(name),
            quoted(&text)
        ),
        Place::Item { field, list, .. } => {
            let items: Vec<String> = list
                .iter()
                .map(|n| match (&n.value, read_as(n)) {
                    (Value::Str(s), _) => yaml_scalar(s),
                    (_, Some(t)) => quoted(&t),
                    _ => crate::engine::flow(n),
                })
                .collect();
            format!(
                "quote the item: `- {}`, i.e. `{field}: [{}]`{caveat}",
                quoted(&text),
                items.join(", ")
            )
        }
    };
    let message = match &v.value {
        Value::Float(f) if !f.is_finite() => format!(
            "{name} is read as {what} {text}, not a string: kubectl cannot even encode it as JSON (`json: unsupported value: {}`), so the apply fails before anything reaches the API server",
            go_non_finite(*f)
        ),
        _ => {
            let go = if matches!(v.value, Value::Bool(_)) {
                "bool"
            } else {
                "number"
            };
            format!(
                "{name} is read as {what} {text}, not a string: kubectl sends it as JSON {text} and the API server rejects it (`cannot unmarshal {go} into Go struct field ... of type string`)"
            )
        }
    };
    out.warn(path, message, fix);
}
