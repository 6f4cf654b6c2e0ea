//! Checking a [`Node`] tree against an OpenAPI v3 schema, as the API server's structural
//! schema validation would, but with positions and suggestions.
//!
//! Handles what CRD schemas use: `type`, `properties`, `additionalProperties`, `required`,
//! `items`, `enum`, `minimum`/`maximum`, `nullable`, `oneOf`/`anyOf`,
//! `x-kubernetes-int-or-string` and `x-kubernetes-preserve-unknown-fields`. Unknown fields
//! are errors that name the closest known field ("did you mean `minReplicas`?").

use serde_json::Value as J;

use crate::node::{Node, Pos, Value};
use crate::path::FieldPath;

/// One way a tree breaks its schema.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    /// The field that is wrong.
    pub path: FieldPath,
    /// Where it is written.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
    /// How to fix it.
    pub fix: Option<String>,
}

/// Checks `node` against `schema`; returns every violation found, in source order.
pub fn check(node: &Node, schema: &J) -> Vec<Violation> {
    let mut out = Vec::new();
    walk(node, schema, &FieldPath::root(), node.pos, &mut out);
    out.sort_by_key(|v| v.pos);
    out
}

fn walk(node: &Node, schema: &J, path: &FieldPath, at: Pos, out: &mut Vec<Violation>) {
    let Some(s) = schema.as_object() else {
        return;
    };
    if node.is_null() {
        if s.get("nullable").and_then(J::as_bool) == Some(true) {
            return;
        }
        // An empty value (`field:` with nothing after it) reads as null; the API server
        // drops nulls in optional fields, and so do we.
        return;
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = s.get(key).and_then(J::as_array) {
            let mut best: Option<Vec<Violation>> = None;
            for alt in alts {
                let mut v = Vec::new();
                walk(node, alt, path, at, &mut v);
                if v.is_empty() {
                    best = None;
                    break;
                }
                if best.as_ref().is_none_or(|b| v.len() < b.len()) {
                    best = Some(v);
                }
            }
            if let Some(b) = best {
                out.extend(b);
                return;
            }
        }
    }
    if s.get("x-kubernetes-int-or-string").and_then(J::as_bool) == Some(true) {
        if !matches!(node.value, Value::Int(_) | Value::Str(_)) {
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!(
                    "expected an integer or a string, found {}",
                    node.type_name()
                ),
                fix: Some(match node.value {
                    Value::Float(_) => {
                        "quote the value (`\"0.5\"`) or write it with a unit (`500m`)".into()
                    }
                    _ => "write a whole number or a string".into(),
                }),
            });
        }
        return;
    }
    let ty = s.get("type").and_then(J::as_str);
    let ok = matches!(
        (ty, &node.value),
        (None, _)
            | (Some("object"), Value::Map(_))
            | (Some("array"), Value::Seq(_))
            | (Some("string"), Value::Str(_))
            | (Some("integer"), Value::Int(_))
            | (Some("number"), Value::Int(_) | Value::Float(_))
            | (Some("boolean"), Value::Bool(_))
    );
    if let Value::Float(f) = node.value
        && !f.is_finite()
    {
        out.push(Violation {
            path: path.clone(),
            pos: at,
            message: format!("{f} is not a usable number"),
            fix: Some("write a finite number".into()),
        });
        return;
    }
    if !ok {
        let want = match ty {
            Some("object") => "a mapping",
            Some("array") => "a sequence",
            Some("string") => "a string",
            Some("integer") => "an integer",
            Some("number") => "a number",
            Some("boolean") => "true or false",
            _ => "another type",
        };
        let fix = match (ty, &node.value) {
            (Some("string"), Value::Int(_) | Value::Float(_) | Value::Bool(_)) => {
                Some("quote the value to make it a string".to_string())
            }
            (Some("integer" | "number"), Value::Str(t)) if t.trim().parse::<f64>().is_ok() => {
                Some("remove the quotes".to_string())
            }
            _ => None,
        };
        let scalar = !matches!(ty, Some("object" | "array"));
        let fix = fix.or_else(|| {
            Some(match s.get("description").and_then(J::as_str) {
                Some(d) if scalar => format!("write {want} here: {}", first_sentence(d)),
                _ => format!("write {want} here"),
            })
        });
        out.push(Violation {
            path: path.clone(),
            pos: at,
            message: format!("expected {want}, found {}", node.type_name()),
            fix,
        });
        return;
    }
    if let Some(allowed) = s.get("enum").and_then(J::as_array) {
        let json = node.to_json();
        if !allowed.contains(&json) {
            let names: Vec<String> = allowed.iter().map(|a| a.to_string()).collect();
            let suggestion = node
                .as_str()
                .and_then(|t| closest(t, allowed.iter().filter_map(J::as_str)));
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!("{} is not one of {}", json, names.join(", ")),
                fix: Some(match suggestion {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("use one of {}", names.join(", ")),
                }),
            });
        }
    }
    if let Some(n) = node.as_f64() {
        let (lo, hi) = match s.get("format").and_then(J::as_str) {
            Some("int32") => (f64::from(i32::MIN), f64::from(i32::MAX)),
            Some("uint32") => (0.0, f64::from(u32::MAX)),
            Some("int64") => (i64::MIN as f64, i64::MAX as f64),
            _ => (f64::NEG_INFINITY, f64::INFINITY),
        };
        if n < lo {
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!("{n} is below the minimum {lo}"),
                fix: Some(format!("use a value of at least {lo}")),
            });
            return;
        }
        if n > hi {
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!("{n} is too large for this field"),
                fix: Some("use a smaller number".into()),
            });
            return;
        }
        if let Some(min) = s.get("minimum").and_then(J::as_f64)
            && n < min
        {
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!("{n} is below the minimum {min}"),
                fix: Some(format!("use a value of at least {min}")),
            });
        }
        if let Some(max) = s.get("maximum").and_then(J::as_f64)
            && n > max
        {
            out.push(Violation {
                path: path.clone(),
                pos: at,
                message: format!("{n} is above the maximum {max}"),
                fix: Some(format!("use a value of at most {max}")),
            });
        }
    }
    match &node.value {
        Value::Map(map) => {
            let props = s.get("properties").and_then(J::as_object);
            let additional = s.get("additionalProperties");
            let preserve = s
                .get("x-kubernetes-preserve-unknown-fields")
                .and_then(J::as_bool)
                == Some(true);
            for e in map.iter() {
                let child = path.key(&e.key);
                if let Some(p) = props.and_then(|p| p.get(&e.key)) {
                    walk(&e.value, p, &child, e.key_pos, out);
                } else if let Some(a) = additional.filter(|a| a.is_object()) {
                    walk(&e.value, a, &child, e.key_pos, out);
                } else if additional.and_then(J::as_bool) == Some(true) || preserve {
                } else if let Some(props) = props {
                    let suggestion = closest(&e.key, props.keys().map(String::as_str));
                    let known: Vec<&str> = props.keys().map(String::as_str).collect();
                    out.push(Violation {
                        path: child,
                        pos: e.key_pos,
                        message: format!("unknown field `{}`", e.key),
                        fix: Some(match suggestion {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("known fields here: {}", known.join(", ")),
                        }),
                    });
                }
            }
            if let Some(req) = s.get("required").and_then(J::as_array) {
                for r in req.iter().filter_map(J::as_str) {
                    if map.get(r).is_none_or(Node::is_null) {
                        out.push(Violation {
                            path: path.key(r),
                            pos: at,
                            message: format!("required field `{r}` is missing"),
                            fix: Some(format!("add `{r}:`")),
                        });
                    }
                }
            }
        }
        Value::Seq(items) => {
            if let Some(item_schema) = s.get("items") {
                for (i, item) in items.iter().enumerate() {
                    walk(item, item_schema, &path.index(i), item.pos, out);
                }
            }
        }
        _ => {}
    }
}

