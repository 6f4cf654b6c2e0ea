//! The `berth` command line: argument parsing, output formats and exit codes only; every
//! decision is made by the library crates.

mod crd;
mod demo;
mod doctor;
mod explain;
mod inputs;
mod install;
mod place;
mod release;
mod render;
mod sim;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// berth: the application platform layer on top of Kubernetes.
#[derive(Parser)]
#[command(name = "berth", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Render Applications into Kubernetes manifests, ready for `kubectl apply -f -`.
    Render(render::RenderArgs),
    /// Check Application specs and report every problem with file, line and fix.
    Validate(render::ValidateArgs),
    /// Find the pitfalls in any Kubernetes YAML or JSON (files, directories, `-` for stdin).
    Doctor(doctor::DoctorArgs),
    /// Explain where kube-scheduler would place a pod, node by node, plugin by plugin.
    Explain(explain::ExplainArgs),
    /// Place a workload's replicas one by one as kube-scheduler would, and show the spread.
    Place(place::PlaceArgs),
    /// Print berth's CustomResourceDefinitions.
    Crd(crd::CrdArgs),
    /// Print what a cluster needs to run berth's operator: CRDs, RBAC, the operator.
    Install(install::InstallArgs),
    /// Start, follow and steer releases: start, status, approve, pause, resume, rollback, history.
    Release(release::ReleaseArgs),
    /// Show what berth is for: built-in scenarios on the simulator, in a minute of reading.
    Demo(demo::DemoArgs),
    /// Run a scenario on the cluster simulator: a timeline, request counts, assertions.
    Sim(sim::SimArgs),
}

/// Exit status: 0 clean, 1 problems found in the input, 2 the input could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to report.
    Clean,
    /// Findings or validation errors.
    Problems,
    /// Unreadable or unusable input.
    Failed,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Render(a) => render::render(&a),
        Command::Validate(a) => render::validate(&a),
        Command::Doctor(a) => doctor::doctor(&a),
        Command::Explain(a) => explain::explain(&a),
        Command::Place(a) => place::place(&a),
        Command::Crd(a) => crd::crd(&a),
        Command::Install(a) => install::install(&a),
        Command::Release(a) => release::release(&a),
        Command::Sim(a) => sim::sim(&a),
        Command::Demo(a) => demo::demo(&a),
    };
    match result {
        Ok(Outcome::Clean) => ExitCode::SUCCESS,
        Ok(Outcome::Problems) => ExitCode::from(1),
        Ok(Outcome::Failed) => ExitCode::from(2),
        Err(e) => {
            eprintln!("error: {}", chain(&e));
            ExitCode::from(2)
        }
    }
}

/// An error and its causes on one line, each cause once: some libraries (kube's config
/// loader) already print their source in their own message.
fn chain(e: &anyhow::Error) -> String {
    let mut out = e.to_string();
    for cause in e.chain().skip(1) {
        let c = cause.to_string();
        if !out.contains(&c) {
            out.push_str(": ");
            out.push_str(&c);
        }
    }
    out
}
