//! The init shell: one thread, one `poll` over the signalfd and the HTTP listener, timers as
//! poll timeouts. Decisions come from [`crate::supervisor`] and [`crate::drain`]; this file
//! spawns, reaps, signals, and reads /proc.
//!
//! Phases: wait for `--wait-for` targets, run `--start` programs one by one, start the
//! `--supervise` programs and the main command, supervise until SIGTERM or the main command's
//! end, drain, exit with the main command's code.

use std::collections::{BTreeSet, VecDeque};
use std::net::TcpListener;
use std::os::fd::AsFd;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::sys::signal::Signal;

use crate::argv::display_argv;
use crate::cli::{DrainPorts, RunArgs, SignalTarget};
use crate::drain::{Drain, DrainConfig, KillReason, Observation, Step};
use crate::duration::format_duration;
use crate::http::{self, Status};
use crate::supervisor::{Exit, RestartMode, RestartPolicy, Supervisor, Verdict, signal_name};
use crate::sys::{self, Reap, Signals};
use crate::{proc_net, procfs};

/// Exit code when a `--wait-for` target was not ready in time, or berth-init itself failed.
pub const EXIT_FAILURE: i32 = 1;
/// Exit code when a command exists but cannot be run (as shells use it).
pub const EXIT_CANNOT_RUN: i32 = 126;
/// Exit code when a command is not found (as shells use it).
pub const EXIT_NOT_FOUND: i32 = 127;

/// Runs berth-init as init and returns its exit code.
pub fn run(args: RunArgs) -> i32 {
    // Signals first: until they are blocked, a SIGTERM would end berth-init with nothing drained.
    let signals = match Signals::block() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("berth-init: cannot set up signal handling: {e}");
            return EXIT_FAILURE;
        }
    };
    let mut init = match Init::new(args, signals) {
        Ok(init) => init,
        Err(msg) => {
            eprintln!("berth-init: {msg}");
            return EXIT_FAILURE;
        }
    };
    if let Err(code) = init.wait_targets() {
        return init.abort(code);
    }
    if let Err(code) = init.run_start_programs() {
        return init.abort(code);
    }
    init.start_processes();
    init.supervise()
}

/// Which of berth-init's own children a pid is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Main,
    Extra(usize),
    Start,
}

/// A supervised process: the main command or a `--supervise` program.
struct Proc {
    /// `main` or `supervise-N`, for metrics.
    name: String,
    argv: Vec<String>,
    pid: Option<i32>,
    sup: Supervisor,
    restart_at: Option<Duration>,
    last_exit: Option<Exit>,
}

impl Proc {
    fn new(name: String, argv: Vec<String>, policy: RestartPolicy) -> Proc {
        Proc {
            name,
            argv,
            pid: None,
            sup: Supervisor::new(policy),
            restart_at: None,
            last_exit: None,
        }
    }
}

struct Init {
    args: RunArgs,
    clock: Instant,
    signals: Signals,
    http: Option<TcpListener>,
    pid1: bool,
    main: Proc,
    extras: Vec<Proc>,
    start_pid: Option<i32>,
    exits: VecDeque<(Role, Exit)>,
    reaped: u64,
    children_left: bool,
    /// The main command phase was reached.
    running: bool,
    /// SIGINT or SIGQUIT was passed on: the main process ending is a stop, not a crash.
    stop_requested: bool,
    drain: Option<Drain>,
    drain_ports: BTreeSet<u16>,
    connections: Option<usize>,
    /// Pids and process groups that already got the drain's SIGTERM.
    term_pids: BTreeSet<i32>,
    term_groups: BTreeSet<i32>,
    ready: bool,
}

fn spawn_error_code(e: &std::io::Error) -> i32 {
    if e.kind() == std::io::ErrorKind::NotFound {
        EXIT_NOT_FOUND
    } else {
        EXIT_CANNOT_RUN
    }
}

/// Signals that ask a process to end.
fn terminating(sig: i32) -> bool {
    [
        Signal::SIGTERM,
        Signal::SIGINT,
        Signal::SIGQUIT,
        Signal::SIGHUP,
    ]
    .iter()
    .any(|s| *s as i32 == sig)
}

