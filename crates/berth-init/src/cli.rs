//! Flags and environment variables. Every flag has a `BERTH_INIT_*` variable so a renderer can
//! set the drain once in the container's env and both PID 1 and the preStop hook read it.
//!
//! Hand-written rather than derived with clap, for a small static binary that starts fast; the
//! flags, messages, exit codes and help are the ones clap gave (help as clap laid it out for
//! 100 columns, in `src/help/`).

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::argv::{ArgvError, parse_argv};
use crate::check::Target;
use crate::duration::parse_duration;
use crate::supervisor::RestartMode;

const RUN_HELP_SHORT: &str = include_str!("help/run-short.txt");
const RUN_HELP_LONG: &str = include_str!("help/run-long.txt");
/// `{bin}` stands for the program's file name, as clap wrote it.
const PRESTOP_HELP: &str = include_str!("help/prestop.txt");
const RUN_USAGE: &str =
    "berth-init [OPTIONS] [--] COMMAND [ARGS]...\n       berth-init prestop [OPTIONS]";
const VERSION: &str = concat!("berth-init ", env!("CARGO_PKG_VERSION"), "\n");

/// The parsed command line.
#[derive(Debug)]
pub struct Cli {
    /// A mode other than running as init.
    pub mode: Option<Mode>,
    /// Settings for running as init.
    pub run: RunArgs,
}

/// Modes other than running as init.
#[derive(Debug)]
pub enum Mode {
    /// Wait like the drain does, for a Kubernetes preStop hook when berth-init is not PID 1:
    /// remove the readiness file, wait --drain-delay, then until no established connection
    /// remains on the listening ports (at most --drain-timeout). Always exits 0.
    Prestop(PrestopArgs),
}

/// Running as init. Each field's help is in `src/help/run-long.txt`.
#[derive(Debug)]
pub struct RunArgs {
    /// The main command and its arguments.
    pub command: Vec<String>,
    /// `--start`: one-shot programs run in order before the main command.
    pub start: Vec<Argv>,
    /// `--wait-for`: targets to wait for before anything starts.
    pub wait_for: Vec<Target>,
    /// `--wait-timeout`.
    pub wait_timeout: Duration,
    /// `--supervise`: extra long-running programs.
    pub supervise: Vec<Argv>,
    /// `--restart`.
    pub restart: Restart,
    /// `--restart-limit`.
    pub restart_limit: u32,
    /// `--restart-window`.
    pub restart_window: Duration,
    /// `--restart-backoff`.
    pub restart_backoff: Duration,
    /// `--restart-backoff-max`.
    pub restart_backoff_max: Duration,
    /// `--signal-target`.
    pub signal_target: SignalTarget,
    /// `--drain-delay`.
    pub drain_delay: Duration,
    /// `--drain-timeout`.
    pub drain_timeout: Duration,
    /// `--drain-ports`.
    pub ports: DrainPortsArg,
    /// `--drain-idle-grace`.
    pub drain_idle_grace: Duration,
    /// `--readiness-file`.
    pub readiness: ReadinessFileArg,
    /// `--http-listen`.
    pub http_listen: Option<SocketAddr>,
    /// `--quiet`.
    pub quiet: bool,
}

/// The `prestop` mode. Each field's help is in `src/help/prestop.txt`.
#[derive(Debug)]
pub struct PrestopArgs {
    /// `--drain-delay`.
    pub drain_delay: Duration,
    /// `--drain-timeout`.
    pub drain_timeout: Duration,
    /// `--drain-ports`.
    pub ports: DrainPortsArg,
    /// `--readiness-file`.
    pub readiness: ReadinessFileArg,
    /// `--quiet`.
    pub quiet: bool,
}

/// `--drain-ports`, shared by both modes.
#[derive(Debug)]
pub struct DrainPortsArg {
    /// Which listening ports' connections the drain waits for.
    pub drain_ports: DrainPorts,
}

/// `--readiness-file`, shared by both modes.
#[derive(Debug)]
pub struct ReadinessFileArg {
    /// A file that exists while the container is ready.
    pub readiness_file: Option<PathBuf>,
}

