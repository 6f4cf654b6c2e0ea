//! The drain sequence as a plan: given the settings and what berth-init sees now, the next step.
//! Pure: time comes in as a [`Duration`] since berth-init started, observations as values.
//!
//! On SIGTERM berth-init marks itself not-ready (the shell does that before the first step), then:
//!
//! 1. waits `delay`, so load balancers forget the pod while it still serves;
//! 2. sends SIGTERM to the main process and the supervised ones (to every remaining process once
//!    the main one is gone);
//! 3. waits until no established TCP connection remains on the app's listening ports, then
//!    `idle_grace` more for the processes to finish, all bounded by `timeout` after the SIGTERM;
//! 4. sends SIGKILL to whatever remains (again every [`KILL_RETRY`], for anything forked
//!    meanwhile) and exits when nothing is left.
//!
//! The sequence ends as soon as no process is left, whichever step it is at. When the main
//! process exits by itself and is not restarted, the same plan runs without the delay.

use std::time::Duration;

/// How often connections are counted while waiting for them to drain.
pub const CONNECTION_POLL: Duration = Duration::from_millis(100);
/// How often SIGKILL is repeated while processes remain (children forked meanwhile).
pub const KILL_RETRY: Duration = Duration::from_millis(200);
/// How long after the first SIGKILL berth-init stops waiting (a process stuck in the kernel).
pub const KILL_WAIT: Duration = Duration::from_secs(5);

/// The drain settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainConfig {
    /// Not-ready to SIGTERM.
    pub delay: Duration,
    /// SIGTERM to SIGKILL, at most.
    pub timeout: Duration,
    /// Once no connection remains, how long processes still get to exit before SIGKILL.
    pub idle_grace: Duration,
}

/// What berth-init sees at one moment of the drain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    /// Now, since berth-init started.
    pub now: Duration,
    /// The main process is alive.
    pub main_running: bool,
    /// Any process other than berth-init is left (its children, orphans included).
    pub processes_left: bool,
    /// Established connections on the app's listening ports; `None` when there are no ports
    /// to watch (a worker without listeners), so only the processes and the timeout count.
    pub established: Option<usize>,
}

/// The next thing to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Send SIGTERM to the main and supervised processes; with `everyone`, to every process left.
    Terminate {
        /// Every remaining process, not only the tracked ones.
        everyone: bool,
    },
    /// Send SIGKILL to every process left.
    Kill,
    /// Nothing more to do: exit. `leftover` when processes survived SIGKILL for [`KILL_WAIT`].
    Exit {
        /// Processes remained.
        leftover: bool,
    },
    /// Wait for an event (a child exiting, a signal) or this time, whichever comes first.
    Wait {
        /// The time to look again.
        until: Duration,
    },
}

/// Why the connections wait ended, for the log and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KillReason {
    /// No connection was left and the idle grace passed.
    Idle,
    /// The timeout after SIGTERM passed.
    Timeout,
}

/// One drain, from its start to exit.
#[derive(Debug, Clone)]
pub struct Drain {
    cfg: DrainConfig,
    started: Duration,
    term_at: Option<Duration>,
    everyone_at: Option<Duration>,
    first_kill: Option<(Duration, KillReason)>,
    last_kill: Option<Duration>,
    idle_since: Option<Duration>,
}

impl Drain {
    /// A drain that starts at `now`. With `with_delay` false (the main process already exited)
    /// the delay is skipped.
    pub fn new(cfg: DrainConfig, now: Duration, with_delay: bool) -> Self {
        let cfg = if with_delay {
            cfg
        } else {
            DrainConfig {
                delay: Duration::ZERO,
                ..cfg
            }
        };
        Drain {
            cfg,
            started: now,
            term_at: None,
            everyone_at: None,
            first_kill: None,
            last_kill: None,
            idle_since: None,
        }
    }

    /// When the drain started.
    pub fn started(&self) -> Duration {
        self.started
    }