impl Init {
    fn new(args: RunArgs, signals: Signals) -> Result<Init, String> {
        let pid1 = sys::getpid() == 1;
        if !pid1 && let Err(e) = sys::become_subreaper() {
            // Orphans then go to the real init: berth-init still runs, but cannot wait for them.
            eprintln!(
                "berth-init: warning: cannot become a child subreaper ({e}); orphans will not be reaped here"
            );
        }
        let http = match args.http_listen {
            None => None,
            Some(addr) => {
                let listener = TcpListener::bind(addr)
                    .map_err(|e| format!("cannot listen on {addr} (--http-listen): {e}"))?;
                listener
                    .set_nonblocking(true)
                    .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
                Some(listener)
            }
        };
        let policy = |mode| RestartPolicy {
            mode,
            limit: args.restart_limit,
            window: args.restart_window,
            backoff: args.restart_backoff,
            backoff_max: args.restart_backoff_max.max(args.restart_backoff),
        };
        let main = Proc::new(
            "main".into(),
            args.command.clone(),
            policy(args.restart.into()),
        );
        let extras = args
            .supervise
            .iter()
            .enumerate()
            .map(|(i, a)| {
                Proc::new(
                    format!("supervise-{}", i + 1),
                    a.0.clone(),
                    policy(RestartMode::Always),
                )
            })
            .collect();
        Ok(Init {
            clock: Instant::now(),
            signals,
            http,
            pid1,
            main,
            extras,
            start_pid: None,
            exits: VecDeque::new(),
            reaped: 0,
            children_left: false,
            running: false,
            stop_requested: false,
            drain: None,
            drain_ports: BTreeSet::new(),
            connections: None,
            term_pids: BTreeSet::new(),
            term_groups: BTreeSet::new(),
            ready: false,
            args,
        })
    }

    fn now(&self) -> Duration {
        self.clock.elapsed()
    }

    fn info(&self, msg: std::fmt::Arguments) {
        if !self.args.quiet {
            eprintln!("berth-init: {msg}");
        }
    }

    fn error(&self, msg: std::fmt::Arguments) {
        eprintln!("berth-init: {msg}");
    }

    // === events ===

    /// Waits for a signal, an HTTP client or `until`; reaps and answers on the way. Returns the
    /// signals other than SIGCHLD.
    fn wait_events(&mut self, until: Option<Duration>) -> Vec<i32> {
        let timeout = match until {
            None => PollTimeout::NONE,
            // Round up so a wake-up never comes a millisecond early and spins.
            Some(t) => {
                let ms = t.saturating_sub(self.now()).as_micros().div_ceil(1000);
                PollTimeout::try_from(ms).unwrap_or(PollTimeout::MAX)
            }
        };
        let (signal_ready, http_ready) = {
            let mut fds = vec![PollFd::new(self.signals.as_fd(), PollFlags::POLLIN)];
            if let Some(l) = &self.http {
                fds.push(PollFd::new(l.as_fd(), PollFlags::POLLIN));
            }
            match poll(&mut fds, timeout) {
                Ok(_) => {
                    let hit = |fd: &PollFd| fd.revents().is_some_and(|r| !r.is_empty());
                    (hit(&fds[0]), fds.get(1).is_some_and(hit))
                }
                // EINTR cannot come from blocked signals; any error: look at everything again.
                Err(_) => (true, false),
            }
        };
        let mut signals = Vec::new();
        if signal_ready {
            for sig in self.signals.drain() {
                if sig == Signal::SIGCHLD as i32 {
                    self.reap_all();
                } else if sig != Signal::SIGTTIN as i32 && sig != Signal::SIGTTOU as i32 {
                    signals.push(sig);
                }
            }
        }
        if http_ready && let Some(listener) = &self.http {
            http::serve_pending(listener, &self.status());
        }
        signals
    }

    fn reap_all(&mut self) {
        loop {
            match sys::reap_one() {
                Reap::Child(pid, exit) => {
                    self.reaped += 1;
                    self.on_reaped(pid, exit);
                }
                Reap::Running => {
                    self.children_left = true;
                    return;
                }
                Reap::NoChildren => {
                    self.children_left = false;
                    return;
                }
            }
        }
    }

