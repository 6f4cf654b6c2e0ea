//! Restart-or-give-up decisions for a supervised process, given when it exited and how it
//! exited. Pure: time comes in as a [`Duration`] since berth-init started.
//!
//! The rule is the seed's restart cap without the host churn of container restarts: a crashed
//! process is restarted after an exponential backoff (`backoff`, doubled for every restart
//! still inside the window, capped at `backoff_max`); once `limit` restarts fall inside the
//! sliding `window`, it is not restarted again and berth-init reports not-ready instead.

use std::collections::VecDeque;
use std::time::Duration;

/// How a process ended, as waitpid reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `exit(code)`.
    Code(i32),
    /// Killed by this signal number.
    Signal(i32),
}

impl Exit {
    /// The exit code a shell (and tini) reports: the code itself, or 128 + the signal number.
    pub fn code(self) -> i32 {
        match self {
            Exit::Code(c) => c,
            Exit::Signal(n) => 128 + n,
        }
    }

    /// True for `exit(0)`.
    pub fn success(self) -> bool {
        self == Exit::Code(0)
    }
}

impl std::fmt::Display for Exit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Exit::Code(c) => write!(f, "exited with code {c}"),
            Exit::Signal(n) => write!(f, "was killed by signal {n} ({})", signal_name(*n)),
        }
    }
}

/// The usual name of a signal number, for messages.
pub fn signal_name(n: i32) -> &'static str {
    match n {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        10 => "SIGUSR1",
        11 => "SIGSEGV",
        12 => "SIGUSR2",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => "signal",
    }
}

/// Which exits lead to a restart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RestartMode {
    /// Never restart; the process ending ends the container (tini's behaviour).
    Never,
    /// Restart after a non-zero exit code or a death by signal; `exit(0)` ends the container.
    OnFailure,
    /// Restart after any exit.
    Always,
}

/// The restart settings of one supervised process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestartPolicy {
    /// Which exits are restarted.
    pub mode: RestartMode,
    /// Restarts allowed inside `window`; one more exit than that gives up.
    pub limit: u32,
    /// The sliding window restarts are counted in.
    pub window: Duration,
    /// The delay before the first restart in a window.
    pub backoff: Duration,
    /// The longest delay, however many restarts came before.
    pub backoff_max: Duration,
}

/// What to do after a supervised process exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Start it again at this time.
    Restart {
        /// When to start it (since berth-init started).
        at: Duration,
        /// Restarts inside the window, this one included.
        attempt: u32,
    },
    /// The restart limit is reached: do not start it again; report not-ready.
    GiveUp {
        /// Restarts that were inside the window.
        restarts: u32,
    },
    /// The policy does not restart this exit: it is the end of the process.
    Stop,
}

/// Remembers the restarts of one process and decides about the next exit.
#[derive(Debug, Clone)]
pub struct Supervisor {
    policy: RestartPolicy,
    /// When each restart inside the window was decided, oldest first.
    restarts: VecDeque<Duration>,
    total: u64,
    given_up: bool,
}

impl Supervisor {
    /// A supervisor that has not restarted anything yet.
    pub fn new(policy: RestartPolicy) -> Self {
        Supervisor {
            policy,
            restarts: VecDeque::new(),
            total: 0,
            given_up: false,
        }
    }

    /// Restarts decided since berth-init started.
    pub fn total_restarts(&self) -> u64 {
        self.total
    }

    /// True once the limit was reached; it stays so.
    pub fn given_up(&self) -> bool {
        self.given_up
    }

    /// Decides about an exit that happened at `now`.
    pub fn on_exit(&mut self, now: Duration, exit: Exit) -> Verdict {
        if self.given_up {
            return Verdict::GiveUp {
                restarts: self.restarts.len() as u32,
            };
        }
        let restart = match self.policy.mode {
            RestartMode::Never => false,
            RestartMode::OnFailure => !exit.success(),
            RestartMode::Always => true,
        };
        if !restart {
            return Verdict::Stop;
        }
        // Forget restarts that slid out of the window: (now - window, now] counts.
        while let Some(&t) = self.restarts.front() {
            if now.saturating_sub(t) >= self.policy.window {
                self.restarts.pop_front();
            } else {
                break;
            }
        }
        let in_window = self.restarts.len() as u32;
        if in_window >= self.policy.limit {
            self.given_up = true;
            return Verdict::GiveUp {
                restarts: in_window,
            };
        }
        let delay = backoff(self.policy.backoff, self.policy.backoff_max, in_window);
        self.restarts.push_back(now);
        self.total += 1;
        Verdict::Restart {
            at: now + delay,
            attempt: in_window + 1,
        }
    }
}

