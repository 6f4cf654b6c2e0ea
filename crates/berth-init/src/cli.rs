//! Flags and environment variables. Every flag has a `BERTH_INIT_*` variable so a renderer can
//! set the drain once in the container's env and both PID 1 and the preStop hook read it.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::argv::{ArgvError, parse_argv};
use crate::check::Target;
use crate::duration::parse_duration;
use crate::supervisor::RestartMode;

const AFTER_HELP: &str = "\
Commands given to --start and --supervise are one value each: plain words split on whitespace \
(`/app/migrate --to v2`) or a JSON array of strings (`[\"/app/migrate\",\"--to\",\"v2 final\"]`). \
Nothing is interpolated: no shell, no variables, no globs. Lists in environment variables are \
one item a line (BERTH_INIT_START, BERTH_INIT_SUPERVISE) or comma-separated (BERTH_INIT_WAIT_FOR).

Durations are written 500ms, 5s, 2m, 1h or 1m30s.

Order: wait for every --wait-for target, run the --start programs one after the other, start the \
--supervise programs, then the main COMMAND. On SIGTERM: not-ready, wait --drain-delay, SIGTERM, \
wait until no established connection remains on the app's listening ports (then --drain-idle-grace), \
at most --drain-timeout, SIGKILL what remains, exit once every process is gone. SIGINT, SIGHUP, \
SIGQUIT, SIGUSR1, SIGUSR2 and SIGWINCH are forwarded to the main process.

Exit status: the main process's exit code, or 128+N when a signal N killed it; a failed start \
program's code; 1 when a --wait-for target timed out; 2 for bad flags; 126/127 when a command \
cannot be run or is not found.

Examples:
  berth-init -- /app/server --port 8080
  berth-init --wait-for tcp://db:5432 --start /app/migrate --drain-delay 5s --http-listen 9102 -- /app/server
  berth-init prestop --drain-delay 5s --drain-timeout 20s";

/// berth-init: a PID 1 for containers that reaps, supervises and drains without losing a request.
#[derive(Debug, Parser)]
#[command(
    name = "berth-init",
    version,
    about = "A PID 1 for containers: reaps orphans, forwards signals, runs start programs, supervises with a restart limit, and drains connections before exit.",
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    disable_help_subcommand = true,
    override_usage = "berth-init [OPTIONS] [--] COMMAND [ARGS]...\n       berth-init prestop [OPTIONS]",
    max_term_width = 100
)]
pub struct Cli {
    /// A mode other than running as init.
    #[command(subcommand)]
    pub mode: Option<Mode>,
    /// Settings for running as init.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Modes other than running as init.
#[derive(Debug, Subcommand)]
pub enum Mode {
    /// Wait like the drain does, for a Kubernetes preStop hook when berth-init is not PID 1:
    /// remove the readiness file, wait --drain-delay, then until no established connection
    /// remains on the listening ports (at most --drain-timeout). Always exits 0.
    Prestop(PrestopArgs),
}

/// Running as init.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The main command and its arguments; put `--` before it.
    #[arg(value_name = "COMMAND", required = true, trailing_var_arg = true)]
    pub command: Vec<String>,

    /// A one-shot program to run before the main command; repeat for several, run in order.
    /// Each must exit 0, or berth-init stops with its exit code.
    #[arg(long = "start", value_name = "CMD", env = "BERTH_INIT_START", value_delimiter = '\n', value_parser = argv_value, help_heading = "Start")]
    pub start: Vec<Argv>,

    /// Wait until this accepts connections (tcp://host:port) or answers 200-399
    /// (http://host[:port]/path) before anything starts; repeat for several.
    #[arg(long = "wait-for", value_name = "URL", env = "BERTH_INIT_WAIT_FOR", value_delimiter = ',', value_parser = target_value, help_heading = "Start")]
    pub wait_for: Vec<Target>,

    /// The longest time to wait for all --wait-for targets together.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_WAIT_TIMEOUT", default_value = "60s", value_parser = duration_value, help_heading = "Start")]
    pub wait_timeout: Duration,

    /// An extra long-running program, started before the main command and restarted when it
    /// exits (within the restart limit); repeat for several.
    #[arg(long = "supervise", value_name = "CMD", env = "BERTH_INIT_SUPERVISE", value_delimiter = '\n', value_parser = argv_value, help_heading = "Supervision")]
    pub supervise: Vec<Argv>,

