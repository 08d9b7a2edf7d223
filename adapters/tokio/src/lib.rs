//! Runs weir on [tokio](https://docs.rs/tokio): tokio's timer, `tokio::spawn`
//! and `spawn_blocking`.
//!
//! Every method must be called from inside a tokio runtime (as
//! `tokio::spawn` requires); tokio's paused clock (`tokio::time::pause`) is
//! honoured because [`Runtime::now`] reads tokio's clock.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::Runtime;
//! use weir_tokio::Tokio;
//!
//! let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
//! rt.block_on(async {
//!     let task = Tokio.spawn(async {
//!         Tokio.sleep(Duration::from_millis(1)).await;
//!         7
//!     });
//!     assert_eq!(task.await.unwrap(), 7);
//! });
//! ```

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod compat;
mod net;
mod process;
mod tcp;
pub use compat::Compat;
pub use net::TokioIoTcp;
pub use process::{TokioChild, TokioProcess};
pub use tcp::{TcpManager, TokioTcp};

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::time::Instant;

use weir_core::{
    Runtime,
    rt::{JoinError, JoinHandle},
};

/// The tokio runtime: `weir::Tokio`. Uses the runtime of the calling context.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Tokio;

impl Runtime for Tokio {
    type Sleep = tokio::time::Sleep;
    type JoinHandle<T: Send + 'static> = TokioTask<T>;

    fn now(&self) -> Instant {
        tokio::time::Instant::now().into_std()
    }

    fn sleep_until(&self, deadline: Instant) -> tokio::time::Sleep {
        tokio::time::sleep_until(deadline.into())
    }

    fn spawn<F>(&self, future: F) -> TokioTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        TokioTask(tokio::spawn(future))
    }

    fn spawn_blocking<F, R>(&self, f: F) -> TokioTask<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        TokioTask(tokio::task::spawn_blocking(f))
    }
}

/// A task spawned on tokio. Dropping it detaches the task.
pub struct TokioTask<T>(tokio::task::JoinHandle<T>);

impl<T> fmt::Debug for TokioTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("TokioTask").field(&self.0.id()).finish()
    }
}

impl<T> Future for TokioTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx).map(|r| {
            r.map_err(|e| match e.try_into_panic() {
                Ok(payload) => JoinError::Panicked(payload),
                Err(_) => JoinError::Cancelled,
            })
        })
    }
}

impl<T: Send + 'static> JoinHandle<T> for TokioTask<T> {
    fn abort(&mut self) {
        self.0.abort();
    }

    fn detach(self) {}
}