    fn on_reaped(&mut self, pid: i32, exit: Exit) {
        if self.start_pid == Some(pid) {
            self.start_pid = None;
            self.exits.push_back((Role::Start, exit));
        } else if self.main.pid == Some(pid) {
            self.main.pid = None;
            self.main.last_exit = Some(exit);
            self.exits.push_back((Role::Main, exit));
        } else if let Some(i) = self.extras.iter().position(|p| p.pid == Some(pid)) {
            self.extras[i].pid = None;
            self.extras[i].last_exit = Some(exit);
            self.exits.push_back((Role::Extra(i), exit));
        }
        // Anything else was an orphan: reaping it was the whole job.
    }

    // === phases before the main command ===

    fn wait_targets(&mut self) -> Result<(), i32> {
        let targets = self.args.wait_for.clone();
        let deadline = self.now() + self.args.wait_timeout;
        for target in &targets {
            let mut retry = Duration::from_millis(100);
            let mut announced = false;
            loop {
                let attempt = deadline
                    .saturating_sub(self.now())
                    .clamp(Duration::from_millis(10), Duration::from_secs(1));
                let why = match target.probe(attempt) {
                    Ok(()) => {
                        self.info(format_args!("{} is ready", target.text));
                        break;
                    }
                    Err(why) => why,
                };
                if self.now() >= deadline {
                    self.error(format_args!(
                        "timed out after {} (--wait-timeout) waiting for {}: {why}; nothing was started",
                        format_duration(self.args.wait_timeout),
                        target.text
                    ));
                    return Err(EXIT_FAILURE);
                }
                if !announced {
                    self.info(format_args!("waiting for {} ({why})", target.text));
                    announced = true;
                }
                let wake = (self.now() + retry).min(deadline);
                retry = (retry * 2).min(Duration::from_secs(1));
                for sig in self.wait_events(Some(wake)) {
                    if terminating(sig) {
                        self.info(format_args!(
                            "{} while waiting for {}; exiting",
                            signal_name(sig),
                            target.text
                        ));
                        return Err(128 + sig);
                    }
                }
            }
        }
        Ok(())
    }

    fn run_start_programs(&mut self) -> Result<(), i32> {
        let programs: Vec<Vec<String>> = self.args.start.iter().map(|a| a.0.clone()).collect();
        let n = programs.len();
        for (i, argv) in programs.iter().enumerate() {
            let shown = display_argv(argv);
            self.info(format_args!("start program {} of {n}: {shown}", i + 1));
            let pid = match sys::spawn(argv) {
                Ok(pid) => pid,
                Err(e) => {
                    self.error(format_args!("cannot run start program {} of {n} ({shown}): {e}; the main command was not started", i + 1));
                    return Err(spawn_error_code(&e));
                }
            };
            self.start_pid = Some(pid);
            self.children_left = true;
            let mut stop = None;
            let exit = loop {
                if let Some(at) = self.exits.iter().position(|(r, _)| *r == Role::Start) {
                    // position() just found it.
                    break self.exits.remove(at).map_or(Exit::Code(0), |(_, e)| e);
                }
                for sig in self.wait_events(None) {
                    let _ = sys::send(pid, signal_from(sig), false);
                    if terminating(sig) {
                        stop = Some(sig);
                    }
                }
            };
            if !exit.success() {
                self.error(format_args!(
                    "start program {} of {n} ({shown}) {exit}; the main command was not started",
                    i + 1
                ));
                return Err(exit.code());
            }
            if let Some(sig) = stop {
                self.info(format_args!(
                    "{} during start programs; exiting",
                    signal_name(sig)
                ));
                return Err(128 + sig);
            }
        }
        Ok(())
    }

    /// Leaves before the main command ran: whatever was started (orphans of start programs)
    /// goes through the drain without delay; the exit code is `code`.
    fn abort(&mut self, code: i32) -> i32 {
        self.main.last_exit = Some(Exit::Code(code));
        self.begin_drain(false);
        let _ = self.supervise();
        code
    }

    // === supervision ===

    fn start_processes(&mut self) {
        for i in 0..self.extras.len() {
            self.spawn_proc(Role::Extra(i));
        }
        self.spawn_proc(Role::Main);
        self.running = true;
    }

