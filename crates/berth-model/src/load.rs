//! Reading Applications from YAML: schema check, typed decode, then [`Application::validate`],
//! every problem placed at its line and column.

use std::sync::OnceLock;

use berth_manifest::{FieldPath, Node, Pos, load_documents, schema};
use kube::CustomResourceExt;

use crate::application::Application;
use crate::diagnostic::{Diagnostic, Severity};

/// The apiVersion of berth's resources.
pub const API_VERSION: &str = "berth.dev/v1alpha1";
/// The kind of [`Application`].
pub const KIND: &str = "Application";

/// The OpenAPI v3 schema of an Application, as its CRD declares it.
pub fn application_schema() -> &'static serde_json::Value {
    static SCHEMA: OnceLock<serde_json::Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let crd = Application::crd();
        let schema = crd
            .spec
            .versions
            .first()
            .and_then(|v| v.schema.as_ref())
            .and_then(|s| s.open_api_v3_schema.as_ref())
            .and_then(|s| serde_json::to_value(s).ok())
            .unwrap_or(serde_json::Value::Null);
        // The CRD leaves metadata open (the API server checks it); a spec file only ever
        // needs these fields of it, and a typo there should not pass silently.
        let mut schema = schema;
        if let Some(props) = schema
            .get_mut("properties")
            .and_then(serde_json::Value::as_object_mut)
        {
            for field in ["apiVersion", "kind"] {
                props.insert(field.into(), serde_json::json!({"type": "string"}));
            }
            props.insert(
                "metadata".into(),
                serde_json::json!({
                    "type": "object",
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "namespace": {"type": "string"},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
                    }
                }),
            );
        }
        schema
    })
}

/// Reads every Application in a YAML stream.
///
/// Returns the Applications that have no errors, and every diagnostic (errors and warnings)
/// in file order. Documents of other kinds are errors: an Application file holds only
/// Applications.
pub fn load_applications(file: &str, text: &str) -> (Vec<Application>, Vec<Diagnostic>) {
    let (docs, load_errors) = load_documents(file, text);
    let mut diags: Vec<Diagnostic> = load_errors
        .into_iter()
        .map(|e| Diagnostic {
            severity: Severity::Error,
            file: e.file,
            pos: e.pos,
            path: String::new(),
            message: match e.document {
                Some(d) => format!("document {}: {}", d + 1, e.message),
                None => e.message,
            },
            fix: e.hint,
        })
        .collect();
    let mut apps = Vec::new();
    for doc in &docs {
        let (app, here) = load_application_document(file, doc);
        diags.extend(here);
        apps.extend(app);
    }
    (apps, diags)
}

/// Reads one document as an Application: the schema check, the typed decode and
/// [`Application::validate`], every problem placed at its line and column. Returns the
/// Application when it has no errors, and every diagnostic.
pub fn load_application_document(
    file: &str,
    doc: &berth_manifest::Document,
) -> (Option<Application>, Vec<Diagnostic>) {
    let root = &doc.root;
    let mut here = Vec::new();
    // A spec is ours to keep exact: a repeated key is an error, not last-wins.
    for d in &doc.duplicate_keys {
        here.push(Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            pos: d.second,
            path: d.path.to_string(),
            message: format!(
                "`{}` is written twice (lines {} and {}); the first value would be lost",
                d.path, d.first.line, d.second.line
            ),
            fix: Some("remove one of the two".into()),
        });
    }
    let at = |path: &FieldPath| root.pos_of(path);
    let push = |here: &mut Vec<Diagnostic>,
                severity,
                path: FieldPath,
                pos: Pos,
                message: String,
                fix: Option<String>| {
        here.push(Diagnostic {
            severity,
            file: file.to_string(),
            pos,
            path: path.to_string(),
            message,
            fix,
        })
    };
    let api_version = root.get("apiVersion").and_then(Node::as_str);
    let kind = root.get("kind").and_then(Node::as_str);
    if api_version != Some(API_VERSION) || kind != Some(KIND) {
        push(
            &mut here,
            Severity::Error,
            FieldPath::root(),
            root.pos,
            format!(
                "expected an `{API_VERSION}` `{KIND}`, found {} {}",
                api_version.unwrap_or("(no apiVersion)"),
                kind.unwrap_or("(no kind)")
            ),
            Some(format!(
                "start the document with `apiVersion: {API_VERSION}` and `kind: {KIND}`"
            )),
        );
        return (None, here);
    }
    for v in schema::check(root, application_schema()) {
        push(&mut here, Severity::Error, v.path, v.pos, v.message, v.fix);
    }
    if !here.is_empty() {
        return (None, here);
    }
    let app: Application = match serde_json::from_value(root.to_json_present()) {
        Ok(a) => a,
        Err(e) => {
            // The schema check above accepts only what the types decode; reaching this
            // means the two disagree, which is a bug worth a clear report.
            push(
                &mut here,
                Severity::Error,
                FieldPath::root(),
                root.pos,
                format!("cannot decode the Application: {e}"),
                Some("please report this: the schema accepted a spec the decoder refused".into()),
            );
            return (None, here);
        }
    };
    let issues = app.validate();
    let failed = issues.iter().any(|i| i.severity == Severity::Error);
    for i in issues {
        let pos = at(&i.path);
        push(&mut here, i.severity, i.path, pos, i.message, i.fix);
    }
    (if failed { None } else { Some(app) }, here)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = "apiVersion: berth.dev/v1alpha1
kind: Application
metadata:
  name: web
spec:
  image: registry.example.com/web:1.0.0
  tier: standard
  productLine: shop
  owner: team-web
  ports:
    - name: http
      port: 8080
  resources:
    cpu: 500m
    memory: 512Mi
";

    #[test]
    fn a_minimal_spec_loads_with_no_diagnostics() {
        let (apps, diags) = load_applications("web.yaml", MINIMAL);
        assert!(diags.is_empty(), "{diags:#?}");
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].spec.release.groups, 4);
    }

    #[test]
    fn a_misspelt_field_names_file_line_column_and_the_fix() {
        let text = MINIMAL.replace("  ports:\n", "  scaling:\n    minReplica: 2\n  ports:\n");
        let (apps, diags) = load_applications("web.yaml", &text);
        assert!(apps.is_empty());
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(
            diags[0].to_string(),
            "error: web.yaml:11:5: spec.scaling.minReplica: unknown field `minReplica`\n  help: did you mean `minReplicas`?"
        );
    }

    #[test]
    fn semantic_errors_point_at_the_offending_field() {
        let text = MINIMAL.replace("cpu: 500m", "cpu: 500x");
        let (_, diags) = load_applications("web.yaml", &text);
        assert_eq!(diags.len(), 1, "{diags:#?}");
        assert_eq!(diags[0].path, "spec.resources.cpu");
        assert_eq!((diags[0].pos.line, diags[0].pos.col), (14, 5));
    }

    #[test]
    fn core_services_cannot_overcommit() {
        let text = MINIMAL
            .replace("tier: standard", "tier: core")
            .replace("memory: 512Mi", "memory: 512Mi\n    requestRatio: 0.5");
        let (apps, diags) = load_applications("web.yaml", &text);
        assert!(apps.is_empty());
        assert!(diags[0].message.contains("Guaranteed"), "{diags:#?}");
    }

    #[test]
    fn other_kinds_are_refused_with_what_was_found() {
        let (_, diags) = load_applications("x.yaml", "apiVersion: apps/v1\nkind: Deployment\n");
        assert!(
            diags[0].message.contains("found apps/v1 Deployment"),
            "{diags:#?}"
        );
    }
}