    /// When the main process is restarted: never (its exit ends the container), on-failure
    /// (non-zero code or killed by a signal) or always.
    #[arg(
        long,
        value_name = "WHEN",
        env = "BERTH_INIT_RESTART",
        default_value = "never",
        help_heading = "Supervision"
    )]
    pub restart: Restart,

    /// Restarts allowed within --restart-window; past it berth-init stays up, reports
    /// not-ready and stops restarting.
    #[arg(
        long,
        value_name = "N",
        env = "BERTH_INIT_RESTART_LIMIT",
        default_value_t = 5,
        help_heading = "Supervision"
    )]
    pub restart_limit: u32,

    /// The sliding window restarts are counted in.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_RESTART_WINDOW", default_value = "5m", value_parser = duration_value, help_heading = "Supervision")]
    pub restart_window: Duration,

    /// The delay before a restart, doubled for each restart still in the window.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_RESTART_BACKOFF", default_value = "1s", value_parser = duration_value, help_heading = "Supervision")]
    pub restart_backoff: Duration,

    /// The longest delay before a restart.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_RESTART_BACKOFF_MAX", default_value = "30s", value_parser = duration_value, help_heading = "Supervision")]
    pub restart_backoff_max: Duration,

    /// Where forwarded signals go: the main process, or its whole process group.
    #[arg(
        long,
        value_name = "TARGET",
        env = "BERTH_INIT_SIGNAL_TARGET",
        default_value = "process",
        help_heading = "Signals"
    )]
    pub signal_target: SignalTarget,

    /// On SIGTERM, how long to stay up not-ready before passing SIGTERM on, so load
    /// balancers forget the pod first.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_DRAIN_DELAY", default_value = "0s", value_parser = duration_value, help_heading = "Drain")]
    pub drain_delay: Duration,

    /// The longest time from SIGTERM to SIGKILL.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_DRAIN_TIMEOUT", default_value = "25s", value_parser = duration_value, help_heading = "Drain")]
    pub drain_timeout: Duration,

    #[command(flatten)]
    pub ports: DrainPortsArg,

    /// Once no established connection is left, how long processes still get to exit by
    /// themselves before SIGKILL.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_DRAIN_IDLE_GRACE", default_value = "2s", value_parser = duration_value, help_heading = "Drain")]
    pub drain_idle_grace: Duration,

    #[command(flatten)]
    pub readiness: ReadinessFileArg,

    /// Serve /healthz, /readyz and /metrics on this port or address (9102, 127.0.0.1:9102,
    /// [::]:9102); off when not given.
    #[arg(long, value_name = "[HOST:]PORT", env = "BERTH_INIT_HTTP_LISTEN", value_parser = listen_value, help_heading = "Endpoint")]
    pub http_listen: Option<SocketAddr>,

    /// Log only errors, not the start, restart and drain steps.
    #[arg(short, long, env = "BERTH_INIT_QUIET", help_heading = "Output")]
    pub quiet: bool,
}

/// The `prestop` mode.
#[derive(Debug, Args)]
pub struct PrestopArgs {
    /// How long to wait before watching connections, so load balancers forget the pod.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_DRAIN_DELAY", default_value = "0s", value_parser = duration_value)]
    pub drain_delay: Duration,

    /// The longest wait for connections after the delay.
    #[arg(long, value_name = "DURATION", env = "BERTH_INIT_DRAIN_TIMEOUT", default_value = "25s", value_parser = duration_value)]
    pub drain_timeout: Duration,

    #[command(flatten)]
    pub ports: DrainPortsArg,

    #[command(flatten)]
    pub readiness: ReadinessFileArg,

    /// Log nothing but errors.
    #[arg(short, long, env = "BERTH_INIT_QUIET")]
    pub quiet: bool,
}

/// `--drain-ports`, shared by both modes.
#[derive(Debug, Args)]
pub struct DrainPortsArg {
    /// Which listening ports' connections the drain waits for: auto (the ports berth-init's
    /// processes listen on; in prestop mode every listening port of the pod), none, or a
    /// comma-separated list such as 8080,8443.
    #[arg(long = "drain-ports", value_name = "PORTS", env = "BERTH_INIT_DRAIN_PORTS", default_value = "auto", value_parser = ports_value, help_heading = "Drain")]
    pub drain_ports: DrainPorts,
}