    fn proc_mut(&mut self, role: Role) -> &mut Proc {
        match role {
            Role::Extra(i) => &mut self.extras[i],
            Role::Main | Role::Start => &mut self.main,
        }
    }

    fn spawn_proc(&mut self, role: Role) {
        let argv = self.proc_mut(role).argv.clone();
        match sys::spawn(&argv) {
            Ok(pid) => {
                self.proc_mut(role).pid = Some(pid);
                self.children_left = true;
                if role == Role::Main {
                    sys::hand_terminal_to(pid);
                }
            }
            Err(e) => {
                let code = spawn_error_code(&e);
                self.error(format_args!("cannot start {}: {e}", display_argv(&argv)));
                // A command that cannot start is handled like one that exited at once.
                self.proc_mut(role).last_exit = Some(Exit::Code(code));
                self.exits.push_back((role, Exit::Code(code)));
            }
        }
    }

    fn supervise(&mut self) -> i32 {
        loop {
            let now = self.now();
            if self.drain.is_none() {
                for role in self.roles() {
                    let p = self.proc_mut(role);
                    if p.restart_at.is_some_and(|at| at <= now) {
                        p.restart_at = None;
                        self.spawn_proc(role);
                    }
                }
            }
            while let Some((role, exit)) = self.exits.pop_front() {
                self.on_exit(role, exit);
            }
            self.update_readiness();
            let mut wake = self
                .roles()
                .into_iter()
                .filter_map(|r| self.proc_mut(r).restart_at)
                .min();
            if self.drain.is_some() {
                match self.drain_steps() {
                    Ok(until) => wake = Some(wake.map_or(until, |w| w.min(until))),
                    Err(code) => return code,
                }
            }
            for sig in self.wait_events(wake) {
                self.on_signal(sig);
            }
        }
    }

    fn roles(&self) -> Vec<Role> {
        std::iter::once(Role::Main)
            .chain((0..self.extras.len()).map(Role::Extra))
            .collect()
    }

    fn on_exit(&mut self, role: Role, exit: Exit) {
        if role == Role::Start {
            return;
        }
        let now = self.now();
        let draining = self.drain.is_some();
        let stop = self.stop_requested && role == Role::Main;
        let limit = self.args.restart_limit;
        let window = format_duration(self.args.restart_window);
        let p = self.proc_mut(role);
        let shown = display_argv(&p.argv);
        let what = if role == Role::Main {
            "main process".to_string()
        } else {
            format!("supervised {shown}")
        };
        if draining {
            self.info(format_args!("{what} {exit}"));
            return;
        }
        let verdict = if stop {
            Verdict::Stop
        } else {
            p.sup.on_exit(now, exit)
        };
        match verdict {
            Verdict::Restart { at, attempt } => {
                p.restart_at = Some(at);
                self.info(format_args!("{what} {exit}; restart {attempt} of {limit} in {}", format_duration(at - now)));
            }
            Verdict::GiveUp { restarts } => self.error(format_args!(
                "{what} {exit}; restart limit reached ({restarts} restarts within {window}): not restarting it, staying up not-ready"
            )),
            Verdict::Stop => {
                if !exit.success() {
                    self.info(format_args!("{what} {exit}; stopping"));
                }
                self.begin_drain(false);
            }
        }
    }

    fn on_signal(&mut self, sig: i32) {
        let signal = signal_from(sig);
        if signal == Signal::SIGTERM {
            match &mut self.drain {
                None => {
                    self.info(format_args!(
                        "SIGTERM: draining (not ready now, SIGTERM to the processes in {})",
                        format_duration(self.args.drain_delay)
                    ));
                    self.begin_drain(true);
                }
                Some(d) => {
                    let now = self.clock.elapsed();
                    d.skip_delay(now);
                }
            }
            return;
        }
        match self.main.pid {
            Some(pid) => {
                if signal == Signal::SIGINT || signal == Signal::SIGQUIT {
                    self.stop_requested = true;
                }
                let _ = sys::send(pid, signal, self.args.signal_target == SignalTarget::Group);
            }
            // No main process to pass it to (restarting, or given up): an interrupt stops.
            None if (signal == Signal::SIGINT || signal == Signal::SIGQUIT)
                && self.drain.is_none() =>
            {
                self.info(format_args!("{}: stopping", signal_name(sig)));
                self.begin_drain(false);
            }
            None => {}
        }
    }

