//! Reading Kubernetes manifests with their positions.
//!
//! Everything berth reads from a user (an `Application` spec, `kubectl get -o json` dumps,
//! Helm output) goes through this crate first. It turns YAML or JSON text into [`Node`] trees
//! that remember the line and column of every value, splits multi-document streams and
//! `kind: List` objects into [`Object`]s, and reports malformed input as [`LoadError`] values
//! that name the file, the document and the line. One broken document never hides the others.
//!
//! Start with [`load_objects`]. [`schema::check`] walks a tree against an OpenAPI v3 schema
//! (unknown fields with "did you mean", wrong types) and [`quantity`] parses resource
//! quantities exactly.
//!
//! This crate reads; it must not decide anything about what it reads.

mod fast;
#[cfg(test)]
mod fast_tests;
mod load;
mod node;
mod path;
pub mod quantity;
pub mod schema;

pub use load::{
    Document, DuplicateKey, LoadError, LoadErrorKind, Object, decode_text, load_bytes,
    load_documents, load_objects,
};
pub use node::{Entry, Map, Node, Pos, Value, plain_reads_as_string};
pub use path::{FieldPath, Seg};
