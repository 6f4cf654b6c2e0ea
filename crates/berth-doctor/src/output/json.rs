//! JSON output: one object with `findings`, `errors` and `summary`.

use serde_json::{Value, json};

use crate::report::Report;

/// The report as JSON:
/// `{"findings":[{"rule","severity","object":{"apiVersion","kind","namespace","name"},"file","line","column","path","message","fix"}],"errors":[{"file","document","line","column","message","hint"}],"summary":{"objects","error","warning","info","suppressed"}}`.
///
/// `line` and `column` are 1-based; `errors[].document` is the 1-based position of the
/// document in its file's `---` stream (as the table prints "document N"), or `null` when
/// the error is not tied to one document.
pub fn json(report: &Report) -> String {
    let findings: Vec<Value> = report
        .findings
        .iter()
        .map(|f| {
            json!({
                "rule": f.rule,
                "severity": f.severity.as_str(),
                "object": {
                    "apiVersion": f.object.api_version,
                    "kind": f.object.kind,
                    "namespace": f.object.namespace,
                    "name": f.object.name,
                },
                "file": &*f.file,
                "line": f.pos.line,
                "column": f.pos.col,
                "path": f.path,
                "message": f.message,
                "fix": f.fix,
            })
        })
        .collect();
    let errors: Vec<Value> = report
        .errors
        .iter()
        .map(|e| {
            json!({
                "file": e.file,
                // 1-based, like `LoadError`'s Display ("document 2").
                "document": e.document.map(|d| d + 1),
                "line": e.pos.line,
                "column": e.pos.col,
                "message": e.message,
                "hint": e.hint,
            })
        })
        .collect();
    let s = report.summary();
    let doc = json!({
        "findings": findings,
        "errors": errors,
        "summary": {
            "objects": s.objects,
            "error": s.error,
            "warning": s.warning,
            "info": s.info,
            "suppressed": s.suppressed,
        },
    });
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}