/// `--readiness-file`, shared by both modes.
#[derive(Debug, Args)]
pub struct ReadinessFileArg {
    /// A file that exists while the container is ready: berth-init creates it once the main
    /// command has started and removes it when a drain begins or the restart limit is reached;
    /// prestop removes it first thing.
    #[arg(
        long,
        value_name = "PATH",
        env = "BERTH_INIT_READINESS_FILE",
        help_heading = "Endpoint"
    )]
    pub readiness_file: Option<PathBuf>,
}

/// A command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argv(pub Vec<String>);

/// `--restart`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Restart {
    /// The main process exiting ends the container.
    Never,
    /// Restart after a non-zero exit or a death by signal.
    OnFailure,
    /// Restart after any exit.
    Always,
}

impl From<Restart> for RestartMode {
    fn from(r: Restart) -> Self {
        match r {
            Restart::Never => RestartMode::Never,
            Restart::OnFailure => RestartMode::OnFailure,
            Restart::Always => RestartMode::Always,
        }
    }
}

/// `--signal-target`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SignalTarget {
    /// Only the main process (tini's default).
    Process,
    /// The main process's process group (tini -g, dumb-init's default).
    Group,
}

/// `--drain-ports`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DrainPorts {
    /// The listening ports found at drain time.
    Auto,
    /// Do not watch connections.
    None,
    /// These ports.
    List(BTreeSet<u16>),
}

fn argv_value(text: &str) -> Result<Argv, ArgvError> {
    parse_argv(text).map(Argv)
}

fn target_value(text: &str) -> Result<Target, String> {
    Target::parse(text.trim()).map_err(|e| e.to_string())
}

fn duration_value(text: &str) -> Result<Duration, String> {
    parse_duration(text).map_err(|e| e.to_string())
}

fn ports_value(text: &str) -> Result<DrainPorts, String> {
    match text.trim() {
        "auto" => Ok(DrainPorts::Auto),
        "none" => Ok(DrainPorts::None),
        list => list
            .split(',')
            .map(|p| match p.trim().parse::<u16>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(format!(
                    "`{p}` is not a port; write auto, none, or ports like 8080,8443"
                )),
            })
            .collect::<Result<BTreeSet<u16>, String>>()
            .map(DrainPorts::List),
    }
}

