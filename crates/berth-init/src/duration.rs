//! Durations as flags and environment variables write them: `500ms`, `5s`, `1m30s`, `2h`.

use std::time::Duration;

/// Why a duration could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Nothing was given.
    #[error("empty duration; write a number with a unit, e.g. 5s")]
    Empty,
    /// A number had no unit after it.
    #[error("`{0}` has no unit; write e.g. {0}s or {0}ms")]
    MissingUnit(String),
    /// A unit other than ms, s, m, h.
    #[error("unknown unit `{0}`; use ms, s, m or h")]
    UnknownUnit(String),
    /// A unit without a number before it, or some other character.
    #[error("`{0}` is not a duration; write whole numbers with units, e.g. 500ms, 5s, 1m30s")]
    Malformed(String),
    /// The total does not fit.
    #[error("`{0}` is too long")]
    Overflow(String),
}

/// Reads `500ms`, `5s`, `1m30s`, `2h` or `0`; a bare number other than 0 is refused
/// because `5` could mean seconds or milliseconds.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut total = Duration::ZERO;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return Err(DurationError::Malformed(text.to_string()));
        }
        let (number, after) = rest.split_at(digits);
        let unit_len = after.len()
            - after
                .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                .len();
        let (unit, after) = after.split_at(unit_len);
        let value: u64 = number
            .parse()
            .map_err(|_| DurationError::Overflow(text.to_string()))?;
        let part = match unit {
            "" if after.is_empty() => return Err(DurationError::MissingUnit(number.to_string())),
            "" => return Err(DurationError::Malformed(text.to_string())),
            "ms" => Duration::from_millis(value),
            "s" => Duration::from_secs(value),
            "m" => Duration::from_secs(
                value
                    .checked_mul(60)
                    .ok_or_else(|| DurationError::Overflow(text.to_string()))?,
            ),
            "h" => Duration::from_secs(
                value
                    .checked_mul(3600)
                    .ok_or_else(|| DurationError::Overflow(text.to_string()))?,
            ),
            other => return Err(DurationError::UnknownUnit(other.to_string())),
        };
        total = total
            .checked_add(part)
            .ok_or_else(|| DurationError::Overflow(text.to_string()))?;
        rest = after;
    }
    Ok(total)
}

/// Writes a duration the way [`parse_duration`] reads it, in the largest exact units.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms == 0 {
        return "0s".to_string();
    }
    if !ms.is_multiple_of(1000) {
        return format!("{ms}ms");
    }
    let secs = ms / 1000;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_units_are_read_and_summed() {
        let cases: &[(&str, Duration)] = &[
            ("0", Duration::ZERO),
            ("0s", Duration::ZERO),
            ("500ms", Duration::from_millis(500)),
            ("5s", Duration::from_secs(5)),
            ("2m", Duration::from_secs(120)),
            ("1h", Duration::from_secs(3600)),
            // 60 + 30 seconds
            ("1m30s", Duration::from_secs(90)),
            // 1 s + 250 ms
            ("1s250ms", Duration::from_millis(1250)),
            (" 10s ", Duration::from_secs(10)),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text), Ok(*want), "case {text:?}");
        }
    }

    #[test]
    fn durations_without_a_known_unit_are_refused_with_a_hint() {
        let cases: &[(&str, DurationError)] = &[
            ("", DurationError::Empty),
            ("5", DurationError::MissingUnit("5".into())),
            ("1m30", DurationError::MissingUnit("30".into())),
            ("5x", DurationError::UnknownUnit("x".into())),
            ("5sec", DurationError::UnknownUnit("sec".into())),
            ("s", DurationError::Malformed("s".into())),
            ("-5s", DurationError::Malformed("-5s".into())),
            ("1.5s", DurationError::Malformed("1.5s".into())),
            (
                "99999999999999999999s",
                DurationError::Overflow("99999999999999999999s".into()),
            ),
        ];
        for (text, want) in cases {
            assert_eq!(parse_duration(text).as_ref(), Err(want), "case {text:?}");
        }
        assert_eq!(
            DurationError::MissingUnit("5".into()).to_string(),
            "`5` has no unit; write e.g. 5s or 5ms"
        );
    }

    #[test]
    fn formatted_durations_read_back_to_the_same_value() {
        for ms in [
            0u64, 1, 999, 1000, 1500, 60_000, 90_000, 3_600_000, 3_661_000,
        ] {
            let d = Duration::from_millis(ms);
            assert_eq!(parse_duration(&format_duration(d)), Ok(d), "{ms} ms");
        }
        assert_eq!(format_duration(Duration::from_secs(3661)), "1h1m1s");
    }
}