    /// A second SIGTERM during the delay: the rest of the delay is skipped (someone wants the
    /// pod gone now).
    pub fn skip_delay(&mut self, now: Duration) {
        if self.term_at.is_none() {
            self.cfg.delay = self.cfg.delay.min(now.saturating_sub(self.started));
        }
    }

    /// When SIGTERM was sent, if it was.
    pub fn term_at(&self) -> Option<Duration> {
        self.term_at
    }

    /// When SIGKILL was first sent and why, if it was.
    pub fn killed(&self) -> Option<(Duration, KillReason)> {
        self.first_kill
    }

    /// The next step. A step other than [`Step::Wait`] is taken as done: call again right away.
    pub fn step(&mut self, obs: Observation) -> Step {
        let now = obs.now;
        if !obs.processes_left {
            return Step::Exit { leftover: false };
        }
        if let Some((first, _)) = self.first_kill {
            if now >= first + KILL_WAIT {
                return Step::Exit { leftover: true };
            }
            // first_kill implies last_kill; the fallback only keeps this total.
            let again = self.last_kill.unwrap_or(first) + KILL_RETRY;
            if now >= again {
                self.last_kill = Some(now);
                return Step::Kill;
            }
            return Step::Wait {
                until: again.min(first + KILL_WAIT),
            };
        }
        let Some(term_at) = self.term_at else {
            let delay_end = self.started + self.cfg.delay;
            // A main process that already died serves nobody: waiting on would only slow the exit.
            if obs.main_running && now < delay_end {
                return Step::Wait { until: delay_end };
            }
            self.term_at = Some(now);
            if !obs.main_running {
                self.everyone_at = Some(now);
            }
            return Step::Terminate {
                everyone: !obs.main_running,
            };
        };
        if !obs.main_running && self.everyone_at.is_none() {
            // The main process is gone: what is left (its background children, orphans,
            // supervised helpers) is asked to stop too.
            self.everyone_at = Some(now);
            return Step::Terminate { everyone: true };
        }
        let deadline = term_at + self.cfg.timeout;
        if now >= deadline {
            return self.kill(now, KillReason::Timeout);
        }
        let mut wake = deadline;
        match obs.established {
            Some(0) => {
                let since = *self.idle_since.get_or_insert(now);
                if now >= since + self.cfg.idle_grace {
                    return self.kill(now, KillReason::Idle);
                }
                wake = wake.min(since + self.cfg.idle_grace);
            }
            Some(_) => {
                self.idle_since = None;
                wake = wake.min(now + CONNECTION_POLL);
            }
            None => {}
        }
        Step::Wait { until: wake }
    }

    fn kill(&mut self, now: Duration, reason: KillReason) -> Step {
        self.first_kill = Some((now, reason));
        self.last_kill = Some(now);
        Step::Kill
    }
}

/// The preStop settings: wait `delay`, then for connections to drain, at most `timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrestopConfig {
    /// Time for load balancers to forget the pod.
    pub delay: Duration,
    /// The longest wait for connections after the delay.
    pub timeout: Duration,
}

/// The next step of `berth-init prestop`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrestopStep {
    /// Look again at this time.
    Wait {
        /// Since the hook started.
        until: Duration,
    },
    /// Done: the kubelet may send SIGTERM now.
    Done(PrestopEnd),
}

/// How a preStop wait ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrestopEnd {
    /// No established connection was left.
    Idle,
    /// Connections remained at the timeout.
    TimedOut,
    /// There were no listening ports to watch, only the delay.
    NoPorts,
}

