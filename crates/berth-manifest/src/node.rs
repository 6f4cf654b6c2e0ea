//! A YAML/JSON value tree in which every value knows where it was written.

use crate::path::{FieldPath, Seg};

/// A position in a source file; both numbers are 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, PartialOrd, Ord, Hash)]
pub struct Pos {
    /// Line, counted from 1.
    pub line: u32,
    /// Column, counted from 1.
    pub col: u32,
}

/// A value with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// Where the value starts.
    pub pos: Pos,
    /// The value itself.
    pub value: Value,
}

/// The value of a [`Node`], typed as the YAML 1.2 core schema resolves plain scalars.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`, `~` or nothing.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// An integer that fits in 64 bits.
    Int(i64),
    /// Any other number.
    Float(f64),
    /// A string (quoted, block, or plain text that is not another type).
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in source order.
    Map(Map),
}

/// A mapping in source order; keys are unique (duplicates are a load error).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Map(pub Vec<Entry>);

/// One `key: value` pair of a [`Map`].
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The key, as text.
    pub key: String,
    /// Where the key is written (what an "unknown field" error should point at).
    pub key_pos: Pos,
    /// The value.
    pub value: Node,
}

impl Map {
    /// The value under `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.0.iter().find(|e| e.key == key).map(|e| &e.value)
    }

    /// The entry under `key`, with its key position.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.0.iter().find(|e| e.key == key)
    }

    /// Entries in source order.
    pub fn iter(&self) -> impl Iterator<Item = &Entry> {
        self.0.iter()
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the map has no entries.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

static EMPTY: [Node; 0] = [];

impl Node {
    /// A node at `pos`.
    pub fn new(pos: Pos, value: Value) -> Self {
        Self { pos, value }
    }

    /// The child under a mapping key, if this is a mapping and has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// Follows a chain of mapping keys: `node.path(&["spec", "template"])`.
    pub fn path(&self, keys: &[&str]) -> Option<&Node> {
        keys.iter().try_fold(self, |n, k| n.get(k))
    }

    /// Follows a [`FieldPath`].
    pub fn lookup(&self, path: &FieldPath) -> Option<&Node> {
        path.0.iter().try_fold(self, |n, seg| match seg {
            Seg::Key(k) => n.get(k),
            Seg::Index(i) => n.as_seq().get(*i),
        })
    }

    /// The position that best locates `path`: the key of the deepest existing field on it
    /// (so an error about a missing child points at its parent).
    pub fn pos_of(&self, path: &FieldPath) -> Pos {
        let mut node = self;
        let mut pos = self.pos;
        for seg in &path.0 {
            let next = match seg {
                Seg::Key(k) => match &node.value {
                    Value::Map(m) => m.entry(k).map(|e| (e.key_pos, &e.value)),
                    _ => None,
                },
                Seg::Index(i) => node.as_seq().get(*i).map(|n| (n.pos, n)),
            };
            match next {
                Some((p, n)) => {
                    pos = p;
                    node = n;
                }
                None => break,
            }
        }
        pos
    }

    /// The string, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The integer, if this is an integer (or a float with no fraction).
    pub fn as_i64(&self) -> Option<i64> {
        match self.value {
            Value::Int(i) => Some(i),
            Value::Float(f) if f.fract() == 0.0 && f.abs() < 9.0e15 => Some(f as i64),
            _ => None,
        }
    }

    /// The number, if this is an integer or a float.
    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    /// The boolean, if this is a boolean.
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }

    /// The items of a sequence; empty for anything else.
    pub fn as_seq(&self) -> &[Node] {
        match &self.value {
            Value::Seq(s) => s,
            _ => &EMPTY,
        }
    }

    /// The mapping, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }

    /// A scalar printed as text (strings as they are, numbers and booleans formatted);
    /// `None` for collections and null. Kubernetes accepts `"8080"` and `8080` alike in
    /// int-or-string fields, and rules compare such values as text.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    /// A short name of the value's type for error messages ("a string", "a mapping", ...).
    pub fn type_name(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a sequence",
            Value::Map(_) => "a mapping",
        }
    }

    /// Converts to JSON, dropping positions.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|e| (e.key.clone(), e.value.to_json()))
                    .collect(),
            ),
        }
    }

    /// Converts to JSON without the `key: null` entries of maps (an empty `probes:`), which
    /// the API server drops for optional fields: they read as absent, as in a typed decode.
    pub fn to_json_present(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json_present).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .filter(|e| !e.value.is_null())
                    .map(|e| (e.key.clone(), e.value.to_json_present()))
                    .collect(),
            ),
            _ => self.to_json(),
        }
    }

    /// Builds a tree from JSON, every position set to `pos` (for objects made in memory).
    pub fn from_json(json: &serde_json::Value, pos: Pos) -> Self {
        use serde_json::Value as J;
        let value = match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            J::String(s) => Value::Str(s.clone()),
            J::Array(a) => Value::Seq(a.iter().map(|v| Node::from_json(v, pos)).collect()),
            J::Object(o) => Value::Map(Map(o
                .iter()
                .map(|(k, v)| Entry {
                    key: k.clone(),
                    key_pos: pos,
                    value: Node::from_json(v, pos),
                })
                .collect())),
        };
        Node { pos, value }
    }
}

