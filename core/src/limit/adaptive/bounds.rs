//! The `[min, max]` range and starting point every provided limit shares.

use crate::ConfigError;
use crate::util::check::Check;
use core::ops::Bound;

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
        let c = Check::new(component);
        c.positive("min", self.min)?;
        c.at_most("max", self.max, MAX_LIMIT)?;
        c.not_above("min", self.min, "max", self.max)?;
        c.not_below("initial", self.initial, "min", self.min)?;
        c.not_above("initial", self.initial, "max", self.max)?;
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
    let top = if one_allowed {
        Bound::Included(1.0)
    } else {
        Bound::Excluded(1.0)
    };
    Check::new(component).finite_within(field, value, (Bound::Excluded(0.0), top), range)?;
    Ok(value)
}
