//! berth-init: a PID 1 for containers that reaps, supervises and drains without losing a request.
//!
//! Start with [`init::run`] (the shell around the main loop). The decisions live in pure
//! modules tested without processes: [`supervisor`] (restart or give up), [`drain`] (the drain
//! plan), [`proc_net`] (parsing /proc/net/tcp), [`procfs`] (the process tree), [`http`]
//! (endpoint answers), [`cli`] (flags and environment). [`sys`] is the thin kernel layer.

// With glibc, the C runtime calls `main` below directly: std's start-up (stack-guard lookup
// through /proc/self/maps, the stack-overflow handler, the main thread's name) costs start-up
// time and pulls in code that makes the static binary bigger; what berth-init needs of it is
// done by `sys::prepare_process`. Only glibc hands argc/argv to std on its own (through
// `.init_array`), so other C libraries (musl) keep std's `main`. Unit tests keep libtest's.
#![cfg_attr(all(not(test), target_env = "gnu"), no_main)]

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

#[cfg(target_env = "gnu")]
use std::ffi::{c_char, c_int};

/// The process's entry point, called by the C runtime as `main`. `std::env::args` still works:
/// glibc hands argc and argv to std through `.init_array`.
// `export_name` is an unsafe attribute (the symbol must not clash): it is what lets the C
// runtime find this function. Unit tests keep libtest's `main`, and this is left unused.
#[cfg(target_env = "gnu")]
#[allow(unsafe_code)]
#[cfg_attr(not(test), unsafe(export_name = "main"))]
#[cfg_attr(test, allow(dead_code))]
pub extern "C" fn berth_init_main(_argc: c_int, _argv: *const *const c_char) -> c_int {
    run()
}

#[cfg(not(target_env = "gnu"))]
fn main() {
    run()
}

fn run() -> ! {
    sys::prepare_process();
    let cli = cli::Cli::parse();
    let code = match cli.mode {
        Some(cli::Mode::Prestop(args)) => prestop::run(args),
        None => init::run(cli.run),
    };
    std::process::exit(code);
}
