//! Virtual time: milliseconds since the start of a run, durations as people write them, and
//! the random durations of app behaviour.

use crate::rng::Rng;

/// Virtual time or a duration, in milliseconds.
pub type Millis = u64;

/// How often a kubelet renews its node Lease (upstream: a quarter of the 40 s lease).
pub(crate) const LEASE_RENEW: Millis = 10_000;

/// metrics-server's default `--metric-resolution`.
pub(crate) const METRICS_RESOLUTION: Millis = 15_000;

/// Parses `500ms`, `30s`, `1.5s`, `2m30s`, `1h`. At least one number+unit pair.
pub fn parse_millis(text: &str) -> Result<Millis, String> {
    let bad = || {
        format!(
            "invalid duration {text:?}: write a number with a unit (ms, s, m, h), e.g. `500ms`, `30s`, `2m30s`"
        )
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(bad());
    }
    let mut total: f64 = 0.0;
    while !rest.is_empty() {
        let n = rest
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        if n == 0 {
            return Err(bad());
        }
        let v: f64 = rest[..n].parse().map_err(|_| bad())?;
        rest = &rest[n..];
        let (unit, len) = if rest.starts_with("ms") {
            (1.0, 2)
        } else if rest.starts_with('s') {
            (1_000.0, 1)
        } else if rest.starts_with('m') {
            (60_000.0, 1)
        } else if rest.starts_with('h') {
            (3_600_000.0, 1)
        } else {
            return Err(bad());
        };
        rest = &rest[len..];
        total += v * unit;
    }
    if !total.is_finite() || total > 1e15 {
        return Err(bad());
    }
    Ok(total.round() as Millis)
}

/// A duration drawn per use: fixed, or uniform over a range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dist {
    /// Always this long.
    Fixed(Millis),
    /// Uniform from the first to the second, inclusive.
    Uniform(Millis, Millis),
}

impl Dist {
    /// Draws one duration.
    pub fn sample(self, rng: &mut Rng) -> Millis {
        match self {
            Dist::Fixed(v) => v,
            Dist::Uniform(lo, hi) => lo + rng.below(hi - lo + 1),
        }
    }

    /// The longest it can be.
    pub fn max(self) -> Millis {
        match self {
            Dist::Fixed(v) | Dist::Uniform(_, v) => v,
        }
    }
}

/// Parses `2s` or `2s..5s`.
pub fn parse_dist(text: &str) -> Result<Dist, String> {
    match text.split_once("..") {
        None => parse_millis(text).map(Dist::Fixed),
        Some((a, b)) => {
            let (lo, hi) = (parse_millis(a)?, parse_millis(b)?);
            if lo > hi {
                return Err(format!("the range {text:?} runs backwards"));
            }
            Ok(Dist::Uniform(lo, hi))
        }
    }
}

/// `m:ss.mmm` (or `h:mm:ss.mmm` past an hour), as the timeline prints times.
pub fn fmt_clock(t: Millis) -> String {
    let (h, m, s, ms) = (t / 3_600_000, t / 60_000 % 60, t / 1_000 % 60, t % 1_000);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}.{ms:03}")
    } else {
        format!("{m}:{s:02}.{ms:03}")
    }
}

/// A duration the way people write it: `1m30s`, `250ms`.
pub fn fmt_millis(t: Millis) -> String {
    if t == 0 {
        return "0s".into();
    }
    let mut out = String::new();
    let (h, m, s, ms) = (t / 3_600_000, t / 60_000 % 60, t / 1_000 % 60, t % 1_000);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if ms > 0 && (s > 0 || h > 0 || m > 0) {
        let frac = format!("{ms:03}");
        out.push_str(&format!("{s}.{}s", frac.trim_end_matches('0')));
    } else if s > 0 {
        out.push_str(&format!("{s}s"));
    } else if ms > 0 {
        out.push_str(&format!("{ms}ms"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_every_unit_and_fractions() {
        assert_eq!(parse_millis("250ms"), Ok(250));
        assert_eq!(parse_millis("1.5s"), Ok(1_500));
        assert_eq!(parse_millis("2m30s"), Ok(150_000));
        assert_eq!(parse_millis("1h"), Ok(3_600_000));
        for bad in ["", "5", "s", "5x", "-1s", "1.2.3s"] {
            assert!(parse_millis(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn ranges_are_inclusive_and_ordered() {
        assert_eq!(parse_dist("2s..5s"), Ok(Dist::Uniform(2_000, 5_000)));
        assert!(parse_dist("5s..2s").is_err());
        let mut rng = Rng::new(7);
        for _ in 0..1000 {
            let v = Dist::Uniform(2_000, 5_000).sample(&mut rng);
            assert!((2_000..=5_000).contains(&v));
        }
    }

    #[test]
    fn clock_and_durations_print_compactly() {
        assert_eq!(fmt_clock(61_250), "1:01.250");
        assert_eq!(fmt_clock(3_723_000), "1:02:03.000");
        assert_eq!(fmt_millis(90_000), "1m30s");
        assert_eq!(fmt_millis(250), "250ms");
        assert_eq!(fmt_millis(1_500), "1.5s");
        assert_eq!(fmt_millis(0), "0s");
    }
}
