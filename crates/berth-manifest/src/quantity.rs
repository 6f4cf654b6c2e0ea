//! Kubernetes resource quantities (`100m`, `1.5`, `2Gi`, `1e3`), parsed exactly.
//!
//! Mirrors `k8s.io/apimachinery/pkg/api/resource/quantity.go`: a signed decimal number
//! followed by a binary suffix (`Ki`..`Ei`), a decimal suffix (`n`, `u`, `m`, ``, `k`, `M`,
//! `G`, `T`, `P`, `E`) or a decimal exponent (`e3`, `E-2`). Values are held as an integer
//! number of nano-units so that `requests == limits` comparisons are exact
//! (`"1"` equals `"1000m"`).

use std::fmt;

/// A parsed quantity, in nano-units (1 CPU = 1_000_000_000; 1 byte = 1_000_000_000).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Quantity(pub i128);

/// Why a quantity string is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid quantity {text:?}: {reason}; write e.g. `500m`, `2`, `512Mi` or `1Gi`")]
pub struct QuantityError {
    /// The rejected text.
    pub text: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

const NANO: i128 = 1_000_000_000;

impl Quantity {
    /// Parses a quantity as Kubernetes does.
    pub fn parse(text: &str) -> Result<Self, QuantityError> {
        let err = |reason| QuantityError {
            text: text.to_string(),
            reason,
        };
        // Kubernetes does not trim: `" 500m"` is not a quantity.
        let t = text;
        if t.is_empty() {
            return Err(err("it is empty"));
        }
        let (neg, body) = match t.as_bytes()[0] {
            b'-' => (true, &t[1..]),
            b'+' => (false, &t[1..]),
            _ => (false, t),
        };
        let num_end = body
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(body.len());
        let (num, suffix) = body.split_at(num_end);
        if num.is_empty() || num == "." || num.matches('.').count() > 1 {
            return Err(err("it does not start with a number"));
        }
        let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
        // value = mantissa * 10^(exp10) * 2^(exp2)
        let digits = format!("{int_part}{frac_part}");
        let digits = digits.trim_start_matches('0');
        if digits.len() > 30 {
            return Err(err("it has too many digits"));
        }
        let mantissa: i128 = if digits.is_empty() {
            0
        } else {
            digits
                .parse()
                .map_err(|_| err("it does not start with a number"))?
        };
        let mut exp10: i32 = -(frac_part.len() as i32);
        let mut exp2: u32 = 0;
        match suffix {
            "" => {}
            "n" => exp10 -= 9,
            "u" => exp10 -= 6,
            "m" => exp10 -= 3,
            "k" => exp10 += 3,
            "M" => exp10 += 6,
            "G" => exp10 += 9,
            "T" => exp10 += 12,
            "P" => exp10 += 15,
            "E" => exp10 += 18,
            "Ki" => exp2 = 10,
            "Mi" => exp2 = 20,
            "Gi" => exp2 = 30,
            "Ti" => exp2 = 40,
            "Pi" => exp2 = 50,
            "Ei" => exp2 = 60,
            s if s.starts_with(['e', 'E']) => {
                let e: i32 = s[1..]
                    .parse()
                    .map_err(|_| err("its exponent is not an integer"))?;
                if !(-40..=40).contains(&e) {
                    return Err(err("its exponent is out of range"));
                }
                exp10 += e;
            }
            _ => {
                return Err(err(
                    "its suffix is not one of n u m k M G T P E Ki Mi Gi Ti Pi Ei",
                ));
            }
        }
        // Work in nano-units: shift by 9, then apply the exponents.
        exp10 += 9;
        let mut v = mantissa
            .checked_shl(exp2)
            .ok_or_else(|| err("it is too large"))?;
        if exp10 >= 0 {
            for _ in 0..exp10 {
                v = v.checked_mul(10).ok_or_else(|| err("it is too large"))?;
            }
        } else {
            // Kubernetes rounds sub-nano precision up.
            let div = 10i128
                .checked_pow((-exp10) as u32)
                .ok_or_else(|| err("it is too small"))?;
            v = (v + div - 1) / div;
        }
        Ok(Quantity(if neg { -v } else { v }))
    }

    /// CPU in millicores (rounded up, as `MilliValue` does).
    pub fn millis(self) -> i128 {
        (self.0 + 999_999).div_euclid(1_000_000)
    }

    /// The value in whole units (rounded up, as `Value` does).
    pub fn units(self) -> i128 {
        (self.0 + NANO - 1).div_euclid(NANO)
    }

    /// The value as a float, for ratios.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / NANO as f64
    }

    /// A quantity of `m` millicores.
    pub fn from_millis(m: i128) -> Self {
        Quantity(m * 1_000_000)
    }

    /// A quantity of `b` whole units (bytes, cores).
    pub fn from_units(b: i128) -> Self {
        Quantity(b * NANO)
    }
}

impl fmt::Display for Quantity {
    /// Canonical-ish form: millicores when not whole, else whole units.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 % NANO == 0 {
            write!(f, "{}", self.0 / NANO)
        } else {
            write!(f, "{}m", self.millis())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantities_compare_exactly_across_suffixes() {
        // Equalities that quantity_test.go in apimachinery also asserts.
        let eq = [
            ("1", "1000m"),
            ("0.5", "500m"),
            ("1Ki", "1024"),
            ("1k", "1000"),
            ("1e3", "1k"),
            ("1.5Gi", "1536Mi"),
            ("100m", "0.1"),
        ];
        for (a, b) in eq {
            assert_eq!(Quantity::parse(a), Quantity::parse(b), "{a} == {b}");
        }
        assert_eq!(Quantity::parse("250m").map(Quantity::millis), Ok(250));
        assert_eq!(Quantity::parse("2Gi").map(Quantity::units), Ok(2 << 30));
        assert_eq!(Quantity::parse("1n").map(Quantity::millis), Ok(1));
    }

    #[test]
    fn invalid_quantities_say_why() {
        for bad in [
            "", "abc", "1.2.3", "5X", "1e", "--1", "1 Gi", " 500m", "1Gi ",
        ] {
            let e = Quantity::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("invalid quantity"), "{bad}: {e}");
        }
    }
}