fn listen_value(text: &str) -> Result<SocketAddr, String> {
    let text = text.trim();
    if let Ok(port) = text.parse::<u16>() {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), port));
    }
    text.parse::<SocketAddr>().map_err(|_| {
        format!("`{text}` is not a port or an address; write 9102, 127.0.0.1:9102 or [::]:9102")
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("berth-init").chain(args.iter().copied()))
    }

    #[test]
    fn the_clap_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn everything_after_the_double_dash_is_the_command_even_its_flags() {
        let cli = parse(&[
            "--drain-delay",
            "5s",
            "--",
            "/app/server",
            "--port",
            "8080",
            "--drain-delay",
            "x",
        ])
        .expect("parse");
        assert!(cli.mode.is_none());
        assert_eq!(
            cli.run.command,
            ["/app/server", "--port", "8080", "--drain-delay", "x"]
        );
        assert_eq!(cli.run.drain_delay, Duration::from_secs(5));
        // Without "--", the first word that is not a flag starts the command.
        let cli = parse(&["-q", "sleep", "-5"]).expect("parse");
        assert_eq!(cli.run.command, ["sleep", "-5"]);
    }

    #[test]
    fn repeated_and_json_commands_keep_their_order_and_spaces() {
        let cli = parse(&[
            "--start",
            "/bin/a 1",
            "--start",
            r#"["sh","-c","echo a b"]"#,
            "--supervise",
            "log-shipper",
            "--",
            "app",
        ])
        .expect("parse");
        assert_eq!(
            cli.run.start,
            [
                Argv(vec!["/bin/a".into(), "1".into()]),
                Argv(vec!["sh".into(), "-c".into(), "echo a b".into()])
            ]
        );
        assert_eq!(cli.run.supervise, [Argv(vec!["log-shipper".into()])]);
    }

    #[test]
    fn defaults_are_tini_like_without_restarts_or_delay() {
        let cli = parse(&["app"]).expect("parse");
        let r = &cli.run;
        assert_eq!(r.restart, Restart::Never);
        assert_eq!(r.signal_target, SignalTarget::Process);
        assert_eq!(r.drain_delay, Duration::ZERO);
        assert_eq!(r.drain_timeout, Duration::from_secs(25));
        assert_eq!(r.ports.drain_ports, DrainPorts::Auto);
        assert_eq!(r.http_listen, None);
    }

    #[test]
    fn ports_and_listen_addresses_accept_their_short_forms() {
        let cli = parse(&[
            "--drain-ports",
            "8080, 8443",
            "--http-listen",
            "9102",
            "app",
        ])
        .expect("parse");
        assert_eq!(
            cli.run.ports.drain_ports,
            DrainPorts::List(BTreeSet::from([8080, 8443]))
        );
        assert_eq!(
            cli.run.http_listen,
            Some("0.0.0.0:9102".parse().expect("addr"))
        );
        let cli =
            parse(&["--drain-ports", "none", "--http-listen", "[::1]:80", "app"]).expect("parse");
        assert_eq!(cli.run.ports.drain_ports, DrainPorts::None);
        assert_eq!(cli.run.http_listen, Some("[::1]:80".parse().expect("addr")));
    }

    #[test]
    fn prestop_is_a_mode_unless_it_follows_the_double_dash() {
        let cli =
            parse(&["prestop", "--drain-delay", "3s", "--drain-ports", "8080"]).expect("parse");
        let Some(Mode::Prestop(p)) = cli.mode else {
            panic!("expected prestop mode")
        };
        assert_eq!(p.drain_delay, Duration::from_secs(3));
        assert_eq!(
            p.ports.drain_ports,
            DrainPorts::List(BTreeSet::from([8080]))
        );
        let cli = parse(&["--", "prestop"]).expect("parse");
        assert!(cli.mode.is_none());
        assert_eq!(cli.run.command, ["prestop"]);
    }

    #[test]
    fn every_bad_flag_gets_an_error_naming_the_flag_and_the_fix() {
        struct Case {
            args: &'static [&'static str],
            says: &'static [&'static str],
        }
        let cases = [
            Case {
                args: &[],
                says: &["<COMMAND>"],
            },
            Case {
                args: &["--drain-delay", "5", "app"],
                says: &["--drain-delay", "`5` has no unit"],
            },
            Case {
                args: &["--drain-timeout", "5x", "app"],
                says: &["--drain-timeout", "unknown unit `x`"],
            },
            Case {
                args: &["--wait-for", "https://id/healthz", "app"],
                says: &["--wait-for", "no TLS"],
            },
            Case {
                args: &["--wait-for", "db:5432", "app"],
                says: &["--wait-for", "tcp://host:port"],
            },
            Case {
                args: &["--start", r#"["a""#, "app"],
                says: &["--start", "bad JSON array"],
            },
            Case {
                args: &["--supervise", "", "app"],
                says: &["--supervise", "empty command"],
            },
            Case {
                args: &["--restart", "sometimes", "app"],
                says: &["--restart", "on-failure"],
            },
            Case {
                args: &["--restart-limit=-1", "app"],
                says: &["--restart-limit", "-1 is not in"],
            },
            Case {
                args: &["--restart-limit", "lots", "app"],
                says: &["--restart-limit", "invalid digit"],
            },
            Case {
                args: &["--signal-target", "pgrp", "app"],
                says: &["--signal-target", "group"],
            },
            Case {
                args: &["--drain-ports", "80,http", "app"],
                says: &["--drain-ports", "`http` is not a port"],
            },
            Case {
                args: &["--http-listen", "localhost", "app"],
                says: &["--http-listen", "127.0.0.1:9102"],
            },
            Case {
                args: &["--drain-dely", "5s", "app"],
                says: &["similar argument exists: '--drain-delay'"],
            },
            Case {
                args: &["--no-such-flag", "app"],
                says: &["--no-such-flag"],
            },
            Case {
                args: &["prestop", "--drain-delay", "1"],
                says: &["--drain-delay", "has no unit"],
            },
        ];
        for c in cases {
            let err = parse(c.args)
                .expect_err(&format!("{:?} should fail", c.args))
                .to_string();
            for s in c.says {
                assert!(err.contains(s), "{:?}: {s:?} not in\n{err}", c.args);
            }
        }
    }
}
