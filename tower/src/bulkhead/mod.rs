//! A [`Bulkhead`](weir_core::Bulkhead) in front of a service:
//! at most N calls in flight, with honest readiness.
//!
//! `poll_ready` takes the permit, `call` moves it into the response future,
//! and the permit goes back when that future completes or is dropped (as
//! tower's `ConcurrencyLimit` does). While every permit is taken:
//!
//! * with room in the bulkhead's queue (`queue_capacity > 0`), `poll_ready` is
//!   `Pending` in the bulkhead's line and the task is woken when a permit
//!   returns to it;
//! * with no room (`queue_capacity = 0`, the default, a full queue, or
//!   `acquire_timeout` spent waiting), `poll_ready` is `Ready` and the call fails
//!   at once with [`Error::Rejected`](weir_core::Error::Rejected),
//!   without reaching the inner service: the bulkhead's own rules decide
//!   who waits, and a caller is never parked where the bulkhead would have
//!   refused it.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
