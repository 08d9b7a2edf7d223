//! A [`KeyedRateLimiter`](weir_core::KeyedRateLimiter) in front of a
//! service: one quota per key, the key computed from each request (a client
//! id, a host, an API key).
//!
//! The key exists only once the request does, so this limiter decides in
//! `call`, not in `poll_ready` (which reflects the inner service alone): a
//! call whose key is over its quota fails at once with
//! [`Error::RateLimited`](weir_core::Error::RateLimited) and its
//! `retry_after`, without reaching the inner service. A new key when the
//! map holds `max_keys` fails with
//! [`Error::Rejected`](weir_core::Error::Rejected)`(QueueFull)`.

mod future;
pub(crate) mod layer;
pub(crate) mod service;

pub use future::ResponseFuture;