    // === drain ===

    fn begin_drain(&mut self, with_delay: bool) {
        let cfg = DrainConfig {
            delay: self.args.drain_delay,
            timeout: self.args.drain_timeout,
            idle_grace: self.args.drain_idle_grace,
        };
        self.drain = Some(Drain::new(cfg, self.now(), with_delay));
        for role in self.roles() {
            self.proc_mut(role).restart_at = None;
        }
        self.update_readiness();
    }

    /// Adds the app's listening ports to the set the drain watches.
    fn scan_ports(&mut self) {
        match &self.args.ports.drain_ports {
            DrainPorts::None => {}
            DrainPorts::List(ports) => self.drain_ports = ports.clone(),
            DrainPorts::Auto => {
                let me = sys::getpid();
                let table = procfs::process_table();
                let pids: Vec<i32> = if self.pid1 {
                    table.iter().map(|p| p.pid).filter(|&p| p != me).collect()
                } else {
                    procfs::descendants(&table, me)
                };
                let owned = procfs::socket_inodes(&pids);
                if let Ok(sockets) = proc_net::read_sockets() {
                    let own_port = self.args.http_listen.map(|a| a.port());
                    self.drain_ports.extend(
                        proc_net::listening_ports(&sockets, Some(&owned))
                            .into_iter()
                            .filter(|p| Some(*p) != own_port),
                    );
                }
            }
        }
    }

    fn observe(&mut self) -> Observation {
        self.connections = if self.drain_ports.is_empty() {
            None
        } else {
            proc_net::read_sockets()
                .ok()
                .map(|s| proc_net::established_on(&s, &self.drain_ports))
        };
        Observation {
            now: self.now(),
            main_running: self.main.pid.is_some(),
            processes_left: self.children_left,
            established: self.connections,
        }
    }

    /// Takes drain steps until one says wait; `Err` carries the exit code when it is over.
    fn drain_steps(&mut self) -> Result<Duration, i32> {
        loop {
            let obs = self.observe();
            let Some(drain) = &mut self.drain else {
                return Ok(obs.now);
            };
            match drain.step(obs) {
                Step::Wait { until } => return Ok(until),
                Step::Terminate { everyone } => self.terminate(everyone),
                Step::Kill => {
                    if let Some((at, reason)) = drain.killed()
                        && at == obs.now
                    {
                        let why = match reason {
                            KillReason::Idle => format!(
                                "no connection left for {}",
                                format_duration(self.args.drain_idle_grace)
                            ),
                            KillReason::Timeout => format!(
                                "{} after SIGTERM (--drain-timeout)",
                                format_duration(self.args.drain_timeout)
                            ),
                        };
                        self.info(format_args!("SIGKILL to the remaining processes: {why}"));
                    }
                    sys::kill_everyone(self.pid1);
                }
                Step::Exit { leftover } => return Err(self.finish(leftover)),
            }
        }
    }

