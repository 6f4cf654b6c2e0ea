//! Runs every rule over every object, applies suppressions and orders the findings.

use berth_manifest::{FieldPath, Node, Object, Value};

use crate::finding::{Finding, ObjectRef, RuleInfo, Severity};
use crate::index::{Index, Namespace};
use crate::workload::{LimitDefaults, Workload};

/// The annotation that suppresses rules for one object: `berth.dev/ignore: rule-a,rule-b`
/// (or `*` for every rule). On workloads it is also read from the pod template.
pub const IGNORE_ANNOTATION: &str = "berth.dev/ignore";

/// What a rule sees: one object and the index over all of them.
pub(crate) struct Cx<'a> {
    /// The index over every object of this run.
    pub index: &'a Index<'a>,
    /// The object's position in the input slice.
    pub i: usize,
    /// The object.
    pub object: &'a Object,
}

impl<'a> Cx<'a> {
    /// The workload view, when the object is a workload.
    pub(crate) fn workload(&self) -> Option<&'a Workload<'a>> {
        self.index.workloads[self.i].as_ref()
    }

    /// The object's namespace record.
    pub(crate) fn namespace(&self) -> Option<&'a Namespace<'a>> {
        self.index.namespace(self.i)
    }

    /// The namespace name (`default` when not written).
    pub(crate) fn namespace_name(&self) -> &'a str {
        crate::index::namespace_of(self.object)
    }

    /// LimitRange defaults of the object's namespace.
    pub(crate) fn limits(&self) -> Option<&'a LimitDefaults> {
        self.namespace().and_then(|n| n.limits.as_ref())
    }

    /// Another object of the input.
    pub(crate) fn other(&self, i: usize) -> &'a Object {
        &self.index.objects[i]
    }
}

/// Where a rule writes its findings for the current object.
pub(crate) struct Sink<'a> {
    object: &'a Object,
    object_ref: &'a ObjectRef,
    rule: &'static RuleInfo,
    out: &'a mut Vec<Finding>,
}

impl Sink<'_> {
    /// Records a finding at `path` (positioned at the field or its nearest existing parent).
    pub(crate) fn emit(
        &mut self,
        severity: Severity,
        path: &FieldPath,
        message: String,
        fix: String,
    ) {
        debug_assert!(
            severity <= self.rule.severity,
            "{} emits above its registered severity",
            self.rule.id
        );
        self.out.push(Finding {
            rule: self.rule.id,
            severity,
            object: self.object_ref.clone(),
            file: self.object.file.clone(),
            pos: self.object.node.pos_of(path),
            path: path.to_string(),
            message,
            fix,
            object_pos: self.object.node.pos,
        });
    }

    /// Records a finding at the rule's registered severity.
    pub(crate) fn warn(&mut self, path: &FieldPath, message: String, fix: String) {
        let s = self.rule.severity;
        self.emit(s, path, message, fix);
    }
}

