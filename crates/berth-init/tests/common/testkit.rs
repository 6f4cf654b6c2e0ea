//! Test programs for berth-init to run: this test binary, started again with a role in
//! [`ROLE_ENV`], becomes a server, a signal recorder, an orphan factory... Real processes with
//! real signals; no mocks.

// Children left unwaited on purpose: orphans and zombies are what berth-init is tested on.
#![allow(clippy::zombie_processes)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use signal_hook::consts::*;

/// The environment variable that holds the role and its `key=value` arguments.
pub const ROLE_ENV: &str = "BERTH_TESTKIT";

/// The role entry point; without a role it does nothing (so a normal test run passes it).
#[test]
fn entry() {
    if let Ok(spec) = std::env::var(ROLE_ENV) {
        run(&spec);
    }
}

fn run(spec: &str) -> ! {
    let mut words = spec.split(' ');
    let name = words.next().unwrap_or_default();
    let args: BTreeMap<&str, &str> = words.filter_map(|w| w.split_once('=')).collect();
    let arg = |k: &str| args.get(k).copied();
    let num = |k: &str, d: u64| arg(k).map_or(d, |v| v.parse().expect("number"));
    match name {
        "sleep" => {
            ready(arg("ready"));
            sleep_forever()
        }
        "record" => record(
            arg("prefix").unwrap_or("main"),
            arg("log"),
            arg("ready"),
            num("term-exit", 0) as i32,
        ),
        "ignore-term" => {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(SIGTERM, flag).expect("register");
            if let Some(port) = arg("listen") {
                hold_connections(port.parse().expect("port"));
            }
            ready(arg("ready"));
            sleep_forever()
        }
        "background" => {
            let child_role = if arg("ignore-term").is_some() {
                "ignore-term"
            } else {
                "sleep"
            };
            let child = Command::new(std::env::current_exe().expect("exe"))
                .args([
                    "--exact",
                    "common::testkit::entry",
                    "--nocapture",
                    "--test-threads=1",
                    "-q",
                ])
                .env(
                    ROLE_ENV,
                    format!(
                        "{child_role} ready={}",
                        arg("child-ready").expect("child-ready")
                    ),
                )
                // Its own group: no group signal aimed at the main process reaches it.
                .process_group(0)
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn background child");
            std::fs::write(arg("pid-file").expect("pid-file"), child.id().to_string())
                .expect("pid file");
            // Wait until the child is set up, then leave it behind.
            let child_ready = arg("child-ready").expect("child-ready");
            while !Path::new(child_ready).exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::process::exit(0)
        }
        "group-parent" => {
            let log = arg("log").expect("log");
            let child_ready = format!("{}.child", arg("ready").expect("ready"));
            let _child = Command::new(std::env::current_exe().expect("exe"))
                .args([
                    "--exact",
                    "common::testkit::entry",
                    "--nocapture",
                    "--test-threads=1",
                    "-q",
                ])
                .env(
                    ROLE_ENV,
                    format!("record prefix=child log={log} ready={child_ready}"),
                )
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn child");
            while !Path::new(&child_ready).exists() {
                std::thread::sleep(Duration::from_millis(5));
            }
            record("parent", Some(log), arg("ready"), 0)
        }
        "storm" => storm(
            num("spawners", 4) as usize,
            num("orphans", 1000) as usize,
            num("metrics-port", 0) as u16,
        ),
        "orphaner" => {
            // Children that are never waited for: when this process exits they are orphans
            // (most already zombies) and become berth-init's to reap.
            for _ in 0..num("orphans", 1000) {
                let _ = Command::new("/bin/true")
                    .stdout(Stdio::null())
                    .spawn()
                    .expect("spawn /bin/true");
            }
            std::process::exit(0)
        }
        "slow-server" => slow_server(
            num("port", 0) as u16,
            Duration::from_millis(num("delay-ms", 200)),
            arg("ready"),
        ),
        other => {
            eprintln!("testkit: unknown role {other}");
            std::process::exit(99)
        }
    }
}

fn ready(path: Option<&str>) {
    if let Some(p) = path {
        std::fs::write(p, b"ready").expect("ready file");
    }
}

fn sleep_forever() -> ! {
    loop {
        std::thread::sleep(Duration::from_secs(3600));
    }
}

