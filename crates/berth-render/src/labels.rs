//! Labels and metadata shared by every rendered object.

use std::collections::BTreeMap;

use berth_model::names::is_label_value;
use berth_model::{Application, Resolved};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{LabelSelector, ObjectMeta};

/// Selects every pod of an app, whatever its version.
pub const APP_LABEL: &str = "berth.dev/app";
/// Selects the pods of one version.
pub const VERSION_LABEL: &str = "berth.dev/version";

/// Labels every object of the app carries: the recommended `app.kubernetes.io/*` set plus
/// berth's tier, product line, owner and log type (the log pipeline routes on it, seed 001).
pub fn app_labels(app: &Application, r: &Resolved) -> BTreeMap<String, String> {
    let s = &app.spec;
    let mut l = BTreeMap::new();
    l.insert("app.kubernetes.io/name".into(), r.name.clone());
    l.insert("app.kubernetes.io/part-of".into(), s.product_line.clone());
    l.insert("app.kubernetes.io/managed-by".into(), "berth".into());
    l.insert(APP_LABEL.into(), r.name.clone());
    l.insert("berth.dev/tier".into(), s.tier.as_str().into());
    l.insert("berth.dev/product-line".into(), s.product_line.clone());
    l.insert("berth.dev/owner".into(), s.owner.clone());
    if let Some(t) = &s.log_type {
        l.insert("berth.dev/log-type".into(), t.clone());
    }
    l
}

/// [`app_labels`] plus the version labels.
pub fn version_labels(app: &Application, r: &Resolved) -> BTreeMap<String, String> {
    let mut l = app_labels(app, r);
    let shown = if is_label_value(&r.version) {
        r.version.clone()
    } else {
        truncate_label(&r.slug)
    };
    l.insert("app.kubernetes.io/version".into(), shown);
    l.insert(VERSION_LABEL.into(), truncate_label(&r.slug));
    l
}

/// The selector of one version's pods.
pub fn version_selector(r: &Resolved) -> BTreeMap<String, String> {
    BTreeMap::from([
        (APP_LABEL.to_string(), r.name.clone()),
        (VERSION_LABEL.to_string(), truncate_label(&r.slug)),
    ])
}

/// The selector of all the app's pods.
pub fn app_selector(r: &Resolved) -> BTreeMap<String, String> {
    BTreeMap::from([(APP_LABEL.to_string(), r.name.clone())])
}

/// A `matchLabels` selector.
pub fn match_labels(labels: BTreeMap<String, String>) -> LabelSelector {
    LabelSelector {
        match_labels: Some(labels),
        ..Default::default()
    }
}

/// Metadata of a rendered object.
pub fn meta(name: &str, r: &Resolved, labels: BTreeMap<String, String>) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_string()),
        namespace: r.namespace.clone(),
        labels: Some(labels),
        ..Default::default()
    }
}

fn truncate_label(s: &str) -> String {
    s[..s.len().min(63)].trim_end_matches('-').to_string()
}