/// The preStop plan: stateless, from the time since the hook started and the connection count.
pub fn prestop_step(cfg: PrestopConfig, now: Duration, established: Option<usize>) -> PrestopStep {
    if now < cfg.delay {
        return PrestopStep::Wait { until: cfg.delay };
    }
    match established {
        None => PrestopStep::Done(PrestopEnd::NoPorts),
        Some(0) => PrestopStep::Done(PrestopEnd::Idle),
        Some(_) if now >= cfg.delay + cfg.timeout => PrestopStep::Done(PrestopEnd::TimedOut),
        Some(_) => PrestopStep::Wait {
            until: (now + CONNECTION_POLL).min(cfg.delay + cfg.timeout),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: fn(u64) -> Duration = Duration::from_millis;

    fn cfg() -> DrainConfig {
        DrainConfig {
            delay: MS(5000),
            timeout: MS(20000),
            idle_grace: MS(1000),
        }
    }

    fn obs(now: u64, main_running: bool, established: Option<usize>) -> Observation {
        Observation {
            now: MS(now),
            main_running,
            processes_left: true,
            established,
        }
    }

    /// Runs a scripted drain: each line is (observation, the step expected).
    fn script(drain: &mut Drain, lines: &[(Observation, Step)]) {
        for (i, (o, want)) in lines.iter().enumerate() {
            assert_eq!(drain.step(*o), *want, "line {i}: {o:?}");
        }
    }

    #[test]
    fn a_graceful_app_is_terminated_after_the_delay_and_the_drain_ends_when_it_exits() {
        let mut d = Drain::new(cfg(), MS(1000), true);
        script(
            &mut d,
            &[
                // SIGTERM arrived at 1 s: wait until 1 s + 5 s delay.
                (obs(1000, true, Some(3)), Step::Wait { until: MS(6000) }),
                (obs(3000, true, Some(3)), Step::Wait { until: MS(6000) }),
                (
                    obs(6000, true, Some(3)),
                    Step::Terminate { everyone: false },
                ),
                // Connections still open: look again every 100 ms.
                (obs(6000, true, Some(3)), Step::Wait { until: MS(6100) }),
                (obs(6100, true, Some(1)), Step::Wait { until: MS(6200) }),
                // The app exits by itself.
                (
                    Observation {
                        processes_left: false,
                        ..obs(6150, false, Some(0))
                    },
                    Step::Exit { leftover: false },
                ),
            ],
        );
        assert_eq!(d.term_at(), Some(MS(6000)));
        assert_eq!(d.killed(), None);
    }

    #[test]
    fn processes_are_killed_once_connections_drained_and_the_idle_grace_passed() {
        let mut d = Drain::new(cfg(), MS(0), true);
        script(
            &mut d,
            &[
                (
                    obs(5000, true, Some(2)),
                    Step::Terminate { everyone: false },
                ),
                (obs(5000, true, Some(2)), Step::Wait { until: MS(5100) }),
                // Idle from 7 s: the grace of 1 s ends at 8 s.
                (obs(7000, true, Some(0)), Step::Wait { until: MS(8000) }),
                (obs(7500, true, Some(0)), Step::Wait { until: MS(8000) }),
                (obs(8000, true, Some(0)), Step::Kill),
            ],
        );
        assert_eq!(d.killed(), Some((MS(8000), KillReason::Idle)));
    }

    #[test]
    fn a_new_connection_during_the_idle_grace_restarts_it() {
        let mut d = Drain::new(cfg(), MS(0), false);
        script(
            &mut d,
            &[
                (obs(0, true, Some(0)), Step::Terminate { everyone: false }),
                (obs(0, true, Some(0)), Step::Wait { until: MS(1000) }),
                (obs(500, true, Some(1)), Step::Wait { until: MS(600) }),
                (obs(600, true, Some(0)), Step::Wait { until: MS(1600) }),
                (obs(1600, true, Some(0)), Step::Kill),
            ],
        );
    }

    #[test]
    fn an_app_that_ignores_sigterm_is_killed_at_the_timeout_and_killing_repeats() {
        let mut d = Drain::new(cfg(), MS(0), true);
        script(
            &mut d,
            &[
                (obs(5000, true, None), Step::Terminate { everyone: false }),
                // No ports to watch: only the timeout, 5 s + 20 s.
                (obs(5000, true, None), Step::Wait { until: MS(25000) }),
                (obs(25000, true, None), Step::Kill),
                (obs(25000, true, None), Step::Wait { until: MS(25200) }),
                (obs(25200, false, None), Step::Kill),
                (obs(25300, false, None), Step::Wait { until: MS(25400) }),
                // Something survived SIGKILL for 5 s (stuck in the kernel): give up waiting.
                (obs(30000, false, None), Step::Exit { leftover: true }),
            ],
        );
        assert_eq!(d.killed(), Some((MS(25000), KillReason::Timeout)));
    }

    #[test]
    fn busy_connections_do_not_hold_off_the_timeout() {
        let mut d = Drain::new(cfg(), MS(0), false);
        script(
            &mut d,
            &[
                (obs(0, true, Some(9)), Step::Terminate { everyone: false }),
                (obs(19950, true, Some(9)), Step::Wait { until: MS(20000) }),
                (obs(20000, true, Some(9)), Step::Kill),
            ],
        );
    }

    #[test]
    fn when_the_main_process_is_gone_every_remaining_process_is_terminated_once() {
        let mut d = Drain::new(cfg(), MS(0), true);
        script(
            &mut d,
            &[
                (obs(5000, true, None), Step::Terminate { everyone: false }),
                (obs(5001, true, None), Step::Wait { until: MS(25000) }),
                // The main process exited; its background child is still there.
                (obs(6000, false, None), Step::Terminate { everyone: true }),
                (obs(6001, false, None), Step::Wait { until: MS(25000) }),
            ],
        );
    }

    #[test]
    fn a_main_process_that_died_during_the_delay_skips_the_rest_of_it() {
        let mut d = Drain::new(cfg(), MS(0), true);
        script(
            &mut d,
            &[
                (obs(0, true, None), Step::Wait { until: MS(5000) }),
                (obs(1000, false, None), Step::Terminate { everyone: true }),
                (obs(1000, false, None), Step::Wait { until: MS(21000) }),
            ],
        );
    }

    #[test]
    fn a_second_sigterm_during_the_delay_skips_the_rest_of_it() {
        let mut d = Drain::new(cfg(), MS(0), true);
        script(
            &mut d,
            &[(obs(0, true, None), Step::Wait { until: MS(5000) })],
        );
        d.skip_delay(MS(1200));
        script(
            &mut d,
            &[(obs(1200, true, None), Step::Terminate { everyone: false })],
        );
        // Once SIGTERM went out, another one changes nothing.
        d.skip_delay(MS(1300));
        assert_eq!(d.term_at(), Some(MS(1200)));
    }

    #[test]
    fn a_shutdown_after_the_main_process_exited_has_no_delay() {
        let mut d = Drain::new(cfg(), MS(700), false);
        script(
            &mut d,
            &[(obs(700, false, None), Step::Terminate { everyone: true })],
        );
    }

    #[test]
    fn nothing_left_means_exit_at_any_step() {
        for with_delay in [true, false] {
            let mut d = Drain::new(cfg(), MS(0), with_delay);
            let o = Observation {
                processes_left: false,
                ..obs(0, false, None)
            };
            assert_eq!(d.step(o), Step::Exit { leftover: false });
        }
    }

    #[test]
    fn prestop_waits_the_delay_then_for_connections_up_to_its_timeout() {
        let c = PrestopConfig {
            delay: MS(2000),
            timeout: MS(3000),
        };
        let cases: &[(&str, u64, Option<usize>, PrestopStep)] = &[
            (
                "during the delay",
                500,
                Some(4),
                PrestopStep::Wait { until: MS(2000) },
            ),
            (
                "delay over, busy",
                2000,
                Some(4),
                PrestopStep::Wait { until: MS(2100) },
            ),
            (
                "delay over, idle",
                2000,
                Some(0),
                PrestopStep::Done(PrestopEnd::Idle),
            ),
            (
                "no ports to watch",
                2000,
                None,
                PrestopStep::Done(PrestopEnd::NoPorts),
            ),
            // 2 s delay + 3 s timeout = 5 s.
            (
                "close to the timeout",
                4950,
                Some(1),
                PrestopStep::Wait { until: MS(5000) },
            ),
            (
                "at the timeout",
                5000,
                Some(1),
                PrestopStep::Done(PrestopEnd::TimedOut),
            ),
        ];
        for (name, now, est, want) in cases {
            assert_eq!(prestop_step(c, MS(*now), *est), *want, "{name}");
        }
    }
}
