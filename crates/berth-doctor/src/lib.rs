//! The doctor: rules over Kubernetes objects that report the pitfalls the seeds describe.
//!
//! Must not print or exit: findings are values; the CLI formats them.
