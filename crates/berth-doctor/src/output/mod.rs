//! Renderings of a [`Report`](crate::Report): a table for people, JSON for scripts, SARIF for
//! code-scanning tools. All three are pure functions returning a `String`.

mod json;
mod sarif;
mod table;

pub use json::json;
pub use sarif::sarif;
pub use table::table;
