//! `berth doctor` (wired to berth-doctor once its API lands).

use std::path::PathBuf;

use anyhow::Result;
use clap::Args;

use crate::Outcome;

/// Arguments of `berth doctor`.
#[derive(Args)]
pub struct DoctorArgs {
    /// Files, directories or `-` for standard input.
    paths: Vec<PathBuf>,
}

/// Runs the doctor.
pub fn doctor(_args: &DoctorArgs) -> Result<Outcome> {
    anyhow::bail!("the doctor is not wired yet")
}
