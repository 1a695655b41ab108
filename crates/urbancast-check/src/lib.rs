//! urbancast-check: the range checks behind every settings struct's `validate()`, with one
//! message style for all crates: the key as the user writes it (in TOML, with the prefix of its
//! table), the allowed range and the value given, e.g.
//! `protocol.lags must be at least 1 (got 0)` or `protocol.percentile must lie in (0, 1] (got -0.5)`.
//!
//! ```
//! use std::ops::Bound::{Excluded, Included};
//! use urbancast_check::Checker;
//!
//! let c = Checker::new("protocol.");
//! assert!(c.at_least("lags", 6usize, 1).is_ok());
//! let e = c.in_range("percentile", -0.5, (Excluded(0.0), Included(1.0))).unwrap_err();
//! assert_eq!(e.to_string(), "protocol.percentile must lie in (0, 1] (got -0.5)");
//! ```
use std::fmt;
use std::ops::{Bound, RangeBounds};

/// A setting outside its allowed range; the message names the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

/// Result of a check.
pub type Result<T = ()> = std::result::Result<T, ConfigError>;

/// A number a check compares: integers are always finite, floats must be.
pub trait Value: Copy + PartialOrd + fmt::Display {
    /// Zero of the type (the bound of [`Checker::positive`] and [`Checker::non_negative`]).
    const ZERO: Self;
    /// Whether the value is finite (always for integers).
    fn is_finite_value(self) -> bool {
        true
    }
}

macro_rules! int_value {
    ($($t:ty),*) => {$(impl Value for $t { const ZERO: Self = 0; })*};
}
int_value!(u8, u16, u32, u64, usize, i32, i64);

impl Value for f32 {
    const ZERO: Self = 0.0;
    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

impl Value for f64 {
    const ZERO: Self = 0.0;
    fn is_finite_value(self) -> bool {
        self.is_finite()
    }
}

/// Checks of one settings struct whose keys share a prefix (`""` at the top, `"protocol."` for
/// a nested table, `"demand: "` for a struct known by a name rather than a table).
#[derive(Debug, Clone, Copy)]
pub struct Checker<'a> {
    prefix: &'a str,
}

impl<'a> Checker<'a> {
    /// Checks of keys written `{prefix}{name}`.
    pub fn new(prefix: &'a str) -> Self {
        Checker { prefix }
    }

    /// The full key of field `name`.
    pub fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    /// The prefix of the nested table `name`, for its own `validate_at`: `{prefix}{name}.`.
    pub fn nested(&self, name: &str) -> String {
        format!("{}{name}.", self.prefix)
    }

    /// An error about field `name`: `{key} {what}`, e.g. `fail("n_head", "must divide n_embd = 128 (got 3)")`.
    pub fn fail(&self, name: &str, what: impl fmt::Display) -> ConfigError {
        ConfigError(format!("{} {what}", self.key(name)))
    }

    /// [`Checker::fail`] unless `ok`.
    pub fn ensure(&self, ok: bool, name: &str, what: impl fmt::Display) -> Result {
        if ok { Ok(()) } else { Err(self.fail(name, what)) }
    }

    /// `got` must be finite and inside `range` (any Rust range, or a pair of [`Bound`]s such as
    /// `(Excluded(0.0), Included(1.0))` for `(0, 1]`).
    pub fn in_range<T: Value>(&self, name: &str, got: T, range: impl RangeBounds<T>) -> Result {
        let (lo, hi) = (range.start_bound(), range.end_bound());
        let finite = got.is_finite_value();
        if finite && range.contains(&got) {
            return Ok(());
        }
        let rule = match (lo, hi) {
            (Bound::Unbounded, Bound::Unbounded) => String::new(),
            (Bound::Included(l), Bound::Unbounded) => format!("at least {l}"),
            (Bound::Excluded(l), Bound::Unbounded) => format!("greater than {l}"),
            (Bound::Unbounded, Bound::Included(h)) => format!("at most {h}"),
            (Bound::Unbounded, Bound::Excluded(h)) => format!("less than {h}"),
            _ => {
                let open = if matches!(lo, Bound::Excluded(_)) { '(' } else { '[' };
                let close = if matches!(hi, Bound::Excluded(_)) { ')' } else { ']' };
                let (Bound::Included(l) | Bound::Excluded(l)) = lo else { unreachable!("both bounds are set") };
                let (Bound::Included(h) | Bound::Excluded(h)) = hi else { unreachable!("both bounds are set") };
                let interval = format!("{open}{l}, {h}{close}");
                return Err(match finite {
                    true => self.fail(name, format!("must lie in {interval} (got {got})")),
                    false => self.fail(name, format!("must be a finite number in {interval} (got {got})")),
                });
            }
        };
        Err(match (finite, rule.is_empty()) {
            (true, _) => self.fail(name, format!("must be {rule} (got {got})")),
            (false, true) => self.fail(name, format!("must be a finite number (got {got})")),
            (false, false) => self.fail(name, format!("must be a finite number {rule} (got {got})")),
        })
    }

