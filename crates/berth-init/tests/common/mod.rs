//! Shared helpers for the integration tests: starting berth-init, the test programs it runs
//! (the "testkit", this very test binary started again in a role), polling with generous
//! timeouts, and a raw HTTP GET.

#![allow(dead_code)] // each test file uses its own subset

pub mod testkit;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Generous bound for anything that should happen "soon" on a slow, shared CI machine.
pub const SOON: Duration = Duration::from_secs(20);

/// The berth-init binary under test: `$BERTH_TEST_INIT_BIN` when set (another build of it,
/// e.g. the musl one `scripts/test-init-musl` makes), else this build's.
pub fn bin() -> String {
    std::env::var("BERTH_TEST_INIT_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_berth-init").to_string())
}

/// A `berth-init` command (through `sh -c 'ulimit -c 0; exec ...'`, so signals that dump core
/// leave no files; exec keeps the pid) with none of its settings in the environment; add flags
/// and the main command with `.args`.
pub fn berth_init() -> Command {
    let mut cmd = Command::new("/bin/sh");
    cmd.args(["-c", "ulimit -c 0; exec \"$@\"", "sh", &bin()]);
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("BERTH_INIT_") {
            cmd.env_remove(key);
        }
    }
    cmd.env_remove(testkit::ROLE_ENV)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    cmd
}

/// The argv that runs this test binary in a testkit role: `env` sets the role and execs it,
/// so the role runs in the very process berth-init started.
pub fn role(name: &str, args: &[&str]) -> Vec<String> {
    let exe = std::env::current_exe().expect("current exe");
    let mut spec = name.to_string();
    for a in args {
        spec.push(' ');
        spec.push_str(a);
    }
    vec![
        "/usr/bin/env".into(),
        format!("{}={spec}", testkit::ROLE_ENV),
        exe.to_string_lossy().into_owned(),
        "--exact".into(),
        "common::testkit::entry".into(),
        "--nocapture".into(),
        "--test-threads=1".into(),
        "-q".into(),
    ]
}

/// A fresh temporary directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("berth-init-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}

/// Polls `cond` every 10 ms until it holds or `timeout` passes; true when it held.
pub fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if cond() {
            return true;
        }
        if start.elapsed() > timeout {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Waits for a child to exit, at most `timeout`; kills it and panics when it does not.
pub fn wait_exit(child: &mut Child, timeout: Duration) -> ExitStatus {
    let mut status = None;
    let ok = wait_until(timeout, || {
        status = child.try_wait().expect("try_wait");
        status.is_some()
    });
    if !ok {
        let _ = child.kill();
        let _ = child.wait();
        panic!(
            "berth-init did not exit within {timeout:?}; stderr:\n{}",
            stderr_of(child)
        );
    }
    status.expect("status set when ok")
}

/// The rest of a child's piped stderr (after it exited).
pub fn stderr_of(child: &mut Child) -> String {
    let mut s = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut s);
    }
    s
}

/// Waits for a file the testkit writes once it is set up.
pub fn wait_file(path: &Path) {
    assert!(
        wait_until(SOON, || path.exists()),
        "{} never appeared",
        path.display()
    );
}

/// A loopback port that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// Starts berth-init with these flags and main command.
pub fn start(flags: &[&str], main: &[String]) -> Child {
    berth_init()
        .args(flags)
        .arg("--")
        .args(main)
        .spawn()
        .expect("spawn berth-init")
}

/// Sends a signal to a process.
pub fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid as i32), sig).expect("kill");
}

/// GET `path` from 127.0.0.1:`port`; the status code and body, or `None` when nothing answers.
pub fn http_get(port: u16, path: &str) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: test\r\n\r\n").ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    let code = answer.split_whitespace().nth(1)?.parse().ok()?;
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Some((code, body))
}

/// True while a process with this pid exists (zombies included).
pub fn alive(pid: i32) -> bool {
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), None).is_ok()
}