/// `base * 2^previous`, capped at `max` (and never overflowing).
pub fn backoff(base: Duration, max: Duration, previous: u32) -> Duration {
    let factor = 1u32.checked_shl(previous.min(31)).unwrap_or(u32::MAX);
    base.checked_mul(factor).unwrap_or(max).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn policy(mode: RestartMode) -> RestartPolicy {
        RestartPolicy {
            mode,
            limit: 3,
            window: S(60),
            backoff: S(1),
            backoff_max: S(3),
        }
    }

    #[test]
    fn exit_codes_follow_the_shell_convention_of_128_plus_the_signal() {
        let cases = [
            (Exit::Code(0), 0),
            (Exit::Code(3), 3),
            (Exit::Signal(15), 143),
            (Exit::Signal(9), 137),
            (Exit::Signal(2), 130),
        ];
        for (exit, want) in cases {
            assert_eq!(exit.code(), want, "{exit:?}");
        }
    }

    #[test]
    fn the_restart_mode_decides_which_exits_are_restarted() {
        struct Case {
            name: &'static str,
            mode: RestartMode,
            exit: Exit,
            restarted: bool,
        }
        let cases = [
            Case {
                name: "never, crash",
                mode: RestartMode::Never,
                exit: Exit::Code(1),
                restarted: false,
            },
            Case {
                name: "on-failure, clean exit",
                mode: RestartMode::OnFailure,
                exit: Exit::Code(0),
                restarted: false,
            },
            Case {
                name: "on-failure, exit 1",
                mode: RestartMode::OnFailure,
                exit: Exit::Code(1),
                restarted: true,
            },
            Case {
                name: "on-failure, SIGSEGV",
                mode: RestartMode::OnFailure,
                exit: Exit::Signal(11),
                restarted: true,
            },
            Case {
                name: "always, clean exit",
                mode: RestartMode::Always,
                exit: Exit::Code(0),
                restarted: true,
            },
        ];
        for c in cases {
            let verdict = Supervisor::new(policy(c.mode)).on_exit(S(10), c.exit);
            assert_eq!(
                matches!(verdict, Verdict::Restart { .. }),
                c.restarted,
                "{}: {verdict:?}",
                c.name
            );
        }
    }

    #[test]
    fn backoff_doubles_per_restart_in_the_window_and_is_capped() {
        // base 1 s, cap 3 s: 1, 2, then 4 capped to 3.
        let mut sup = Supervisor::new(RestartPolicy {
            limit: 10,
            ..policy(RestartMode::Always)
        });
        let mut now = S(0);
        let mut delays = Vec::new();
        for _ in 0..4 {
            match sup.on_exit(now, Exit::Code(1)) {
                Verdict::Restart { at, .. } => {
                    delays.push(at - now);
                    now = at;
                }
                other => panic!("expected a restart, got {other:?}"),
            }
        }
        assert_eq!(delays, [S(1), S(2), S(3), S(3)]);
    }

    #[test]
    fn past_the_limit_inside_the_window_it_gives_up_for_good() {
        let mut sup = Supervisor::new(policy(RestartMode::OnFailure));
        // Restarts at 0 s, 1 s, 3 s (limit 3) all fall inside the 60 s window.
        assert_eq!(
            sup.on_exit(S(0), Exit::Code(1)),
            Verdict::Restart {
                at: S(1),
                attempt: 1
            }
        );
        assert_eq!(
            sup.on_exit(S(1), Exit::Code(1)),
            Verdict::Restart {
                at: S(3),
                attempt: 2
            }
        );
        assert_eq!(
            sup.on_exit(S(3), Exit::Code(1)),
            Verdict::Restart {
                at: S(6),
                attempt: 3
            }
        );
        assert_eq!(
            sup.on_exit(S(6), Exit::Code(1)),
            Verdict::GiveUp { restarts: 3 }
        );
        assert!(sup.given_up());
        // Even long after the window, a given-up process is not restarted.
        assert_eq!(
            sup.on_exit(S(1000), Exit::Code(1)),
            Verdict::GiveUp { restarts: 3 }
        );
        assert_eq!(sup.total_restarts(), 3);
    }

    #[test]
    fn restarts_that_slid_out_of_the_window_no_longer_count() {
        let mut sup = Supervisor::new(policy(RestartMode::OnFailure));
        assert!(matches!(
            sup.on_exit(S(0), Exit::Code(1)),
            Verdict::Restart { attempt: 1, .. }
        ));
        assert!(matches!(
            sup.on_exit(S(10), Exit::Code(1)),
            Verdict::Restart { attempt: 2, .. }
        ));
        assert!(matches!(
            sup.on_exit(S(20), Exit::Code(1)),
            Verdict::Restart { attempt: 3, .. }
        ));
        // At 60 s the restart from 0 s is exactly one window old and drops out: two remain,
        // so this is attempt 3 again with backoff 1 s * 2^2 = 4 s capped to 3 s.
        assert_eq!(
            sup.on_exit(S(60), Exit::Code(1)),
            Verdict::Restart {
                at: S(63),
                attempt: 3
            }
        );
        assert!(!sup.given_up());
    }

    #[test]
    fn a_limit_of_zero_gives_up_on_the_first_crash() {
        let mut sup = Supervisor::new(RestartPolicy {
            limit: 0,
            ..policy(RestartMode::OnFailure)
        });
        assert_eq!(
            sup.on_exit(S(5), Exit::Signal(9)),
            Verdict::GiveUp { restarts: 0 }
        );
    }

    #[test]
    fn backoff_never_overflows_however_many_restarts() {
        assert_eq!(backoff(S(1), S(30), 0), S(1));
        assert_eq!(backoff(S(1), S(30), 40), S(30));
        assert_eq!(backoff(Duration::MAX, S(30), 3), S(30));
    }
}