/// Resolves a plain scalar the way kubectl does.
///
/// kubectl reads YAML through `sigs.k8s.io/yaml`, whose decoder is a fork of go-yaml v2: YAML
/// 1.1 rules (`resolve.go`). So `yes`, `on` and `y` are booleans, `0644` is octal (420),
/// `1_000` is 1000, and timestamps stay strings. Reading values as the API server will
/// receive them is what lets berth warn that `enabled: yes` in a label is not a string.
pub(crate) fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true);
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false);
        }
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    let first = text.as_bytes()[0];
    if first == b'.' {
        return match text.parse::<f64>() {
            Ok(f) if is_float(text) => Value::Float(f),
            _ => Value::Str(text.to_string()),
        };
    }
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+')) {
        return Value::Str(text.to_string());
    }
    let plain: std::borrow::Cow<'_, str> = if text.contains('_') {
        text.replace('_', "").into()
    } else {
        text.into()
    };
    if let Some(i) = parse_go_int(&plain) {
        return match i64::try_from(i) {
            Ok(v) => Value::Int(v),
            Err(_) => Value::Float(i as f64),
        };
    }
    if is_float(&plain)
        && let Ok(f) = plain.parse::<f64>()
    {
        return Value::Float(f);
    }
    Value::Str(text.to_string())
}

/// Whether `text` written without quotes reads back as that same string (not a number,
/// boolean or null) under kubectl's YAML rules; when not, it must be quoted.
pub fn plain_reads_as_string(text: &str) -> bool {
    !text.is_empty() && resolve_plain(text) == Value::Str(text.to_string())
}

/// `strconv.ParseInt(s, 0, 64)` and `ParseUint`: an optional sign, then `0x`, `0b`, `0o` or
/// a leading `0` (octal) prefix, or decimal digits.
fn parse_go_int(s: &str) -> Option<i128> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let (radix, digits) = if let Some(d) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, d)
    } else if let Some(d) = body.strip_prefix("0b").or(body.strip_prefix("0B")) {
        (2, d)
    } else if let Some(d) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, d)
    } else if body.len() > 1 && body.starts_with('0') {
        (8, &body[1..])
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return None;
    }
    let v = i128::from(u64::from_str_radix(digits, radix).ok()?);
    // ParseInt takes -2^63..2^63-1; ParseUint takes what is left up to 2^64-1.
    if neg {
        (v <= 1 << 63).then_some(-v)
    } else {
        Some(v)
    }
}

/// `[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`
fn is_float(t: &str) -> bool {
    let b = t.strip_prefix(['-', '+']).unwrap_or(t).as_bytes();
    let mut i = 0;
    let int_digits = b.iter().take_while(|c| c.is_ascii_digit()).count();
    i += int_digits;
    let mut frac_digits = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        frac_digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        i += frac_digits;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        let exp = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
        if exp == 0 {
            return false;
        }
        i += exp;
    }
    i == b.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_scalars_resolve_as_kubectl_reads_them() {
        // go-yaml v2 resolve.go, which sigs.k8s.io/yaml (and so kubectl) decodes with.
        let cases: &[(&str, Value)] = &[
            ("~", Value::Null),
            ("true", Value::Bool(true)),
            ("False", Value::Bool(false)),
            ("yes", Value::Bool(true)),
            ("on", Value::Bool(true)),
            ("N", Value::Bool(false)),
            ("OFF", Value::Bool(false)),
            ("yEs", Value::Str("yEs".into())),
            ("0644", Value::Int(420)),
            ("0o17", Value::Int(15)),
            ("0b101", Value::Int(5)),
            ("09", Value::Float(9.0)),
            ("1_000", Value::Int(1000)),
            ("+12", Value::Int(12)),
            ("-0x10", Value::Int(-16)),
            ("18446744073709551615", Value::Float(18446744073709551615.0)),
            (".5", Value::Float(0.5)),
            ("2024-01-01", Value::Str("2024-01-01".into())),
            ("8080", Value::Int(8080)),
            ("-3", Value::Int(-3)),
            ("0x1F", Value::Int(31)),
            ("1.5", Value::Float(1.5)),
            ("1e3", Value::Float(1000.0)),
            ("100m", Value::Str("100m".into())),
            ("1Gi", Value::Str("1Gi".into())),
            ("1.2.3", Value::Str("1.2.3".into())),
            ("-", Value::Str("-".into())),
        ];
        for (text, want) in cases {
            assert_eq!(&resolve_plain(text), want, "resolving {text:?}");
        }
    }
}
