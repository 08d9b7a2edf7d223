//! The checks builders run on their configuration, in one notation: each
//! returns the typed [`ConfigError`] naming the component, the field and
//! the rule, so a builder's `build()` reads as a list of rules
//! (`c.positive("max_size", n)?; c.not_above("min_idle", min, "max_size", max)?;`)
//! instead of a ladder of hand-written `if`s.

use core::ops::RangeBounds;

use crate::error::{ConfigError, Rule};

/// The checks of one component's builder.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Check(&'static str);

impl Check {
    /// Checks whose errors name `component` (as `"RateLimiter"`).
    pub(crate) const fn new(component: &'static str) -> Self {
        Check(component)
    }

    /// The error for `field` breaking `rule`, for the rules no check here
    /// states.
    pub(crate) fn error(self, field: &'static str, rule: Rule) -> ConfigError {
        ConfigError::new(self.0, field, rule)
    }

    /// `field` breaks `rule` unless `ok`: the general form of the checks
    /// below, for a condition they do not state.
    pub(crate) fn require(
        self,
        ok: bool,
        field: &'static str,
        rule: Rule,
    ) -> Result<(), ConfigError> {
        if ok {
            Ok(())
        } else {
            Err(self.error(field, rule))
        }
    }

    /// `value` must be greater than zero ([`Rule::Zero`]): an integer or a
    /// `Duration`, whose zero is its default.
    pub(crate) fn positive<T: Default + PartialEq>(
        self,
        field: &'static str,
        value: T,
    ) -> Result<(), ConfigError> {
        self.require(value != T::default(), field, Rule::Zero)
    }

    /// Like [`Check::positive`], for a field that may be left unset.
    pub(crate) fn positive_if_set<T: Default + PartialEq>(
        self,
        field: &'static str,
        value: Option<T>,
    ) -> Result<(), ConfigError> {
        value.map_or(Ok(()), |v| self.positive(field, v))
    }

    /// `value` must not exceed the internal limit `max` ([`Rule::TooLarge`]).
    pub(crate) fn at_most<T: PartialOrd>(
        self,
        field: &'static str,
        value: T,
        max: T,
    ) -> Result<(), ConfigError> {
        self.require(value <= max, field, Rule::TooLarge)
    }

    /// `value` must not exceed the field `other` ([`Rule::Exceeds`]).
    pub(crate) fn not_above<T: PartialOrd>(
        self,
        field: &'static str,
        value: T,
        other: &'static str,
        limit: T,
    ) -> Result<(), ConfigError> {
        self.require(value <= limit, field, Rule::Exceeds(other))
    }

    /// `value` must be at least the field `other` ([`Rule::Below`]).
    pub(crate) fn not_below<T: PartialOrd>(
        self,
        field: &'static str,
        value: T,
        other: &'static str,
        floor: T,
    ) -> Result<(), ConfigError> {
        self.require(value >= floor, field, Rule::Below(other))
    }

    /// `value` must be a finite number ([`Rule::NotFinite`]), then lie in
    /// `range`, written in the error as `text` ([`Rule::OutOfRange`]).
    pub(crate) fn finite_within(
        self,
        field: &'static str,
        value: f64,
        range: impl RangeBounds<f64>,
        text: &'static str,
    ) -> Result<(), ConfigError> {
        self.require(value.is_finite(), field, Rule::NotFinite)?;
        self.within(field, value, range, text)
    }

    /// `value` must lie in `range`, written in the error as `text`
    /// ([`Rule::OutOfRange`]); a NaN lies in no range.
    pub(crate) fn within<T: PartialOrd>(
        self,
        field: &'static str,
        value: T,
        range: impl RangeBounds<T>,
        text: &'static str,
    ) -> Result<(), ConfigError> {
        self.require(range.contains(&value), field, Rule::OutOfRange(text))
    }

    /// A field with no default must be set ([`Rule::Missing`]).
    pub(crate) fn set<T>(self, field: &'static str, value: Option<T>) -> Result<T, ConfigError> {
        value.ok_or(self.error(field, Rule::Missing))
    }

    /// `value` converted to `U` (a `Duration` to `u64` nanoseconds, ...),
    /// or [`Rule::TooLarge`] when it does not fit.
    pub(crate) fn fits<T, U: TryFrom<T>>(
        self,
        field: &'static str,
        value: T,
    ) -> Result<U, ConfigError> {
        U::try_from(value).map_err(|_| self.error(field, Rule::TooLarge))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use core::time::Duration;

    const C: Check = Check::new("X");

    fn rule<T>(r: Result<T, ConfigError>) -> Option<Rule> {
        r.err().map(|e| {
            assert_eq!((e.component(), e.field()), ("X", "f"));
            e.rule().clone()
        })
    }

    #[test]
    fn each_check_names_its_rule() {
        assert_eq!(rule(C.positive("f", 0u32)), Some(Rule::Zero));
        assert_eq!(rule(C.positive("f", Duration::ZERO)), Some(Rule::Zero));
        assert_eq!(rule(C.positive("f", 1usize)), None);
        assert_eq!(rule(C.positive_if_set("f", Some(0u64))), Some(Rule::Zero));
        assert_eq!(rule(C.positive_if_set::<u64>("f", None)), None);
        assert_eq!(rule(C.at_most("f", 11, 10)), Some(Rule::TooLarge));
        assert_eq!(rule(C.at_most("f", 10, 10)), None);
        assert_eq!(
            rule(C.not_above("f", 3, "max", 2)),
            Some(Rule::Exceeds("max"))
        );
        assert_eq!(rule(C.not_above("f", 2, "max", 2)), None);
        assert_eq!(
            rule(C.not_below("f", 1, "min", 2)),
            Some(Rule::Below("min"))
        );
        assert_eq!(rule(C.not_below("f", 2, "min", 2)), None);
        assert_eq!(
            rule(C.within("f", 0, 1..=10, "1..=10")),
            Some(Rule::OutOfRange("1..=10"))
        );
        assert_eq!(rule(C.within("f", 10, 1..=10, "1..=10")), None);
        assert_eq!(
            rule(C.within("f", f64::NAN, 0.0..=1.0, "0.0..=1.0")),
            Some(Rule::OutOfRange("0.0..=1.0"))
        );
        assert_eq!(
            rule(C.finite_within("f", f64::NAN, .., "any")),
            Some(Rule::NotFinite)
        );
        assert_eq!(
            rule(C.finite_within("f", f64::INFINITY, 1.0.., "1.0..")),
            Some(Rule::NotFinite)
        );
        assert_eq!(
            rule(C.finite_within("f", 0.5, 1.0.., "1.0..")),
            Some(Rule::OutOfRange("1.0.."))
        );
        assert_eq!(rule(C.finite_within("f", 1.0, 1.0.., "1.0..")), None);
        assert_eq!(rule(C.set::<u8>("f", None)), Some(Rule::Missing));
        assert_eq!(C.set("f", Some(4)), Ok(4));
        assert_eq!(
            rule(C.fits::<u128, u64>("f", u128::MAX)),
            Some(Rule::TooLarge)
        );
        assert_eq!(C.fits::<u128, u64>("f", 7), Ok(7));
        assert_eq!(C.error("f", Rule::Other("odd")).to_string(), "X: `f` odd");
        assert_eq!(
            rule(C.require(false, "f", Rule::Missing)),
            Some(Rule::Missing)
        );
        assert_eq!(rule(C.require(true, "f", Rule::Missing)), None);
    }
}