/// A command and its arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Argv(pub Vec<String>);

/// `--restart`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Which setting a flag is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Key {
    Start,
    WaitFor,
    WaitTimeout,
    Supervise,
    Restart,
    RestartLimit,
    RestartWindow,
    RestartBackoff,
    RestartBackoffMax,
    SignalTarget,
    DrainDelay,
    DrainTimeout,
    DrainPorts,
    DrainIdleGrace,
    ReadinessFile,
    HttpListen,
    Quiet,
    Help,
    Version,
}

/// One flag as the parser knows it.
struct Opt {
    key: Key,
    long: &'static str,
    short: Option<char>,
    /// The value's name in messages; `None` for a switch.
    value: Option<&'static str>,
    env: Option<&'static str>,
    default: Option<&'static str>,
    /// Repeatable, each value split on this.
    list: Option<char>,
}

const fn opt(key: Key, long: &'static str, value: &'static str, env: &'static str) -> Opt {
    Opt {
        key,
        long,
        short: None,
        value: Some(value),
        env: Some(env),
        default: None,
        list: None,
    }
}

const fn with_default(o: Opt, default: &'static str) -> Opt {
    Opt {
        default: Some(default),
        ..o
    }
}

const fn list(o: Opt, delimiter: char) -> Opt {
    Opt {
        list: Some(delimiter),
        ..o
    }
}

const fn switch(key: Key, short: char, long: &'static str, env: Option<&'static str>) -> Opt {
    Opt {
        key,
        long,
        short: Some(short),
        value: None,
        env,
        default: None,
        list: None,
    }
}

use Key as K;

const DRAIN_DELAY: Opt = with_default(
    opt(
        K::DrainDelay,
        "drain-delay",
        "DURATION",
        "BERTH_INIT_DRAIN_DELAY",
    ),
    "0s",
);
const DRAIN_TIMEOUT: Opt = with_default(
    opt(
        K::DrainTimeout,
        "drain-timeout",
        "DURATION",
        "BERTH_INIT_DRAIN_TIMEOUT",
    ),
    "25s",
);
const DRAIN_PORTS: Opt = with_default(
    opt(
        K::DrainPorts,
        "drain-ports",
        "PORTS",
        "BERTH_INIT_DRAIN_PORTS",
    ),
    "auto",
);
const READINESS_FILE: Opt = opt(
    K::ReadinessFile,
    "readiness-file",
    "PATH",
    "BERTH_INIT_READINESS_FILE",
);
const QUIET: Opt = switch(K::Quiet, 'q', "quiet", Some("BERTH_INIT_QUIET"));
const HELP: Opt = switch(K::Help, 'h', "help", None);

/// In clap's order: environment variables are read in it, and it breaks ties between
/// suggestions.
const RUN_OPTS: &[Opt] = &[
    list(opt(K::Start, "start", "CMD", "BERTH_INIT_START"), '\n'),
    list(
        opt(K::WaitFor, "wait-for", "URL", "BERTH_INIT_WAIT_FOR"),
        ',',
    ),
    with_default(
        opt(
            K::WaitTimeout,
            "wait-timeout",
            "DURATION",
            "BERTH_INIT_WAIT_TIMEOUT",
        ),
        "60s",
    ),
    list(
        opt(K::Supervise, "supervise", "CMD", "BERTH_INIT_SUPERVISE"),
        '\n',
    ),
    with_default(
        opt(K::Restart, "restart", "WHEN", "BERTH_INIT_RESTART"),
        "never",
    ),
    with_default(
        opt(
            K::RestartLimit,
            "restart-limit",
            "N",
            "BERTH_INIT_RESTART_LIMIT",
        ),
        "5",
    ),
    with_default(
        opt(
            K::RestartWindow,
            "restart-window",
            "DURATION",
            "BERTH_INIT_RESTART_WINDOW",
        ),
        "5m",
    ),
    with_default(
        opt(
            K::RestartBackoff,
            "restart-backoff",
            "DURATION",
            "BERTH_INIT_RESTART_BACKOFF",
        ),
        "1s",
    ),
    with_default(
        opt(
            K::RestartBackoffMax,
            "restart-backoff-max",
            "DURATION",
            "BERTH_INIT_RESTART_BACKOFF_MAX",
        ),
        "30s",
    ),
    with_default(
        opt(
            K::SignalTarget,
            "signal-target",
            "TARGET",
            "BERTH_INIT_SIGNAL_TARGET",
        ),
        "process",
    ),
    DRAIN_DELAY,
    DRAIN_TIMEOUT,
    DRAIN_PORTS,
    with_default(
        opt(
            K::DrainIdleGrace,
            "drain-idle-grace",
            "DURATION",
            "BERTH_INIT_DRAIN_IDLE_GRACE",
        ),
        "2s",
    ),
    READINESS_FILE,
    opt(
        K::HttpListen,
        "http-listen",
        "[HOST:]PORT",
        "BERTH_INIT_HTTP_LISTEN",
    ),
    QUIET,
    HELP,
    switch(K::Version, 'V', "version", None),
];

