//! `berth-init prestop`: the waiting part of the drain, for a Kubernetes preStop hook in a
//! container whose PID 1 is not berth-init. The kubelet sends SIGTERM when the hook returns.

use std::collections::BTreeSet;
use std::time::Instant;

use crate::cli::{DrainPorts, PrestopArgs};
use crate::drain::{PrestopConfig, PrestopEnd, PrestopStep, prestop_step};
use crate::duration::format_duration;
use crate::init::remove_if_present;
use crate::proc_net;

/// Runs the preStop wait; always exits 0 so the kubelet goes on to SIGTERM.
pub fn run(args: PrestopArgs) -> i32 {
    let clock = Instant::now();
    let info = |msg: String| {
        if !args.quiet {
            eprintln!("berth-init prestop: {msg}");
        }
    };
    if let Some(path) = &args.readiness.readiness_file
        && let Err(e) = remove_if_present(path)
    {
        eprintln!(
            "berth-init prestop: warning: cannot remove readiness file {}: {e}",
            path.display()
        );
    }
    // The hook runs beside the app, not as its parent: every listening port of the pod's
    // network namespace is the app's (give --drain-ports to leave a sidecar's out).
    let ports: BTreeSet<u16> = match &args.ports.drain_ports {
        DrainPorts::None => BTreeSet::new(),
        DrainPorts::List(list) => list.clone(),
        DrainPorts::Auto => proc_net::read_sockets()
            .map(|s| proc_net::listening_ports(&s, None))
            .unwrap_or_default(),
    };
    let cfg = PrestopConfig {
        delay: args.drain_delay,
        timeout: args.drain_timeout,
    };
    info(format!(
        "waiting {} before watching connections",
        format_duration(cfg.delay)
    ));
    loop {
        let established = if ports.is_empty() {
            None
        } else {
            proc_net::read_sockets()
                .ok()
                .map(|s| proc_net::established_on(&s, &ports))
        };
        let now = clock.elapsed();
        match prestop_step(cfg, now, established) {
            PrestopStep::Wait { until } => std::thread::sleep(until.saturating_sub(now)),
            PrestopStep::Done(end) => {
                let took =
                    format_duration(std::time::Duration::from_millis(now.as_millis() as u64));
                match end {
                    PrestopEnd::Idle => {
                        info(format!("no established connection left after {took}"))
                    }
                    PrestopEnd::NoPorts => {
                        info(format!("no listening port to watch; done after {took}"))
                    }
                    PrestopEnd::TimedOut => info(format!(
                        "{} connection(s) still open after {took} (--drain-timeout {}); done anyway",
                        established.unwrap_or(0),
                        format_duration(cfg.timeout)
                    )),
                }
                return 0;
            }
        }
    }
}
