//! `image-tag-mutable`: a container image that may change under the same reference.
//!
//! Decision: no tag (which means `latest`) or `:latest` without a digest is an error: the
//! kubelet then pulls on every start (`imagePullPolicy` defaults to Always), nodes may run
//! different builds, and a rollback redeploys whatever the tag points to now. A well-known
//! moving tag (`main`, `master`, `dev`, `develop`, `edge`, `nightly`, `snapshot`, `stable`,
//! `canary`) is a warning. Version tags (`1.4.2`) are accepted: they are conventionally
//! immutable and registries can enforce it. A digest (`@sha256:…`) always passes.

use berth_manifest::Node;

use crate::engine::{Cx, Sink};
use crate::finding::{RuleInfo, Severity};

/// Rule id.
pub const NAME: &str = "image-tag-mutable";

pub(crate) const INFO: RuleInfo = RuleInfo {
    id: NAME,
    severity: Severity::Error,
    summary: "A container image has no tag or the `latest` tag and no digest (error), or a moving branch tag such as `main` or `nightly` (warning).",
    source: "Kubernetes docs, Images: `latest` implies imagePullPolicy Always and makes rollbacks unreliable; seed 001 (fast rollback in the deploy system)",
    help: "A mutable reference means the same manifest runs different code on different nodes and over time, and rolling back does not restore the old build. Pin images to a version tag, or better to a digest (`image@sha256:...`).",
};

/// Splits an image reference into (name, tag, digest).
pub(crate) fn parse_image(image: &str) -> (&str, Option<&str>, Option<&str>) {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(c) => (&rest[..slash + c], Some(&rest[slash + c + 1..]), digest),
        None => (rest, None, digest),
    }
}

const MOVING: [&str; 9] = ["main", "master", "dev", "develop", "edge", "nightly", "snapshot", "stable", "canary"];

pub(crate) fn check(cx: &Cx<'_>, out: &mut Sink<'_>) {
    let Some(w) = cx.workload() else { return };
    let spec_path = w.spec_path();
    for c in w.containers() {
        let Some(image) = c.get("image").and_then(Node::as_str) else { continue };
        if image.trim().is_empty() {
            continue;
        }
        let (name, tag, digest) = parse_image(image);
        if digest.is_some() {
            continue;
        }
        let p = c.path(&spec_path).key("image");
        match tag {
            None | Some("latest") => out.emit(
                Severity::Error,
                &p,
                format!(
                    "{} uses image `{image}`{}: the kubelet pulls it on every start (imagePullPolicy defaults to Always), nodes can run different builds, and a rollback redeploys whatever `latest` points to now",
                    c.label(),
                    if tag.is_none() { " with no tag, which means `latest`" } else { "" }
                ),
                format!("set `{p}: {name}:<version>` (e.g. `{name}:1.4.2`) or pin a digest: `{name}@sha256:<digest>`"),
            ),
            Some(t) if MOVING.contains(&t.to_ascii_lowercase().as_str()) => out.emit(
                Severity::Warning,
                &p,
                format!("{} uses image `{image}`: `{t}` is a moving branch tag, so the same manifest runs different code over time and a rollback does not restore the old build", c.label()),
                format!("set `{p}` to an immutable version tag or a digest, e.g. `{name}@sha256:<digest>`"),
            ),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::parse_image;

    #[test]
    fn image_references_split_into_name_tag_and_digest() {
        let cases = [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.25", ("nginx", Some("1.25"), None)),
            ("registry:5000/team/app", ("registry:5000/team/app", None, None)),
            ("registry:5000/team/app:v2", ("registry:5000/team/app", Some("v2"), None)),
            ("app@sha256:abc", ("app", None, Some("sha256:abc"))),
            ("app:1.0@sha256:abc", ("app", Some("1.0"), Some("sha256:abc"))),
        ];
        for (image, want) in cases {
            assert_eq!(parse_image(image), want, "{image}");
        }
    }
}
