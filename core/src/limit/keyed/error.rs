//! Why a keyed check refused.

use core::fmt;
use std::time::Duration;

use crate::limit::{InsufficientCapacity, RateLimited};

/// Why a keyed check refused.
///
/// ```
/// use weir_core::limit::KeyedError;
/// let e = KeyedError::KeyLimitReached { max_keys: 10 };
/// assert_eq!(e.to_string(), "key limit of 10 reached: no room for a new key");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyedError {
    /// This key's units do not conform yet.
    RateLimited(RateLimited),
    /// More units than the burst were asked for.
    InsufficientCapacity(InsufficientCapacity),
    /// The key is new and the map holds `max_keys` live keys.
    KeyLimitReached {
        /// The configured limit.
        max_keys: usize,
    },
}

impl KeyedError {
    /// When to try again, or `None` if waiting alone cannot help.
    ///
    /// ```
    /// use weir_core::limit::KeyedError;
    /// assert_eq!(KeyedError::KeyLimitReached { max_keys: 1 }.retry_after(), None);
    /// ```
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            KeyedError::RateLimited(r) => Some(r.retry_after),
            _ => None,
        }
    }
}

impl fmt::Display for KeyedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyedError::RateLimited(e) => e.fmt(f),
            KeyedError::InsufficientCapacity(e) => e.fmt(f),
            KeyedError::KeyLimitReached { max_keys } => {
                write!(f, "key limit of {max_keys} reached: no room for a new key")
            }
        }
    }
}

impl std::error::Error for KeyedError {}
