//! Field paths such as `spec.template.spec.containers[0].resources`.

use std::fmt;

/// One step of a [`FieldPath`]: a mapping key or a sequence index.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Seg {
    /// A mapping key.
    Key(String),
    /// A sequence index, 0-based.
    Index(usize),
}

/// A path from an object's root to one of its fields.
///
/// Printed the way kubectl and kube-score print them: keys joined by dots, indexes in
/// brackets, and keys that contain dots or slashes (annotation keys) quoted in brackets:
/// `metadata.annotations["prometheus.io/port"]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(pub Vec<Seg>);

impl FieldPath {
    /// The empty path (the root).
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses the printed form; the inverse of `Display`.
    ///
    /// `a.b[2]["x.y/z"].c` gives `[Key(a), Key(b), Index(2), Key(x.y/z), Key(c)]`.
    pub fn parse(text: &str) -> Self {
        let mut segs = Vec::new();
        let mut rest = text;
        while !rest.is_empty() {
            if let Some(r) = rest.strip_prefix('.') {
                rest = r;
                continue;
            }
            if let Some(r) = rest.strip_prefix("[\"") {
                let end = r.find("\"]").unwrap_or(r.len());
                segs.push(Seg::Key(r[..end].to_string()));
                rest = r.get(end + 2..).unwrap_or("");
                continue;
            }
            if let Some(r) = rest.strip_prefix('[') {
                let end = r.find(']').unwrap_or(r.len());
                match r[..end].parse() {
                    Ok(i) => segs.push(Seg::Index(i)),
                    Err(_) => segs.push(Seg::Key(r[..end].to_string())),
                }
                rest = r.get(end + 1..).unwrap_or("");
                continue;
            }
            let end = rest.find(['.', '[']).unwrap_or(rest.len());
            segs.push(Seg::Key(rest[..end].to_string()));
            rest = &rest[end..];
        }
        Self(segs)
    }

    /// This path with one more key.
    pub fn key(&self, k: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(k.into()));
        p
    }

    /// This path with one more index.
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    /// Whether this is the root path.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for seg in &self.0 {
            match seg {
                Seg::Index(i) => write!(f, "[{i}]")?,
                Seg::Key(k) if needs_brackets(k) => write!(f, "[\"{k}\"]")?,
                Seg::Key(k) => {
                    if !first {
                        f.write_str(".")?;
                    }
                    f.write_str(k)?;
                }
            }
            first = false;
        }
        Ok(())
    }
}

fn needs_brackets(key: &str) -> bool {
    key.is_empty() || key.contains(['.', '/', '[', ']', ' ', '"'])
}

impl From<&str> for FieldPath {
    fn from(s: &str) -> Self {
        Self::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printed_path_parses_back_to_the_same_segments() {
        let p = FieldPath::root()
            .key("metadata")
            .key("annotations")
            .key("prometheus.io/port");
        assert_eq!(
            p.to_string(),
            "metadata.annotations[\"prometheus.io/port\"]"
        );
        assert_eq!(FieldPath::parse(&p.to_string()), p);
        let q = FieldPath::root()
            .key("spec")
            .key("containers")
            .index(2)
            .key("image");
        assert_eq!(q.to_string(), "spec.containers[2].image");
        assert_eq!(FieldPath::parse(&q.to_string()), q);
    }
}