fn first_sentence(d: &str) -> &str {
    let d = d.trim();
    match d.find(". ") {
        Some(i) => &d[..=i],
        None => d,
    }
}

/// The known name closest to `typo`, if one is close enough to be what was meant.
pub fn closest<'a>(typo: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let lower = typo.to_ascii_lowercase();
    let mut best: Option<(usize, &str)> = None;
    for k in known {
        let d = if k.to_ascii_lowercase() == lower {
            0
        } else {
            strsim::damerau_levenshtein(&lower, &k.to_ascii_lowercase())
        };
        let limit = (k.len().max(typo.len()) / 3).max(1);
        let prefix = k.len() >= 4
            && (k.to_ascii_lowercase().starts_with(&lower)
                || lower.starts_with(&k.to_ascii_lowercase()));
        let d = if prefix { d.min(limit) } else { d };
        if d <= limit && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, k));
        }
    }
    best.map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load_documents;

    fn schema() -> J {
        serde_json::json!({
            "type": "object",
            "required": ["image"],
            "properties": {
                "image": {"type": "string"},
                "minReplicas": {"type": "integer", "minimum": 1},
                "tier": {"type": "string", "enum": ["core", "standard", "batch"]},
                "port": {"x-kubernetes-int-or-string": true},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            }
        })
    }

    fn violations(yaml: &str) -> Vec<Violation> {
        let (docs, errs) = load_documents("t.yaml", yaml);
        assert!(errs.is_empty(), "{errs:?}");
        check(&docs[0].root, &schema())
    }

    #[test]
    fn unknown_fields_point_at_the_key_and_suggest_the_nearest() {
        let v = violations("image: x\nminReplica: 2\n");
        assert_eq!(v.len(), 1);
        assert_eq!(v[0].message, "unknown field `minReplica`");
        assert_eq!(v[0].fix.as_deref(), Some("did you mean `minReplicas`?"));
        assert_eq!((v[0].pos.line, v[0].pos.col), (2, 1));
    }

    #[test]
    fn wrong_types_enums_and_ranges_are_reported_with_fixes() {
        let v = violations("image: 5\nminReplicas: \"0\"\ntier: cor\nlabels: {a: 1}\n");
        let msgs: Vec<_> = v
            .iter()
            .map(|v| (v.path.to_string(), v.message.clone()))
            .collect();
        assert_eq!(
            msgs,
            vec![
                ("image".into(), "expected a string, found an integer".into()),
                (
                    "minReplicas".into(),
                    "expected an integer, found a string".into()
                ),
                (
                    "tier".into(),
                    "\"cor\" is not one of \"core\", \"standard\", \"batch\"".into()
                ),
                (
                    "labels.a".into(),
                    "expected a string, found an integer".into()
                ),
            ]
        );
        assert_eq!(v[2].fix.as_deref(), Some("did you mean `core`?"));
    }

    #[test]
    fn missing_required_fields_are_named() {
        let v = violations("tier: core\n");
        assert_eq!(v[0].message, "required field `image` is missing");
    }
}
