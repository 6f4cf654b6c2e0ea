//! berth-init: a PID 1 for containers that reaps, supervises and drains without losing a request.
//!
//! Start with [`init::run`] (the shell around the main loop). The decisions live in pure
//! modules tested without processes: [`supervisor`] (restart or give up), [`drain`] (the drain
//! plan), [`proc_net`] (parsing /proc/net/tcp), [`procfs`] (the process tree), [`http`]
//! (endpoint answers), [`cli`] (flags and environment). [`sys`] is the thin kernel layer.

mod argv;
mod check;
mod cli;
mod drain;
mod duration;
mod http;
mod init;
mod prestop;
mod proc_net;
mod procfs;
mod supervisor;
mod sys;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli.mode {
        Some(cli::Mode::Prestop(args)) => prestop::run(args),
        None => init::run(cli.run),
    };
    std::process::exit(code);
}