/// The ids an object's `berth.dev/ignore` annotations name (object metadata and, for
/// workloads, pod-template metadata).
pub(crate) fn ignored_ids<'a>(
    object: &'a Object,
    workload: Option<&Workload<'a>>,
) -> Vec<(&'a str, FieldPath)> {
    let mut out = Vec::new();
    let object_value = object.annotation(IGNORE_ANNOTATION);
    let template_value = workload
        .filter(|w| !w.template_path.is_root())
        .and_then(|w| {
            w.pod_annotation(IGNORE_ANNOTATION)
                .map(|v| (v, w.meta_path()))
        });
    let sources = object_value
        .map(|v| (v, FieldPath::root().key("metadata")))
        .into_iter()
        .chain(template_value);
    for (value, meta) in sources {
        let path = meta.key("annotations").key(IGNORE_ANNOTATION);
        for id in value
            .split([',', ' ', '\n', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            out.push((id, path.clone()));
        }
    }
    out
}

/// Findings and how many suppressions hid.
pub(crate) struct Outcome {
    pub findings: Vec<Finding>,
    pub suppressed: usize,
}

/// Runs every rule over every object.
pub(crate) fn run(objects: &[Object]) -> Outcome {
    let index = Index::build(objects);
    let mut keyed: Vec<(usize, Finding)> = Vec::new();
    let mut suppressed = 0;
    let mut buf = Vec::new();
    for (i, object) in objects.iter().enumerate() {
        let cx = Cx {
            index: &index,
            i,
            object,
        };
        let object_ref = ObjectRef::of(object);
        for (info, check) in crate::rules::registry() {
            let mut sink = Sink {
                object,
                object_ref: &object_ref,
                rule: info,
                out: &mut buf,
            };
            check(&cx, &mut sink);
        }
        if buf.is_empty() {
            continue;
        }
        let ignored = ignored_ids(object, cx.workload());
        for f in buf.drain(..) {
            if ignored.iter().any(|(id, _)| *id == "*" || *id == f.rule) {
                suppressed += 1;
            } else {
                keyed.push((i, f));
            }
        }
    }
    keyed.sort_by(|(ia, a), (ib, b)| {
        let (oa, ob) = (&objects[*ia], &objects[*ib]);
        a.file
            .cmp(&b.file)
            .then(oa.document.cmp(&ob.document))
            .then(oa.item.cmp(&ob.item))
            .then(ia.cmp(ib))
            .then(a.pos.line.cmp(&b.pos.line))
            .then(a.rule.cmp(b.rule))
            .then(a.pos.col.cmp(&b.pos.col))
            .then(a.path.cmp(&b.path))
            .then(a.message.cmp(&b.message))
    });
    Outcome {
        findings: keyed.into_iter().map(|(_, f)| f).collect(),
        suppressed,
    }
}

/// `key: value` text for a fix, quoting strings that YAML would read as something else.
pub(crate) fn yaml_scalar(s: &str) -> String {
    let plain = s
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
        && berth_manifest::plain_reads_as_string(s);
    if plain {
        s.to_string()
    } else {
        format!("{s:?}")
    }
}

/// A node as YAML flow text for fixes: `{path: /livez, port: http}`.
pub(crate) fn flow(node: &Node) -> String {
    match &node.value {
        Value::Null => "null".into(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Float(f) => f.to_string(),
        Value::Str(s) => yaml_scalar(s),
        Value::Seq(items) => format!(
            "[{}]",
            items.iter().map(flow).collect::<Vec<_>>().join(", ")
        ),
        Value::Map(m) => format!(
            "{{{}}}",
            m.iter()
                .map(|e| format!("{}: {}", yaml_scalar(&e.key), flow(&e.value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixes_quote_only_what_yaml_would_misread() {
        assert_eq!(yaml_scalar("web"), "web");
        assert_eq!(yaml_scalar("/ready"), "/ready");
        assert_eq!(yaml_scalar("8080"), "\"8080\"");
        assert_eq!(yaml_scalar("true"), "\"true\"");
        // kubectl reads YAML 1.1: these would turn into a boolean and an octal number.
        assert_eq!(yaml_scalar("y"), "\"y\"");
        assert_eq!(yaml_scalar("0644"), "\"0644\"");
        assert_eq!(yaml_scalar("a b"), "\"a b\"");
    }

    #[test]
    fn nodes_print_as_yaml_flow() {
        let (objs, errs) = berth_manifest::load_objects(
            "t.yaml",
            "apiVersion: v1\nkind: X\nh: {path: /livez, port: http, m: [1, 'on']}\n",
        );
        assert!(errs.is_empty(), "{errs:?}");
        let h = objs[0].node.get("h").map(flow);
        assert_eq!(
            h.as_deref(),
            Some("{path: /livez, port: http, m: [1, \"on\"]}")
        );
    }
}