const PRESTOP_OPTS: &[Opt] = &[
    DRAIN_DELAY,
    DRAIN_TIMEOUT,
    DRAIN_PORTS,
    READINESS_FILE,
    QUIET,
    HELP,
];

const RESTART_VALUES: &[&str] = &["never", "on-failure", "always"];
const SIGNAL_TARGET_VALUES: &[&str] = &["process", "group"];
const BOOL_VALUES: &[&str] = &["true", "false"];

/// What parsing ends with instead of a [`Cli`]: help or the version (exit 0, on stdout) or an
/// error (exit 2, on stderr), with clap's wording.
#[derive(Debug)]
pub struct CliExit {
    text: String,
    /// The exit code: 0 for help and the version, 2 for bad flags.
    pub code: i32,
}

impl fmt::Display for CliExit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl CliExit {
    /// Prints the text where it belongs and exits.
    fn exit(self) -> ! {
        use std::io::Write;
        if self.code == 0 {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(self.text.as_bytes());
            let _ = out.flush();
        } else {
            let _ = std::io::stderr().write_all(self.text.as_bytes());
        }
        std::process::exit(self.code)
    }
}

/// Why a value was refused.
enum Bad {
    /// The value parser's own reason.
    Reason(String),
    /// Not one of these values.
    NotOneOf(&'static [&'static str]),
    /// Empty where a value is needed.
    Empty,
}

/// Flags and values seen so far, in one mode.
struct Parser<'a> {
    opts: &'static [Opt],
    /// `Usage: ...` for messages that show it; prestop's is followed by the flags it names.
    usage: String,
    /// Whether the mode takes a COMMAND (clap's hint to pass a flag-like word after `--`).
    takes_command: bool,
    /// The program's file name, for prestop's help.
    bin: String,
    seen: Vec<Key>,
    values: Values,
    env: &'a dyn Fn(&str) -> Option<OsString>,
}

#[derive(Default)]
struct Values {
    command: Vec<String>,
    start: Vec<Argv>,
    wait_for: Vec<Target>,
    wait_timeout: Duration,
    supervise: Vec<Argv>,
    restart: Option<Restart>,
    restart_limit: u32,
    restart_window: Duration,
    restart_backoff: Duration,
    restart_backoff_max: Duration,
    signal_target: Option<SignalTarget>,
    drain_delay: Duration,
    drain_timeout: Duration,
    drain_ports: Option<DrainPorts>,
    drain_idle_grace: Duration,
    readiness_file: Option<PathBuf>,
    http_listen: Option<SocketAddr>,
    quiet: bool,
}

impl Cli {
    /// Reads the process's arguments and environment; prints help, the version or an error
    /// and exits when that is what they ask for or hold.
    pub fn parse() -> Cli {
        Cli::try_parse_from(std::env::args_os(), &|name| std::env::var_os(name))
            .unwrap_or_else(|e| e.exit())
    }

