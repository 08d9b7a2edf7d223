//! Stand-ins for weir pieces that were not committed when the demo was
//! wired: each one is the smallest thing that behaves like the weir
//! component it stands for, and [`crate::policy::ServerPolicy`] is the only
//! place that uses them, so swapping in the real component is a change to
//! that one file.
//!
//! None of these is a model for weir: they allocate, lock and skip the
//! edge cases (cancellation of a reservation, clock skew) the real ones
//! handle.

pub mod breaker;
pub mod rate;
pub mod retry;
