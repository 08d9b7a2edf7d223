//! The error every builder returns for bad configuration.

#![forbid(unsafe_code)]

use core::fmt;

/// A configuration value broke a rule; names the component, the field and
/// the rule.
///
/// Returned by every builder's `build()`: nothing in weir panics or clamps
/// silently on bad input.
///
/// ```
/// use weir_core::{ConfigError, Rule};
///
/// let e = ConfigError::new("RateLimiter", "burst", Rule::Zero);
/// assert_eq!(e.field(), "burst");
/// assert_eq!(e.to_string(), "RateLimiter: `burst` must be greater than zero");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    component: &'static str,
    field: &'static str,
    rule: Rule,
}

/// The rule a configuration value broke.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rule {
    /// The value must be greater than zero.
    Zero,
    /// The value must be a finite number (not NaN or infinite).
    NotFinite,
    /// The value must lie in the given range, written as Rust writes it
    /// (`"0.0..=1.0"`).
    OutOfRange(&'static str),
    /// The value must not exceed the named other field (`min > max`).
    Exceeds(&'static str),
    /// The value must be at least the named other field.
    Below(&'static str),
    /// The value does not fit the internal representation.
    TooLarge,
    /// The field has no default and must be set.
    Missing,
    /// Any other rule, stated in words.
    Other(&'static str),
}

impl ConfigError {
    /// An error for `field` of `component` breaking `rule`.
    ///
    /// ```
    /// let e = weir_core::ConfigError::new("Bulkhead", "max_concurrent", weir_core::Rule::Zero);
    /// assert_eq!(e.component(), "Bulkhead");
    /// ```
    pub const fn new(component: &'static str, field: &'static str, rule: Rule) -> Self {
        ConfigError {
            component,
            field,
            rule,
        }
    }

    /// The component whose builder refused the value.
    ///
    /// ```
    /// let e = weir_core::ConfigError::new("Retry", "max_attempts", weir_core::Rule::Zero);
    /// assert_eq!(e.component(), "Retry");
    /// ```
    pub fn component(&self) -> &'static str {
        self.component
    }

    /// The field, named as its builder method is.
    ///
    /// ```
    /// let e = weir_core::ConfigError::new("Retry", "max_attempts", weir_core::Rule::Zero);
    /// assert_eq!(e.field(), "max_attempts");
    /// ```
    pub fn field(&self) -> &'static str {
        self.field
    }

    /// The rule the value broke.
    ///
    /// ```
    /// use weir_core::{ConfigError, Rule};
    /// let e = ConfigError::new("WorkerPool", "min_threads", Rule::Exceeds("max_threads"));
    /// assert_eq!(e.rule(), &Rule::Exceeds("max_threads"));
    /// ```
    pub fn rule(&self) -> &Rule {
        &self.rule
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: `{}` ", self.component, self.field)?;
        match &self.rule {
            Rule::Zero => f.write_str("must be greater than zero"),
            Rule::NotFinite => f.write_str("must be a finite number"),
            Rule::OutOfRange(r) => write!(f, "must be within {r}"),
            Rule::Exceeds(other) => write!(f, "must not exceed `{other}`"),
            Rule::Below(other) => write!(f, "must be at least `{other}`"),
            Rule::TooLarge => f.write_str("is too large"),
            Rule::Missing => f.write_str("must be set"),
            Rule::Other(words) => f.write_str(words),
        }
    }
}

impl std::error::Error for ConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names_component_field_and_rule() {
        let cases = [
            (Rule::NotFinite, "X: `f` must be a finite number"),
            (
                Rule::OutOfRange("0.0..=1.0"),
                "X: `f` must be within 0.0..=1.0",
            ),
            (Rule::Exceeds("max"), "X: `f` must not exceed `max`"),
            (Rule::Below("min"), "X: `f` must be at least `min`"),
            (Rule::TooLarge, "X: `f` is too large"),
            (Rule::Missing, "X: `f` must be set"),
            (Rule::Other("must be odd"), "X: `f` must be odd"),
        ];
        for (rule, text) in cases {
            assert_eq!(ConfigError::new("X", "f", rule).to_string(), text);
        }
    }
}
