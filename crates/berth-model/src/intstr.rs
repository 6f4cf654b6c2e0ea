//! Fields Kubernetes lets users write as a number or a string (`cpu: 2`, `port: 8080`),
//! read as the string.

use schemars::{Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Int(i64),
    Float(f64),
    Str(String),
}

impl From<Raw> for String {
    fn from(r: Raw) -> String {
        match r {
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Str(s) => s,
        }
    }
}

/// Reads a number or a string as a string.
pub fn de<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Raw::deserialize(d).map(String::from)
}

/// Reads an optional number or string as an optional string.
pub fn de_opt<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Option::<Raw>::deserialize(d).map(|r| r.map(String::from))
}

/// The schema of such a field: `x-kubernetes-int-or-string`.
pub fn schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "x-kubernetes-int-or-string": true })
}
