//! Kubernetes name rules, mirroring `k8s.io/apimachinery/pkg/util/validation/validation.go`.

/// `IsDNS1123Label`: at most 63 lowercase alphanumerics or `-`, alphanumeric at both ends.
pub fn is_dns1123_label(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 63
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

/// `IsDNS1035Label`: a DNS-1123 label that starts with a letter (Service names).
pub fn is_dns1035_label(s: &str) -> bool {
    is_dns1123_label(s) && s.as_bytes()[0].is_ascii_lowercase()
}

/// `IsDNS1123Subdomain`: dot-separated DNS-1123 labels, at most 253 characters.
pub fn is_dns1123_subdomain(s: &str) -> bool {
    !s.is_empty() && s.len() <= 253 && s.split('.').all(is_dns1123_label)
}

/// `IsValidLabelValue`: empty, or at most 63 of `[A-Za-z0-9._-]` with alphanumeric ends.
pub fn is_label_value(s: &str) -> bool {
    s.is_empty()
        || (s.len() <= 63
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            && s.as_bytes()[0].is_ascii_alphanumeric()
            && s.as_bytes()[s.len() - 1].is_ascii_alphanumeric())
}

/// `IsQualifiedName`: an optional DNS subdomain prefix and `/`, then a non-empty label value.
pub fn is_label_key(s: &str) -> bool {
    let (prefix, name) = match s.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, s),
    };
    prefix.is_none_or(is_dns1123_subdomain) && !name.is_empty() && is_label_value(name)
}

/// `IsValidPortName` (IANA_SVC_NAME): 1–15 lowercase alphanumerics or `-`, at least one
/// letter, no leading, trailing or double `-`.
pub fn is_port_name(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 15
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && !s.starts_with('-')
        && !s.ends_with('-')
        && !s.contains("--")
}

/// `IsEnvVarName`: `[-._a-zA-Z][-._a-zA-Z0-9]*`.
pub fn is_env_name(s: &str) -> bool {
    !s.is_empty()
        && !s.as_bytes()[0].is_ascii_digit()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_'))
}

/// A Docker image tag: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub fn is_image_tag(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 128
        && (s.as_bytes()[0].is_ascii_alphanumeric() || s.as_bytes()[0] == b'_')
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// An image reference split into repository, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// `registry/path/name`.
    pub repository: &'a str,
    /// The tag, if any.
    pub tag: Option<&'a str>,
    /// `sha256:...`, if any.
    pub digest: Option<&'a str>,
}

/// Splits an image reference; `None` when it is not one.
pub fn parse_image(s: &str) -> Option<ImageRef<'_>> {
    if s.is_empty() || s.bytes().any(|b| b.is_ascii_whitespace()) {
        return None;
    }
    let (rest, digest) = match s.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (s, None),
    };
    if let Some(d) = digest {
        let (algo, hex) = d.split_once(':')?;
        if algo.is_empty() || hex.len() < 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
    }
    // A colon after the last slash separates the tag; one before it is a registry port.
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if repository.is_empty()
        || repository.ends_with('/')
        || repository.contains("//")
        || repository[repository.find('/').map_or(0, |i| i + 1)..]
            .bytes()
            .any(|b| b.is_ascii_uppercase())
        || tag.is_some_and(|t| !is_image_tag(t))
    {
        return None;
    }
    Some(ImageRef {
        repository,
        tag,
        digest,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_apimachinery_validation() {
        assert!(is_dns1035_label("order-api"));
        assert!(!is_dns1035_label("1order"));
        assert!(!is_dns1123_label("Order"));
        assert!(is_label_key("topology.berth.dev/switch"));
        assert!(!is_label_key("bad key"));
        assert!(is_label_value("java-log4j"));
        assert!(!is_label_value("-x"));
        assert!(is_port_name("http"));
        assert!(!is_port_name("8080"));
        assert!(!is_port_name("very-long-port-name"));
    }

    #[test]
    fn image_references_split_tag_digest_and_registry_port() {
        let r = parse_image("registry:5000/team/app:1.2").expect("valid");
        assert_eq!(
            (r.repository, r.tag),
            ("registry:5000/team/app", Some("1.2"))
        );
        let r = parse_image("nginx").expect("valid");
        assert_eq!((r.repository, r.tag), ("nginx", None));
        let d = format!("app@sha256:{}", "a".repeat(64));
        assert_eq!(
            parse_image(&d).and_then(|r| r.digest.map(str::len)),
            Some(71)
        );
        for bad in ["", "app:", "app:bad tag", "Team/App:1", "app@sha256:xyz"] {
            assert!(parse_image(bad).is_none(), "{bad}");
        }
    }
}
