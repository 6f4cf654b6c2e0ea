//! `berth crd`: the CustomResourceDefinitions, generated from the Rust types.

use anyhow::Result;
use berth_model::Application;
use berth_model::release::Release;
use clap::{Args, ValueEnum};
use kube::CustomResourceExt;

use crate::Outcome;

/// Arguments of `berth crd`.
#[derive(Args)]
pub struct CrdArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Yaml)]
    output: Format,
}

#[derive(Clone, Copy, ValueEnum)]
enum Format {
    Yaml,
    Json,
}

/// Prints every CRD berth defines.
pub fn crd(args: &CrdArgs) -> Result<Outcome> {
    let crds = vec![Application::crd(), Release::crd()];
    match args.output {
        Format::Json => {
            let list = serde_json::json!({"apiVersion": "v1", "kind": "List", "items": crds});
            println!("{}", serde_json::to_string_pretty(&list)?);
        }
        Format::Yaml => {
            for c in &crds {
                print!("---\n{}", serde_saphyr::to_string(c)?);
            }
        }
    }
    Ok(Outcome::Clean)
}