    /// Parses `args` (the program's name first) with `env` for `BERTH_INIT_*` variables.
    pub fn try_parse_from(
        args: impl IntoIterator<Item = impl Into<OsString>>,
        env: &dyn Fn(&str) -> Option<OsString>,
    ) -> Result<Cli, CliExit> {
        let mut args = args.into_iter().map(Into::into);
        let bin = args
            .next()
            .map(PathBuf::from)
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_else(|| "berth-init".to_string());
        let mut args = args.peekable();
        let prestop = args.peek().is_some_and(|a| a == "prestop");
        let mut parser = if prestop {
            args.next();
            Parser::new(PRESTOP_OPTS, format!("{bin} prestop"), false, bin, env)
        } else {
            Parser::new(RUN_OPTS, RUN_USAGE.to_string(), true, bin, env)
        };
        let words = args
            .map(|a| a.into_string())
            .collect::<Result<Vec<String>, _>>()
            .map_err(|_| {
                parser.usage_error("invalid UTF-8 was detected in one or more arguments")
            })?;
        parser.parse(&words, prestop)?;
        parser.finish()?;
        if prestop {
            // clap read the run flags' variables in prestop mode too, and refused bad ones.
            let mut run = Parser::new(RUN_OPTS, String::new(), false, String::new(), env);
            run.finish()?;
        }
        let v = parser.values;
        let ports = DrainPortsArg {
            drain_ports: v.drain_ports.unwrap_or(DrainPorts::Auto),
        };
        let readiness = ReadinessFileArg {
            readiness_file: v.readiness_file,
        };
        if prestop {
            return Ok(Cli {
                mode: Some(Mode::Prestop(PrestopArgs {
                    drain_delay: v.drain_delay,
                    drain_timeout: v.drain_timeout,
                    ports,
                    readiness,
                    quiet: v.quiet,
                })),
                run: RunArgs::default_for_prestop(),
            });
        }
        Ok(Cli {
            mode: None,
            run: RunArgs {
                command: v.command,
                start: v.start,
                wait_for: v.wait_for,
                wait_timeout: v.wait_timeout,
                supervise: v.supervise,
                restart: v.restart.unwrap_or(Restart::Never),
                restart_limit: v.restart_limit,
                restart_window: v.restart_window,
                restart_backoff: v.restart_backoff,
                restart_backoff_max: v.restart_backoff_max,
                signal_target: v.signal_target.unwrap_or(SignalTarget::Process),
                drain_delay: v.drain_delay,
                drain_timeout: v.drain_timeout,
                ports,
                drain_idle_grace: v.drain_idle_grace,
                readiness,
                http_listen: v.http_listen,
                quiet: v.quiet,
            },
        })
    }
}

impl RunArgs {
    /// Unused in prestop mode; filled so [`Cli`] keeps one shape.
    fn default_for_prestop() -> RunArgs {
        RunArgs {
            command: Vec::new(),
            start: Vec::new(),
            wait_for: Vec::new(),
            wait_timeout: Duration::ZERO,
            supervise: Vec::new(),
            restart: Restart::Never,
            restart_limit: 0,
            restart_window: Duration::ZERO,
            restart_backoff: Duration::ZERO,
            restart_backoff_max: Duration::ZERO,
            signal_target: SignalTarget::Process,
            drain_delay: Duration::ZERO,
            drain_timeout: Duration::ZERO,
            ports: DrainPortsArg {
                drain_ports: DrainPorts::Auto,
            },
            drain_idle_grace: Duration::ZERO,
            readiness: ReadinessFileArg {
                readiness_file: None,
            },
            http_listen: None,
            quiet: false,
        }
    }
}

