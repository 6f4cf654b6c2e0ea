//! The thin layer over the kernel: blocked signals read through a signalfd, reaping with
//! `waitpid(-1, WNOHANG)`, the child-subreaper flag, and signals to processes and groups.
//! No `unsafe`: nix and rustix wrap the calls.

use std::collections::BTreeSet;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};

use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};
use nix::unistd::Pid;
use rustix::process::WaitOptions;

use crate::procfs;
use crate::supervisor::Exit;

/// The signals berth-init forwards to the main process (SIGTERM starts the drain instead).
pub const FORWARDED: [Signal; 6] = [
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGQUIT,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGWINCH,
];

/// Every signal berth-init handles, blocked so it queues for the signalfd. Blocked signals are
/// also never dropped for PID 1, which would otherwise ignore signals it has no handler for.
fn handled() -> SigSet {
    let mut set = SigSet::empty();
    for s in FORWARDED {
        set.add(s);
    }
    set.add(Signal::SIGTERM);
    set.add(Signal::SIGCHLD);
    // Blocking SIGTTOU lets berth-init hand the terminal to the main process's group
    // (tcsetpgrp from a background group would otherwise stop berth-init).
    set.add(Signal::SIGTTOU);
    set.add(Signal::SIGTTIN);
    set
}

/// What std's start-up would do and berth-init relies on, for a `#![no_main]` binary: stdin,
/// stdout and stderr open (on /dev/null when they were closed, so no file berth-init opens
/// takes their place), and SIGPIPE kept from ending berth-init, so a write to a closed pipe
/// fails with EPIPE instead. std ignores SIGPIPE; blocking it does the same without `unsafe`,
/// and children still start with an empty mask and SIGPIPE at its default (see [`spawn`]).
pub fn prepare_process() {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::IntoRawFd;

    let (stdin, stdout, stderr) = (io::stdin(), io::stdout(), io::stderr());
    let mut fds = [
        PollFd::new(stdin.as_fd(), PollFlags::empty()),
        PollFd::new(stdout.as_fd(), PollFlags::empty()),
        PollFd::new(stderr.as_fd(), PollFlags::empty()),
    ];
    if poll(&mut fds, PollTimeout::ZERO).is_ok() {
        for fd in &fds {
            if fd
                .revents()
                .is_some_and(|r| r.contains(PollFlags::POLLNVAL))
            {
                // open(2) takes the lowest free number: the closed one, as they go in order.
                // Without close-on-exec (which std sets), so children inherit it as with std.
                if let Ok(null) = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                {
                    let _ = rustix::io::fcntl_setfd(&null, rustix::io::FdFlags::empty());
                    let _ = null.into_raw_fd();
                }
            }
        }
    }
    let _ = SigSet::from(Signal::SIGPIPE).thread_block();
}

/// Pending signals, readable as a file descriptor.
pub struct Signals {
    fd: SignalFd,
}

impl Signals {
    /// Blocks the handled signals and opens a signalfd for them. Call before any thread or
    /// child exists: children get an empty mask back from `std::process::Command`.
    pub fn block() -> io::Result<Signals> {
        let set = handled();
        set.thread_block().map_err(io::Error::from)?;
        let fd = SignalFd::with_flags(&set, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
            .map_err(io::Error::from)?;
        Ok(Signals { fd })
    }

    /// The signal numbers pending now, in arrival order (standard signals coalesce).
    pub fn drain(&mut self) -> Vec<i32> {
        let mut out = Vec::new();
        while let Ok(Some(info)) = self.fd.read_signal() {
            out.push(info.ssi_signo as i32);
        }
        out
    }
}

impl AsFd for Signals {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// One result of a non-blocking wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reap {
    /// This child ended and is reaped.
    Child(i32, Exit),
    /// Children remain, none has ended.
    Running,
    /// No child is left at all.
    NoChildren,
}

/// `waitpid(-1, WNOHANG)`: reaps one ended child, orphans included.
pub fn reap_one() -> Reap {
    loop {
        match rustix::process::wait(WaitOptions::NOHANG) {
            Ok(Some((pid, status))) => {
                let exit = match (status.exit_status(), status.terminating_signal()) {
                    (Some(code), _) => Exit::Code(code),
                    (None, Some(sig)) => Exit::Signal(sig),
                    // Stopped or continued: not asked for (no WUNTRACED), so not an end.
                    (None, None) => continue,
                };
                return Reap::Child(pid.as_raw_nonzero().get(), exit);
            }
            Ok(None) => return Reap::Running,
            Err(rustix::io::Errno::INTR) => continue,
            // ECHILD, and anything else the kernel could say, both mean: nothing to reap.
            Err(_) => return Reap::NoChildren,
        }
    }
}

/// Starts a program in its own process group with a clean signal state: an empty mask (berth-init
/// keeps its handled signals blocked, and a child would inherit that) and default dispositions
/// for the handled signals and SIGPIPE (which [`prepare_process`] blocks). `std::process::Command`
/// restores neither when it uses posix_spawn, so the spawn attributes are set here.
pub fn spawn(argv: &[String]) -> io::Result<i32> {
    use nix::spawn::{PosixSpawnAttr, PosixSpawnFileActions, PosixSpawnFlags, posix_spawnp};
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;

    let nul = |_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            "an argument contains a NUL byte",
        )
    };
    let args = argv
        .iter()
        .map(|a| CString::new(a.as_bytes()).map_err(nul))
        .collect::<io::Result<Vec<_>>>()?;
    let Some(program) = args.first() else {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "empty command"));
    };
    let env = std::env::vars_os()
        .map(|(k, v)| {
            let mut kv = k.as_bytes().to_vec();
            kv.push(b'=');
            kv.extend_from_slice(v.as_bytes());
            CString::new(kv).map_err(nul)
        })
        .collect::<io::Result<Vec<_>>>()?;
    let mut attr = PosixSpawnAttr::init()?;
    attr.set_flags(
        PosixSpawnFlags::POSIX_SPAWN_SETPGROUP
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGMASK
            | PosixSpawnFlags::POSIX_SPAWN_SETSIGDEF,
    )?;
    // pgroup 0: a new group whose id is the child's pid.
    attr.set_pgroup(Pid::from_raw(0))?;
    attr.set_sigmask(&SigSet::empty())?;
    let mut defaults = handled();
    defaults.add(Signal::SIGPIPE);
    attr.set_sigdefault(&defaults)?;
    let actions = PosixSpawnFileActions::init()?;
    let pid = posix_spawnp(program, &actions, &attr, &args, &env)?;
    Ok(pid.as_raw())
}

