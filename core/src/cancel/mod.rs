//! Cancellation tokens that form a tree, and deadlines that cancel them.
//!
//! A [`CancellationToken`] is a cheap, cloneable flag with a waitable
//! future. Cancelling a token cancels every token derived from it with
//! [`child_token`](CancellationToken::child_token), and never its parent: a request
//! scope can cancel its sub-calls without touching its siblings, and a
//! server shutdown cancels every scope at once.
//!
//! ```
//! use weir_core::CancellationToken;
//!
//! let shutdown = CancellationToken::new();
//! let request = shutdown.child_token();
//! let call = request.child_token();
//!
//! request.cancel();
//! assert!(call.is_cancelled());      // reaches down the tree
//! assert!(!shutdown.is_cancelled()); // never up
//! ```
//!
//! # Cancelling a wait
//!
//! weir's waiting points (semaphore acquire, queue receive, rate-limit wait,
//! retry back-off, scheduler jobs) are plain futures, and dropping one is
//! how every weir primitive gives back what the waiter held (a permit, a
//! slot, a wake-up). So one combinator serves them all:
//! [`cancellable`](CancellationToken::cancellable) runs a future until it
//! completes (`Ok`) or the token is cancelled (`Err(`[`CancelledError`]`)`,
//! and the future is dropped at once). The `?` operator then carries the
//! cancellation out of the caller like any other error.
//! [`run_until_cancelled`](CancellationToken::run_until_cancelled) is the
//! same with an `Option`.
//!
//! ```
//! use weir_core::{CancellationToken, cancel::CancelledError};
//!
//! # futures_lite::future::block_on(async {
//! let (tx, rx) = weir_core::queue::bounded::<u32>(4).unwrap();
//! let token = CancellationToken::new();
//! tx.send(1).await.unwrap();
//! assert_eq!(token.cancellable(rx.recv()).await, Ok(Ok(1)));
//! token.cancel();
//! // The queue is empty: the receive would wait, the token ends it.
//! assert_eq!(token.cancellable(rx.recv()).await, Err(CancelledError));
//! # });
//! ```
//!
//! # What a token costs
//!
//! `is_cancelled` is one atomic load; cloning is one atomic increment. The
//! tree keeps only tokens that someone still holds and that are not
//! cancelled: a token whose last handle is dropped leaves the tree and its
//! children move up to its parent, and a cancelled subtree leaves at once.
//! So a chain built as `t = t.child_token()` holds one node however long it gets,
//! and neither cancelling nor dropping walks the tree recursively.
//! Creating a child allocates once; cancelling allocates only when the
//! token has descendants; waiting in [`cancelled`](CancellationToken::cancelled)
//! allocates a listener.
//!
//! # Memory ordering
//!
//! Everything a thread did before `cancel()` happens before another thread
//! sees `is_cancelled() == true` or its `cancelled()` future complete.

#![forbid(unsafe_code)]

mod future;
pub(crate) mod token;
mod tree;

#[cfg(all(test, weir_loom))]
mod loom_tests;
#[cfg(test)]
mod tests;

pub use future::{Cancellable, Cancelled, CancelledError, DropGuard, RunUntilCancelled};
use token::CancellationToken;