impl<'a> Parser<'a> {
    fn new(
        opts: &'static [Opt],
        usage: String,
        takes_command: bool,
        bin: String,
        env: &'a dyn Fn(&str) -> Option<OsString>,
    ) -> Parser<'a> {
        Parser {
            opts,
            usage,
            takes_command,
            bin,
            seen: Vec::new(),
            values: Values::default(),
            env,
        }
    }

    /// The command line, in clap's order: a flag's value is checked when the next word comes,
    /// help and the version answer at once, the first word that is not a flag (or everything
    /// after `--`) is the command.
    fn parse(&mut self, words: &[String], prestop: bool) -> Result<(), CliExit> {
        // A flag still waiting for its value.
        let mut pending: Option<&'static Opt> = None;
        let mut i = 0;
        while i < words.len() {
            let word = &words[i];
            i += 1;
            if word == "--" {
                if !self.takes_command {
                    // Everything after it is a positional word, and prestop takes none.
                    if let Some(extra) = words.get(i) {
                        return Err(self.unknown(extra, None));
                    }
                }
                self.values.command.extend(words[i..].iter().cloned());
                i = words.len();
                continue;
            }
            if let Some(long) = word.strip_prefix("--") {
                let (name, inline) = match long.split_once('=') {
                    Some((n, v)) => (n, Some(v)),
                    None => (long, None),
                };
                let Some(o) = self.opts.iter().find(|o| o.long == name) else {
                    let similar = did_you_mean(name, self.opts.iter().map(|o| o.long));
                    return Err(self.unknown(&format!("--{name}"), similar));
                };
                if let Some(p) = pending.take() {
                    return Err(self.missing_value(p));
                }
                pending = self.start(o, inline, true, prestop)?;
                continue;
            }
            if let Some(shorts) = word.strip_prefix('-')
                && !shorts.is_empty()
            {
                for (at, c) in shorts.char_indices() {
                    let Some(o) = self.opts.iter().find(|o| o.short == Some(c)) else {
                        let rest = &shorts[at..];
                        let shown = match rest.chars().next() {
                            Some(first) => format!("-{first}"),
                            None => format!("-{rest}"),
                        };
                        return Err(self.unknown(&shown, None));
                    };
                    if let Some(p) = pending.take() {
                        return Err(self.missing_value(p));
                    }
                    // Only switches have short names.
                    self.start(o, None, false, prestop)?;
                }
                continue;
            }
            if let Some(p) = pending.take() {
                self.take(p, word)?;
                continue;
            }
            if !self.takes_command {
                return Err(self.unknown(word, None));
            }
            // The command: this word and every one after it.
            self.values.command.extend(words[i - 1..].iter().cloned());
            i = words.len();
        }
        if let Some(p) = pending {
            return Err(self.missing_value(p));
        }
        Ok(())
    }

    /// A flag was given: a switch takes effect, an option returns itself to wait for its
    /// value unless it came with `=value`. `long` is whether the flag was spelt out (`--help`
    /// shows the long help, `-h` the summary).
    fn start(
        &mut self,
        o: &'static Opt,
        inline: Option<&str>,
        long: bool,
        prestop: bool,
    ) -> Result<Option<&'static Opt>, CliExit> {
        if o.value.is_none()
            && let Some(v) = inline
        {
            return Err(self.usage_error_naming(
                &format!(
                    "unexpected value '{v}' for '--{}' found; no more were expected",
                    o.long
                ),
                &[o.key],
            ));
        }
        if o.key == K::Help {
            let mut text = match (prestop, long) {
                (true, _) => PRESTOP_HELP.replace("{bin}", &self.bin),
                (false, true) => RUN_HELP_LONG.to_string(),
                (false, false) => RUN_HELP_SHORT.to_string(),
            };
            // Like clap, show the variables' current values.
            for name in self.opts.iter().filter_map(|o| o.env) {
                if let Some(value) = (self.env)(name) {
                    let value = value.to_string_lossy();
                    text = text.replace(
                        &format!("[env: {name}=]"),
                        &format!("[env: {name}={value}]"),
                    );
                }
            }
            return Err(CliExit { text, code: 0 });
        }
        if o.key == K::Version {
            return Err(CliExit {
                text: VERSION.to_string(),
                code: 0,
            });
        }
        if self.seen.contains(&o.key) && o.list.is_none() {
            return Err(self.usage_error(&format!(
                "the argument '{}' cannot be used multiple times",
                display(o)
            )));
        }
        self.seen.push(o.key);
        if o.value.is_none() {
            self.values.quiet = true;
            return Ok(None);
        }
        match inline {
            Some(v) => self.take(o, v).map(|()| None),
            None => Ok(Some(o)),
        }
    }

    /// After the command line: environment variables for flags not given, then defaults,
    /// then the required COMMAND.
    fn finish(&mut self) -> Result<(), CliExit> {
        for o in self.opts {
            if self.seen.contains(&o.key) {
                continue;
            }
            let Some(name) = o.env else { continue };
            if let Some(value) = (self.env)(name) {
                // clap reads variables as Unicode; a value that is not is refused.
                let value = value.to_string_lossy().into_owned();
                if o.value.is_none() {
                    match value.as_str() {
                        "true" => self.values.quiet = true,
                        "false" => {}
                        "" => return Err(self.missing_value(o)),
                        _ => return Err(self.invalid(o, &value, Bad::NotOneOf(BOOL_VALUES))),
                    }
                } else {
                    self.take(o, &value)?;
                }
                self.seen.push(o.key);
            }
        }
        for o in self.opts {
            if let Some(default) = o.default
                && !self.seen.contains(&o.key)
            {
                self.take(o, default)?;
            }
        }
        if self.takes_command && self.values.command.is_empty() {
            return Err(self.usage_error(
                "the following required arguments were not provided:\n  <COMMAND>...",
            ));
        }
        Ok(())
    }

    /// Checks and keeps one flag's value (for lists: several, split on the delimiter).
    fn take(&mut self, o: &'static Opt, text: &str) -> Result<(), CliExit> {
        let parts: Vec<&str> = match o.list {
            Some(d) => text.split(d).collect(),
            None => vec![text],
        };
        for part in parts {
            self.take_one(o.key, part).map_err(|bad| match bad {
                Bad::NotOneOf(_) | Bad::Empty if part.is_empty() => self.missing_value(o),
                bad => self.invalid(o, part, bad),
            })?;
        }
        Ok(())
    }

    fn take_one(&mut self, key: Key, text: &str) -> Result<(), Bad> {
        let v = &mut self.values;
        let reason = |e: String| Bad::Reason(e);
        match key {
            K::Start => v
                .start
                .push(argv_value(text).map_err(|e| reason(e.to_string()))?),
            K::Supervise => v
                .supervise
                .push(argv_value(text).map_err(|e| reason(e.to_string()))?),
            K::WaitFor => v.wait_for.push(target_value(text).map_err(reason)?),
            K::WaitTimeout => v.wait_timeout = duration_value(text).map_err(reason)?,
            K::Restart => {
                v.restart = Some(match text {
                    "never" => Restart::Never,
                    "on-failure" => Restart::OnFailure,
                    "always" => Restart::Always,
                    _ => return Err(Bad::NotOneOf(RESTART_VALUES)),
                })
            }
            K::RestartLimit => v.restart_limit = u32_value(text).map_err(reason)?,
            K::RestartWindow => v.restart_window = duration_value(text).map_err(reason)?,
            K::RestartBackoff => v.restart_backoff = duration_value(text).map_err(reason)?,
            K::RestartBackoffMax => v.restart_backoff_max = duration_value(text).map_err(reason)?,
            K::SignalTarget => {
                v.signal_target = Some(match text {
                    "process" => SignalTarget::Process,
                    "group" => SignalTarget::Group,
                    _ => return Err(Bad::NotOneOf(SIGNAL_TARGET_VALUES)),
                })
            }
            K::DrainDelay => v.drain_delay = duration_value(text).map_err(reason)?,
            K::DrainTimeout => v.drain_timeout = duration_value(text).map_err(reason)?,
            K::DrainPorts => v.drain_ports = Some(ports_value(text).map_err(reason)?),
            K::DrainIdleGrace => v.drain_idle_grace = duration_value(text).map_err(reason)?,
            K::ReadinessFile if text.is_empty() => return Err(Bad::Empty),
            K::ReadinessFile => v.readiness_file = Some(PathBuf::from(text)),
            K::HttpListen => v.http_listen = Some(listen_value(text).map_err(reason)?),
            K::Quiet | K::Help | K::Version => {}
        }
        Ok(())
    }

    // === messages, worded as clap worded them ===

    /// An error followed by the usage.
    fn usage_error(&self, what: &str) -> CliExit {
        self.usage_error_naming(what, &[])
    }

    /// An error followed by the usage; prestop's names `flags` (clap's "used" flags) or
    /// `[OPTIONS]`.
    fn usage_error_naming(&self, what: &str, flags: &[Key]) -> CliExit {
        error(format!(
            "error: {what}\n\nUsage: {}\n\nFor more information, try '--help'.\n",
            self.usage_line(flags)
        ))
    }

    fn usage_line(&self, flags: &[Key]) -> String {
        if self.takes_command {
            return self.usage.clone();
        }
        let named: Vec<String> = flags
            .iter()
            .filter_map(|k| self.opts.iter().find(|o| o.key == *k))
            .map(display)
            .collect();
        if named.is_empty() {
            format!("{} [OPTIONS]", self.usage)
        } else {
            format!("{} {}", self.usage, named.join(" "))
        }
    }

    fn unknown(&self, arg: &str, similar: Option<&str>) -> CliExit {
        // clap's usage here names the flags given so far and the suggested one.
        let mut used = if arg.starts_with("--") {
            self.seen.clone()
        } else {
            Vec::new()
        };
        if let Some(o) = similar.and_then(|s| self.opts.iter().find(|o| o.long == s))
            && !used.contains(&o.key)
        {
            used.push(o.key);
        }
        let mut tips = String::new();
        if let Some(s) = similar {
            tips.push_str(&format!("  tip: a similar argument exists: '--{s}'\n"));
        }
        if self.takes_command && arg.starts_with('-') {
            tips.push_str(&format!(
                "  tip: to pass '{arg}' as a value, use '-- {arg}'\n"
            ));
        }
        if !tips.is_empty() {
            tips.insert(0, '\n');
        }
        error(format!(
            "error: unexpected argument '{arg}' found\n{tips}\nUsage: {}\n\nFor more information, try '--help'.\n",
            self.usage_line(&used)
        ))
    }

    fn missing_value(&self, o: &Opt) -> CliExit {
        let possible = possible_values(o.key)
            .map(|p| format!("  [possible values: {}]\n", p.join(", ")))
            .unwrap_or_default();
        error(format!(
            "error: a value is required for '{}' but none was supplied\n{possible}\nFor more information, try '--help'.\n",
            display(o)
        ))
    }

    fn invalid(&self, o: &Opt, value: &str, bad: Bad) -> CliExit {
        let text = match bad {
            Bad::Empty => return self.missing_value(o),
            Bad::Reason(why) => format!(
                "error: invalid value '{value}' for '{}': {why}\n\nFor more information, try '--help'.\n",
                display(o)
            ),
            Bad::NotOneOf(values) => {
                let tip = did_you_mean(value, values.iter().copied())
                    .map(|s| format!("\n  tip: a similar value exists: '{s}'\n"))
                    .unwrap_or_default();
                format!(
                    "error: invalid value '{value}' for '{}'\n  [possible values: {}]\n{tip}\nFor more information, try '--help'.\n",
                    display(o),
                    values.join(", ")
                )
            }
        };
        error(text)
    }
}