/// Appends "PREFIX SIGNAME" for every signal it gets; exits with `term_exit` on SIGTERM.
fn record(prefix: &str, log: Option<&str>, ready_file: Option<&str>, term_exit: i32) -> ! {
    let mut signals = signal_hook::iterator::Signals::new([
        SIGUSR1, SIGUSR2, SIGHUP, SIGINT, SIGQUIT, SIGWINCH, SIGTERM,
    ])
    .expect("signals");
    ready(ready_file);
    for sig in signals.forever() {
        if let Some(log) = log {
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(log)
                .expect("log");
            let line = format!(
                "{prefix} {}\n",
                signal_hook::low_level::signal_name(sig).unwrap_or("?")
            );
            // One write of the whole line: O_APPEND keeps lines of two processes apart.
            f.write_all(line.as_bytes()).expect("write log");
        }
        if sig == SIGTERM {
            std::process::exit(term_exit);
        }
    }
    std::process::exit(98)
}

/// Accepts connections on `port` and keeps each open until the peer closes it.
fn hold_connections(port: u16) {
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut stream = stream;
                let mut buf = [0u8; 256];
                while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
            });
        }
    });
}

/// Makes `spawners` children that each orphan `orphans` grandchildren, then waits until
/// berth-init (the parent) has reaped them all. Exit 0 when no zombie and no other child of
/// berth-init is left and berth-init's /metrics (on `metrics_port`) counts at least every
/// orphan as reaped (so the orphans really went to berth-init); 1 when some remained after
/// 20 s, 2 when the count is short.
fn storm(spawners: usize, orphans: usize, metrics_port: u16) -> ! {
    let started = Instant::now();
    let children: Vec<_> = (0..spawners)
        .map(|_| {
            Command::new(std::env::current_exe().expect("exe"))
                .args([
                    "--exact",
                    "common::testkit::entry",
                    "--nocapture",
                    "--test-threads=1",
                    "-q",
                ])
                .env(ROLE_ENV, format!("orphaner orphans={orphans}"))
                .stdout(Stdio::null())
                .spawn()
                .expect("spawn orphaner")
        })
        .collect();
    for mut c in children {
        c.wait().expect("wait orphaner");
    }
    let spawned = started.elapsed();
    let me = std::process::id() as i32;
    let parent = nix::unistd::getppid().as_raw();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut zombies = 0;
        let mut others = 0;
        for entry in std::fs::read_dir("/proc").expect("proc").flatten() {
            let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
                continue;
            };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            let Some(close) = stat.rfind(')') else {
                continue;
            };
            let mut f = stat[close + 1..].split_whitespace();
            let state = f.next().unwrap_or("");
            let ppid: i32 = f.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            if ppid == parent && pid != me {
                others += 1;
                if state == "Z" {
                    zombies += 1;
                }
            }
        }
        if others == 0 {
            let after = started.elapsed() - spawned;
            let metrics = super::http_get(metrics_port, "/metrics")
                .map(|(_, body)| body)
                .unwrap_or_default();
            let reaped: usize = metrics
                .lines()
                .find_map(|l| l.strip_prefix("berth_init_reaped_total "))
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            eprintln!(
                "testkit storm: {} orphans spawned in {spawned:?}, all reaped {after:?} later; berth-init reaped {reaped}",
                spawners * orphans
            );
            std::process::exit(if reaped >= spawners * orphans { 0 } else { 2 });
        }
        if Instant::now() > deadline {
            eprintln!("testkit storm: {others} children of berth-init left ({zombies} zombies)");
            std::process::exit(1);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// An HTTP server whose every answer takes `delay`; on SIGTERM it closes its listener, finishes
/// the requests in flight and exits 0: an app that honours SIGTERM.
fn slow_server(port: u16, delay: Duration, ready_file: Option<&str>) -> ! {
    let term = Arc::new(AtomicBool::new(false));
    signal_hook::flag::register(SIGTERM, Arc::clone(&term)).expect("register");
    let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    ready(ready_file);
    let in_flight = Arc::new(AtomicUsize::new(0));
    while !term.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((mut stream, _)) => {
                in_flight.fetch_add(1, Ordering::SeqCst);
                let in_flight = Arc::clone(&in_flight);
                std::thread::spawn(move || {
                    let _ = stream.set_nonblocking(false);
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 512];
                    while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                    }
                    std::thread::sleep(delay);
                    let _ = stream.write_all(
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                    );
                    drop(stream);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(1)),
        }
    }
    drop(listener);
    while in_flight.load(Ordering::SeqCst) > 0 {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::process::exit(0)
}

use std::os::unix::process::CommandExt as _;