    fn terminate(&mut self, everyone: bool) {
        let group = self.args.signal_target == SignalTarget::Group;
        // Read the ports just before SIGTERM: after it, apps close their listeners.
        self.scan_ports();
        if !everyone {
            let pids: Vec<i32> = self
                .roles()
                .into_iter()
                .filter_map(|r| self.proc_mut(r).pid)
                .collect();
            for pid in pids {
                let _ = sys::send(pid, Signal::SIGTERM, group);
                self.term_pids.insert(pid);
                if group {
                    self.term_groups.insert(pid);
                }
            }
            let ports = if self.drain_ports.is_empty() {
                "no listening port to watch".to_string()
            } else {
                format!(
                    "watching connections on port {}",
                    self.drain_ports
                        .iter()
                        .map(u16::to_string)
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            self.info(format_args!(
                "SIGTERM to the main process{}; {ports}",
                if self.extras.is_empty() {
                    ""
                } else {
                    " and the supervised ones"
                }
            ));
        } else {
            let sent = sys::signal_everyone(
                Signal::SIGTERM,
                self.pid1,
                &self.term_pids,
                &self.term_groups,
            );
            if !sent.is_empty() {
                self.info(format_args!(
                    "SIGTERM to {} remaining process{}",
                    sent.len(),
                    if sent.len() == 1 { "" } else { "es" }
                ));
            }
            self.term_pids.extend(sent);
        }
    }

    fn finish(&mut self, leftover: bool) -> i32 {
        if leftover {
            self.error(format_args!(
                "processes survived SIGKILL for {}; exiting anyway",
                format_duration(crate::drain::KILL_WAIT)
            ));
        }
        if let Some(d) = &self.drain
            && d.term_at().is_some()
        {
            let now = self.now();
            let term = d.term_at().map_or(String::new(), |t| {
                format!(", SIGTERM after {:.3}s", (t - d.started()).as_secs_f64())
            });
            let plural = if self.reaped == 1 { "" } else { "ren" };
            self.info(format_args!(
                "all processes gone {:.3}s after the drain began{term}; reaped {} child{plural} in all",
                (now - d.started()).as_secs_f64(),
                self.reaped
            ));
        }
        self.set_ready(false);
        self.main
            .last_exit
            .map_or(128 + Signal::SIGKILL as i32, Exit::code)
    }

    // === readiness ===

    fn not_ready_reason(&self) -> Option<String> {
        if self.drain.is_some() {
            return Some("draining".into());
        }
        if self.main.sup.given_up() {
            return Some("the main process reached its restart limit".into());
        }
        if let Some(p) = self.extras.iter().find(|p| p.sup.given_up()) {
            return Some(format!(
                "{} ({}) reached its restart limit",
                p.name,
                display_argv(&p.argv)
            ));
        }
        if !self.running {
            return Some("starting".into());
        }
        if self.main.pid.is_none() {
            return Some("the main process is restarting".into());
        }
        None
    }

    fn update_readiness(&mut self) {
        let ready = self.not_ready_reason().is_none();
        self.set_ready(ready);
    }

    fn set_ready(&mut self, ready: bool) {
        if ready == self.ready {
            return;
        }
        self.ready = ready;
        let Some(path) = self.args.readiness.readiness_file.clone() else {
            return;
        };
        let result = if ready {
            std::fs::write(&path, b"")
        } else {
            remove_if_present(&path)
        };
        if let Err(e) = result {
            self.error(format_args!(
                "warning: cannot {} readiness file {}: {e}",
                if ready { "create" } else { "remove" },
                path.display()
            ));
        }
    }

    fn status(&self) -> Status {
        let now = self.now();
        Status {
            not_ready: self.not_ready_reason(),
            reaped_total: self.reaped,
            restarts_total: std::iter::once(&self.main)
                .chain(&self.extras)
                .map(|p| (p.name.clone(), p.sup.total_restarts()))
                .collect(),
            given_up: self.main.sup.given_up() || self.extras.iter().any(|p| p.sup.given_up()),
            draining: self.drain.is_some(),
            drain_elapsed_seconds: self
                .drain
                .as_ref()
                .map_or(0.0, |d| (now - d.started()).as_secs_f64()),
            drain_delay_seconds: self
                .drain
                .as_ref()
                .and_then(|d| d.term_at().map(|t| (t - d.started()).as_secs_f64())),
            drain_connections: self.connections,
        }
    }
}

/// Removes a file; one that is not there is fine.
pub fn remove_if_present(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

/// The signal for a number read from the signalfd; only handled signals arrive there.
fn signal_from(sig: i32) -> Signal {
    Signal::try_from(sig).unwrap_or(Signal::SIGTERM)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sys::FORWARDED;

    #[test]
    fn forwarded_signals_are_the_ones_the_issue_lists_plus_window_changes() {
        let names: Vec<&str> = FORWARDED.iter().map(|s| s.as_str()).collect();
        assert_eq!(
            names,
            [
                "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"
            ]
        );
    }

    #[test]
    fn commands_that_cannot_run_get_the_shell_exit_codes() {
        let not_found = std::io::Error::from(std::io::ErrorKind::NotFound);
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert_eq!(spawn_error_code(&not_found), 127);
        assert_eq!(spawn_error_code(&denied), 126);
    }
}