fn error(text: String) -> CliExit {
    CliExit { text, code: 2 }
}

/// `--name <VALUE>`, or `--name` for a switch.
fn display(o: &Opt) -> String {
    match o.value {
        Some(v) => format!("--{} <{v}>", o.long),
        None => format!("--{}", o.long),
    }
}

fn possible_values(key: Key) -> Option<&'static [&'static str]> {
    match key {
        K::Restart => Some(RESTART_VALUES),
        K::SignalTarget => Some(SIGNAL_TARGET_VALUES),
        K::Quiet => Some(BOOL_VALUES),
        _ => None,
    }
}

/// The most similar candidate, as clap picks it: Jaro similarity above 0.7, the highest
/// winning and, between equals, the last.
fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let mut best: Option<(f64, &str)> = None;
    for c in candidates {
        let score = strsim::jaro(word, c);
        if score > 0.7 && best.is_none_or(|(b, _)| score >= b) {
            best = Some((score, c));
        }
    }
    best.map(|(_, c)| c)
}

/// clap's `u32` parser: a whole number (sign allowed), then the range.
fn u32_value(text: &str) -> Result<u32, String> {
    let n: i64 = text
        .parse()
        .map_err(|e: std::num::ParseIntError| e.to_string())?;
    u32::try_from(n).map_err(|_| format!("{n} is not in 0..={}", u32::MAX))
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

    fn parse(args: &[&str]) -> Result<Cli, CliExit> {
        parse_env(args, &[])
    }

    fn parse_env(args: &[&str], env: &[(&str, &str)]) -> Result<Cli, CliExit> {
        let env: Vec<(String, String)> = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cli::try_parse_from(
            std::iter::once("berth-init").chain(args.iter().copied()),
            &move |name| {
                env.iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| OsString::from(v))
            },
        )
    }

    #[test]
    fn the_help_shows_every_flag_with_its_variable_and_default() {
        for (opts, helps) in [
            (RUN_OPTS, &[RUN_HELP_SHORT, RUN_HELP_LONG][..]),
            (PRESTOP_OPTS, &[PRESTOP_HELP][..]),
        ] {
            for help in helps {
                // Short help wraps lines anywhere: compare with whitespace runs as one space.
                let help = help.split_whitespace().collect::<Vec<_>>().join(" ");
                for o in opts {
                    assert!(help.contains(&display(o)), "{} not in help", display(o));
                    if let Some(c) = o.short {
                        assert!(help.contains(&format!("-{c}, --{}", o.long)));
                    }
                    if let Some(env) = o.env {
                        assert!(help.contains(&format!("[env: {env}=")), "{env}");
                    }
                    if let Some(d) = o.default {
                        assert!(help.contains(&format!("[default: {d}]")), "{d}");
                    }
                }
            }
        }
    }

    #[test]
    fn help_and_version_exit_0_and_errors_exit_2() {
        let exit = |args: &[&str]| parse(args).expect_err("no Cli");
        let long = exit(&["--help"]);
        assert_eq!((long.code, long.text.as_str()), (0, RUN_HELP_LONG));
        assert_eq!(exit(&["-qh"]).text, RUN_HELP_SHORT);
        assert_eq!(exit(&["-V", "app"]).text, "berth-init 0.1.0\n");
        let prestop = exit(&["prestop", "--help"]).text;
        assert!(prestop.contains("Usage: berth-init prestop [OPTIONS]\n"));
        // A flag's missing value is reported before help is shown.
        assert_eq!(exit(&["--drain-delay", "-h"]).code, 2);
        assert_eq!(exit(&["--bogus"]).code, 2);
    }

    #[test]
    fn environment_variables_fill_in_flags_not_given() {
        let cli = parse_env(
            &["--drain-delay", "1s", "app"],
            &[
                ("BERTH_INIT_DRAIN_DELAY", "not even a duration"),
                ("BERTH_INIT_WAIT_FOR", "tcp://a:1,tcp://b:2"),
                ("BERTH_INIT_START", "a 1\nb"),
                ("BERTH_INIT_QUIET", "true"),
                ("BERTH_INIT_RESTART", "on-failure"),
            ],
        )
        .expect("parse");
        let r = cli.run;
        assert_eq!(r.drain_delay, Duration::from_secs(1));
        assert_eq!(r.wait_for.len(), 2);
        assert_eq!(r.start.len(), 2);
        assert!(r.quiet);
        assert_eq!(r.restart, Restart::OnFailure);
        let err = parse_env(&["app"], &[("BERTH_INIT_QUIET", "1")]).expect_err("bad bool");
        assert!(err.text.contains("[possible values: true, false]"), "{err}");
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
