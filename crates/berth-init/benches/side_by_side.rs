//! berth-init side by side with tini and dumb-init (Debian's packages; `scripts/setup-init`
//! installs them): start-up overhead over `/bin/true`, resident memory, orphans reaped per
//! second as PID 1 of a new PID namespace, and what each does with a main process that ignores
//! SIGTERM. Run with `cargo bench --bench side_by_side`; it prints a Markdown table.
//!
//! `BERTH_INIT_BINS=label=path,label=path` compares other builds of berth-init (say a static
//! one) instead of the one cargo built for the bench; `BENCH_RUNS` sets the start-up runs
//! (default 300). The same binary doubles as its own test program (`BERTH_BENCH_ROLE`).

// The orphan factory leaves its children unwaited on purpose.
#![allow(clippy::zombie_processes)]

use std::io::Read;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const ROLE: &str = "BERTH_BENCH_ROLE";
/// Zombies left to PID 1 at once in the reaping figure, per round.
const ORPHANS: usize = 3000;
const REAP_ROUNDS: usize = 3;

struct Init {
    label: String,
    /// The init and its flags, before the main command.
    argv: Vec<String>,
    /// Flags for the SIGTERM figure (berth-init: a drain delay and timeout).
    drain_flags: Vec<String>,
}

fn main() {
    if let Ok(role) = std::env::var(ROLE) {
        run_role(&role);
    }
    // `cargo bench` passes --bench; `cargo test --benches` would too: run only for bench.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let inits = inits();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(300);
    eprintln!(
        "start-up: {runs} runs each, interleaved; reaping: {REAP_ROUNDS} rounds of {ORPHANS} zombies as PID 1"
    );
    let startup = startup_overhead(&inits, runs);
    println!(
        "| init | start-up overhead over /bin/true (median) | VmRSS | RssAnon | orphans reaped/s as PID 1 (median) | main ignores SIGTERM | SIGTERM reaches the main process after |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (init, overhead) in inits.iter().zip(startup) {
        let (rss, anon) = memory(init);
        let reap = reap_rate(init);
        let (term_after, kill) = sigterm_behaviour(init);
        println!(
            "| {} | {overhead} | {rss} | {anon} | {reap} | {kill} | {term_after} |",
            init.label
        );
    }
}

fn inits() -> Vec<Init> {
    let mut out = Vec::new();
    let berth = |label: String, path: String| Init {
        label,
        argv: vec![path, "-q".into(), "--".into()],
        drain_flags: [
            "--drain-delay",
            "500ms",
            "--drain-timeout",
            "1s",
            "--drain-ports",
            "none",
        ]
        .map(String::from)
        .to_vec(),
    };
    match std::env::var("BERTH_INIT_BINS") {
        Ok(list) => {
            for item in list.split(',') {
                let (label, path) = item.split_once('=').unwrap_or(("berth-init", item));
                out.push(berth(label.to_string(), path.to_string()));
            }
        }
        Err(_) => out.push(berth(
            "berth-init".into(),
            env!("CARGO_BIN_EXE_berth-init").into(),
        )),
    }
    for (label, path, flags) in [
        ("tini-static", "/usr/bin/tini-static", &["-s", "--"][..]),
        ("tini", "/usr/bin/tini", &["-s", "--"][..]),
        ("dumb-init", "/usr/bin/dumb-init", &[][..]),
    ] {
        if Path::new(path).exists() {
            let mut argv = vec![path.to_string()];
            argv.extend(flags.iter().map(|f| f.to_string()));
            out.push(Init {
                label: label.into(),
                argv,
                drain_flags: Vec::new(),
            });
        } else {
            eprintln!("{label}: {path} not installed (run scripts/setup-init); left out");
        }
    }
    out
}