/// Makes orphaned descendants re-parent to this process instead of PID 1, so it can reap
/// them and knows when every process it started is gone.
pub fn become_subreaper() -> io::Result<()> {
    nix::sys::prctl::set_child_subreaper(true).map_err(io::Error::from)
}

/// This process's pid.
pub fn getpid() -> i32 {
    nix::unistd::getpid().as_raw()
}

/// Sends `sig` to `pid`, or to its process group; a process already gone is not an error.
pub fn send(pid: i32, sig: Signal, group: bool) -> io::Result<()> {
    let r = if group {
        nix::sys::signal::killpg(Pid::from_raw(pid), sig)
    } else {
        nix::sys::signal::kill(Pid::from_raw(pid), sig)
    };
    match r {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// The processes "everyone" means: as PID 1 every process in the namespace but this one;
/// otherwise every descendant. Processes in `skip_groups` (already signalled as a group) and
/// `skip_pids` are left out. Returns the pids signalled.
pub fn signal_everyone(
    sig: Signal,
    pid1: bool,
    skip_pids: &BTreeSet<i32>,
    skip_groups: &BTreeSet<i32>,
) -> Vec<i32> {
    let me = getpid();
    let table = procfs::process_table();
    let targets: Vec<i32> = if pid1 {
        table.iter().map(|p| p.pid).filter(|&p| p != me).collect()
    } else {
        procfs::descendants(&table, me)
    };
    let mut sent = Vec::new();
    for entry in table.iter().filter(|p| targets.contains(&p.pid)) {
        if skip_pids.contains(&entry.pid) || skip_groups.contains(&entry.pgrp) {
            continue;
        }
        // A pid read from /proc a moment ago could in theory have been reused; it is one of
        // this container's own pids either way, and nothing outlives the container.
        if send(entry.pid, sig, false).is_ok() {
            sent.push(entry.pid);
        }
    }
    sent
}

/// SIGKILL to everyone: as PID 1 through `kill(-1)`, which reaches every process of the
/// namespace atomically; otherwise to each descendant found in /proc.
pub fn kill_everyone(pid1: bool) {
    if pid1 {
        let _ = nix::sys::signal::kill(Pid::from_raw(-1), Signal::SIGKILL);
    } else {
        signal_everyone(Signal::SIGKILL, false, &BTreeSet::new(), &BTreeSet::new());
    }
}

/// Gives the terminal on stdin to `pgrp` when berth-init's group holds it, as tini does, so an
/// interactive main process can read from it. Does nothing without a terminal.
pub fn hand_terminal_to(pgrp: i32) {
    use std::io::IsTerminal;
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return;
    }
    let fd = stdin.as_fd();
    if nix::unistd::tcgetpgrp(fd).ok() == Some(nix::unistd::getpgrp()) {
        let _ = nix::unistd::tcsetpgrp(fd, Pid::from_raw(pgrp));
    }
}