    /// `got ≥ min`, e.g. lags, batch sizes, epochs.
    pub fn at_least<T: Value>(&self, name: &str, got: T, min: T) -> Result {
        self.in_range(name, got, min..)
    }

    /// `got > 0` and finite, e.g. learning rates, temperatures.
    pub fn positive<T: Value>(&self, name: &str, got: T) -> Result {
        self.in_range(name, got, (Bound::Excluded(T::ZERO), Bound::Unbounded))
    }

    /// `got ≥ 0` and finite, e.g. weights of loss terms.
    pub fn non_negative<T: Value>(&self, name: &str, got: T) -> Result {
        self.in_range(name, got, T::ZERO..)
    }

    /// `got` is a finite number (any sign).
    pub fn finite<T: Value>(&self, name: &str, got: T) -> Result {
        self.in_range(name, got, ..)
    }

    /// `got` lies in the open interval `(0, 1)`, e.g. a share that must leave something on both sides.
    pub fn open_fraction(&self, name: &str, got: f64) -> Result {
        self.in_range(name, got, (Bound::Excluded(0.0), Bound::Excluded(1.0)))
    }

    /// `got` lies in `[0, 1]`, e.g. a probability.
    pub fn unit<T: Value + From<u8>>(&self, name: &str, got: T) -> Result {
        self.in_range(name, got, T::ZERO..=T::from(1))
    }

    /// `got`, when set, is at least `min` (an optional cap such as `max_batches_per_epoch`).
    pub fn at_least_if_set<T: Value>(&self, name: &str, got: Option<T>, min: T) -> Result {
        got.map_or(Ok(()), |v| self.at_least(name, v, min))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Bound::{Excluded, Included, Unbounded};

    fn msg(r: Result) -> String {
        r.unwrap_err().to_string()
    }

    #[test]
    fn messages_name_the_key_the_range_and_the_value() {
        let c = Checker::new("settings.protocol.");
        assert!(c.at_least("lags", 1usize, 1).is_ok());
        assert_eq!(msg(c.at_least("lags", 0usize, 1)), "settings.protocol.lags must be at least 1 (got 0)");
        assert_eq!(
            msg(c.in_range("percentile", -0.5, (Excluded(0.0), Included(1.0)))),
            "settings.protocol.percentile must lie in (0, 1] (got -0.5)"
        );
        assert_eq!(msg(c.open_fraction("source_train_frac", 1.0)), "settings.protocol.source_train_frac must lie in (0, 1) (got 1)");
        assert_eq!(msg(c.unit("p", 1.5f32)), "settings.protocol.p must lie in [0, 1] (got 1.5)");
        assert_eq!(msg(c.in_range("k", 0usize, 1..=1000)), "settings.protocol.k must lie in [1, 1000] (got 0)");
        let t = Checker::new("");
        assert_eq!(msg(t.positive("lr", 0.0)), "lr must be greater than 0 (got 0)");
        assert_eq!(msg(t.positive("lr", f64::INFINITY)), "lr must be a finite number greater than 0 (got inf)");
        assert_eq!(msg(t.non_negative("w", -0.1f32)), "w must be at least 0 (got -0.1)");
        assert_eq!(msg(t.finite("x", f64::NAN)), "x must be a finite number (got NaN)");
        assert_eq!(msg(t.in_range("d", f64::NAN, 0.0..1.0)), "d must be a finite number in [0, 1) (got NaN)");
        assert_eq!(msg(t.in_range("d", 2.0, ..1.0)), "d must be less than 1 (got 2)");
        assert_eq!(msg(t.in_range("d", 2.0, (Unbounded, Included(1.0)))), "d must be at most 1 (got 2)");
        assert_eq!(msg(t.at_least_if_set("max_batches", Some(0usize), 1)), "max_batches must be at least 1 (got 0)");
        assert!(t.at_least_if_set::<usize>("max_batches", None, 1).is_ok());
        assert_eq!(msg(t.ensure(false, "n_head", "must divide n_embd = 8 (got 3)")), "n_head must divide n_embd = 8 (got 3)");
        assert_eq!(Checker::new("a.").nested("b"), "a.b.");
    }

    #[test]
    fn valid_values_pass() {
        let c = Checker::new("");
        assert!(c.positive("lr", 1e-3).is_ok());
        assert!(c.non_negative("w", 0.0f32).is_ok());
        assert!(c.unit("p", 1.0).is_ok());
        assert!(c.open_fraction("f", 0.5).is_ok());
        assert!(c.in_range("p", 1.0, (Excluded(0.0), Included(1.0))).is_ok());
        assert!(c.finite("x", -3.0).is_ok());
    }
}