fn command(argv: &[String]) -> Command {
    let mut c = Command::new(&argv[0]);
    c.args(&argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    c
}

fn median(mut xs: Vec<Duration>) -> Duration {
    xs.sort();
    xs[xs.len() / 2]
}

/// Median wall time of `INIT /bin/true` minus that of `/bin/true`, runs interleaved so drift
/// hits every command alike.
fn startup_overhead(inits: &[Init], runs: usize) -> Vec<String> {
    let mut configs: Vec<Vec<String>> = vec![vec!["/bin/true".into()]];
    for init in inits {
        let mut argv = init.argv.clone();
        argv.push("/bin/true".into());
        configs.push(argv);
    }
    let mut times = vec![Vec::with_capacity(runs); configs.len()];
    for round in 0..runs + 10 {
        for (i, argv) in configs.iter().enumerate() {
            let start = Instant::now();
            let status = command(argv).status().expect("run");
            let took = start.elapsed();
            assert!(status.success(), "{argv:?} failed");
            // The first 10 rounds warm the page cache and are not counted.
            if round >= 10 {
                times[i].push(took);
            }
        }
    }
    let medians: Vec<Duration> = times.into_iter().map(median).collect();
    eprintln!("/bin/true alone: {:.3} ms", medians[0].as_secs_f64() * 1e3);
    medians[1..]
        .iter()
        .map(|m| {
            let over = m.as_secs_f64() - medians[0].as_secs_f64();
            format!("{:.3} ms", over * 1e3)
        })
        .collect()
}

fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches(" kB").trim().parse().ok())
}

fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// VmRSS and RssAnon of the init while its main process (`sleep`) runs.
fn memory(init: &Init) -> (String, String) {
    let mut argv = init.argv.clone();
    argv.extend(["/bin/sleep".to_string(), "30".to_string()]);
    let mut child = command(&argv).spawn().expect("spawn");
    let pid = child.id();
    // Wait until the main process has become sleep: the init is then fully set up.
    let deadline = Instant::now() + Duration::from_secs(10);
    let main = loop {
        if let Some(&c) = children(pid).first()
            && std::fs::read_link(format!("/proc/{c}/exe")).is_ok_and(|e| e.ends_with("sleep"))
        {
            break Some(c);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let rss = status_kb(pid, "VmRSS:");
    let anon = status_kb(pid, "RssAnon:");
    if let Some(m) = main {
        let _ = Command::new("kill")
            .args(["-KILL", &m.to_string()])
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
    let kb = |v: Option<u64>| v.map_or("?".into(), |k| format!("{:.2} MB", k as f64 / 1024.0));
    (kb(rss), kb(anon))
}

/// Orphans reaped per second with the init as PID 1 of a new PID namespace: the main process
/// (this binary, role `storm`) leaves `ORPHANS` zombies to PID 1 at once and times how long
/// until none is left.
fn reap_rate(init: &Init) -> String {
    let exe = std::env::current_exe().expect("exe");
    let mut rates = Vec::new();
    for _ in 0..REAP_ROUNDS {
        let mut c = Command::new("unshare");
        c.args(["--pid", "--fork", "--mount-proc", "--kill-child"])
            .args(&init.argv)
            .arg(&exe);
        c.env(ROLE, format!("storm {ORPHANS}"))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let Ok(mut child) = c.spawn() else {
            return "unshare failed".into();
        };
        let mut out = String::new();
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        let _ = child.wait();
        match out.trim().parse::<f64>() {
            Ok(rate) => rates.push(rate),
            Err(_) => return format!("failed ({})", out.trim()),
        }
    }
    rates.sort_by(f64::total_cmp);
    format!("{:.0}", rates[rates.len() / 2])
}

/// Sends SIGTERM to the init whose main process ignores SIGTERM: how long until the main process
/// got it, and whether the init ends it with SIGKILL.
fn sigterm_behaviour(init: &Init) -> (String, String) {
    // The role's arguments are split on spaces: keep the directory name free of them.
    let name: String = init
        .label
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let dir = std::env::temp_dir().join(format!("berth-bench-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let (ready, got) = (dir.join("ready"), dir.join("got-term"));
    let mut argv = vec![init.argv[0].clone()];
    argv.extend(init.drain_flags.iter().cloned());
    argv.extend(init.argv[1..].iter().cloned());
    argv.push(
        std::env::current_exe()
            .expect("exe")
            .to_string_lossy()
            .into_owned(),
    );
    let mut c = command(&argv);
    c.env(
        ROLE,
        format!("ignore-term {} {}", ready.display(), got.display()),
    );
    let mut child = c.spawn().expect("spawn");
    let wait_for = |p: &Path, limit: Duration| {
        let start = Instant::now();
        while !p.exists() {
            if start.elapsed() > limit {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        true
    };
    if !wait_for(&ready, Duration::from_secs(10)) {
        let _ = child.kill();
        let _ = child.wait();
        return ("?".into(), "did not start".into());
    }
    let sent = Instant::now();
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    let term_after = if wait_for(&got, Duration::from_secs(5)) {
        format!("{:.0} ms", sent.elapsed().as_secs_f64() * 1e3)
    } else {
        "never".into()
    };
    let mut verdict = "no: still running 3 s after SIGTERM".to_string();
    while sent.elapsed() < Duration::from_secs(3) {
        if let Ok(Some(status)) = child.try_wait() {
            verdict = format!(
                "SIGKILL after {:.1} s (exit {})",
                sent.elapsed().as_secs_f64(),
                status.code().unwrap_or(-1)
            );
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    // Clean up what the init left running.
    if let Ok(pid) = std::fs::read_to_string(&ready) {
        let _ = Command::new("kill")
            .args(["-KILL", pid.trim()])
            .stderr(Stdio::null())
            .status();
    }
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    (term_after, verdict)
}

fn run_role(role: &str) -> ! {
    let words: Vec<&str> = role.split(' ').collect();
    match words[0] {
        "storm" => storm(words[1].parse().expect("count")),
        "orphaner" => {
            // Children never waited for: zombies of this process, then PID 1's when it exits.
            let n: usize = words[1].parse().expect("count");
            let kids: Vec<_> = (0..n)
                .map(|_| {
                    Command::new("/bin/true")
                        .stdout(Stdio::null())
                        .spawn()
                        .expect("spawn")
                })
                .collect();
            // Every child has exited (is a zombie) before this process leaves them.
            let deadline = Instant::now() + Duration::from_secs(30);
            while count_zombie_children(std::process::id()) < n && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            std::mem::forget(kids);
            // Tell the storm the zombies are about to pass to PID 1, then go.
            println!("exiting");
            std::process::exit(0)
        }
        "ignore-term" => {
            let flag = Arc::new(AtomicBool::new(false));
            signal_hook::flag::register(signal_hook::consts::SIGTERM, Arc::clone(&flag))
                .expect("register");
            std::fs::write(words[1], std::process::id().to_string()).expect("ready");
            loop {
                if flag.load(Ordering::SeqCst) {
                    let _ = std::fs::write(words[2], b"got it");
                }
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn count_zombie_children(pid: u32) -> usize {
    children(pid)
        .iter()
        .filter(|c| {
            std::fs::read_to_string(format!("/proc/{c}/stat")).is_ok_and(|s| {
                s.rfind(')')
                    .is_some_and(|i| s[i + 1..].trim_start().starts_with('Z'))
            })
        })
        .count()
}

/// Runs as the main process under an init that is PID 1: an orphaner leaves `n` zombies, and
/// this prints how many the init reaped per second, from the orphaner's exit until /proc shows
/// only PID 1 and this process again.
fn storm(n: usize) -> ! {
    let exe = std::env::current_exe().expect("exe");
    let mut orphaner = Command::new(exe)
        .env(ROLE, format!("orphaner {n}"))
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn orphaner");
    let mut line = String::new();
    if let Some(out) = orphaner.stdout.take() {
        let _ = std::io::BufRead::read_line(&mut std::io::BufReader::new(out), &mut line);
    }
    let start = Instant::now();
    orphaner.wait().expect("wait");
    loop {
        // Entries in /proc: PID 1, this process, and every zombie not yet reaped.
        let pids = std::fs::read_dir("/proc")
            .expect("proc")
            .flatten()
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            })
            .count();
        if pids <= 2 {
            break;
        }
        if start.elapsed() > Duration::from_secs(30) {
            println!("timeout with {pids} processes left");
            std::process::exit(1);
        }
    }
    println!("{:.0}", n as f64 / start.elapsed().as_secs_f64());
    std::process::exit(0)
}
