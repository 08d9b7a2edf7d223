//! The `[min, max]` range and starting point every provided limit shares.

use crate::{ConfigError, Rule};

/// The largest limit a bulkhead takes.
const MAX_LIMIT: u32 = (1 << 31) - 1;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Bounds {
    pub(super) initial: u32,
    pub(super) min: u32,
    pub(super) max: u32,
}

impl Bounds {
    pub(super) fn check(self, component: &'static str) -> Result<Self, ConfigError> {
        let err = |field, rule| Err(ConfigError::new(component, field, rule));
        if self.min == 0 {
            return err("min", Rule::Zero);
        }
        if self.max > MAX_LIMIT {
            return err("max", Rule::TooLarge);
        }
        if self.min > self.max {
            return err("min", Rule::Exceeds("max"));
        }
        if self.initial < self.min {
            return err("initial", Rule::Below("min"));
        }
        if self.initial > self.max {
            return err("initial", Rule::Exceeds("max"));
        }
        Ok(self)
    }

    /// Clamps a computed limit (finite or not) into the bounds.
    pub(super) fn clamp(&self, limit: f64) -> f64 {
        if limit.is_nan() {
            return f64::from(self.min);
        }
        limit.clamp(f64::from(self.min), f64::from(self.max))
    }
}

/// Checks a factor that must be a finite number in `(0, 1)` or `(0, 1]`.
pub(super) fn check_fraction(
    component: &'static str,
    field: &'static str,
    value: f64,
    one_allowed: bool,
) -> Result<f64, ConfigError> {
    let range = if one_allowed {
        "0.0 < x <= 1.0"
    } else {
        "0.0 < x < 1.0"
    };
    if !value.is_finite() {
        return Err(ConfigError::new(component, field, Rule::NotFinite));
    }
    let fits = value > 0.0 && (value < 1.0 || (one_allowed && value == 1.0));
    if !fits {
        return Err(ConfigError::new(component, field, Rule::OutOfRange(range)));
    }
    Ok(value)
}
