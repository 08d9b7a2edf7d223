//! Runs weir on [async-std](https://docs.rs/async-std).
//!
//! async-std is discontinued upstream; this adapter is kept thin for
//! programs that already run on it, and new code should prefer `weir-smol`
//! (async-std itself runs on the smol-rs crates). Timers are `async-io`'s,
//! the timer async-std uses; tasks go to `async_std::task::spawn` and
//! `spawn_blocking`.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::Runtime;
//! use weir_async_std::AsyncStd;
//!
//! async_std::task::block_on(async {
//!     let task = AsyncStd.spawn(async {
//!         AsyncStd.sleep(Duration::from_millis(1)).await;
//!         7
//!     });
//!     assert_eq!(task.await.unwrap(), 7);
//! });
//! ```

#![warn(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![forbid(unsafe_code)]

mod net;
mod process;
mod tcp;
pub use process::{AsyncStdChild, AsyncStdProcess};
pub use tcp::{AsyncStdTcp, TcpManager};

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::Instant;

use async_io::Timer;
use async_std::task::JoinHandle as StdHandle;
use futures_lite::FutureExt;
use weir_core::{
    Runtime,
    rt::{JoinError, JoinHandle},
};

/// The async-std runtime: `weir::AsyncStd`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Sleep = AsyncStdSleep;
    type JoinHandle<T: Send + 'static> = AsyncStdTask<T>;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> AsyncStdSleep {
        AsyncStdSleep(Timer::at(deadline))
    }

    fn spawn<F>(&self, future: F) -> AsyncStdTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        AsyncStdTask(Some(async_std::task::spawn(
            AssertUnwindSafe(future).catch_unwind(),
        )))
    }

    fn spawn_blocking<F, R>(&self, f: F) -> AsyncStdTask<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        AsyncStdTask(Some(async_std::task::spawn_blocking(move || {
            catch_unwind(AssertUnwindSafe(f))
        })))
    }
}

/// A sleep on async-io's timer.
#[derive(Debug)]
pub struct AsyncStdSleep(Timer);

impl Future for AsyncStdSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

/// A task spawned on async-std. Dropping it detaches the task.
pub struct AsyncStdTask<T>(Option<StdHandle<thread::Result<T>>>);

impl<T> fmt::Debug for AsyncStdTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsyncStdTask")
            .field("aborted", &self.0.is_none())
            .finish()
    }
}

impl<T> Future for AsyncStdTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            None => Poll::Ready(Err(JoinError::Cancelled)),
            Some(handle) => Pin::new(handle)
                .poll(cx)
                .map(|r| r.map_err(JoinError::Panicked)),
        }
    }
}

impl<T: Send + 'static> JoinHandle<T> for AsyncStdTask<T> {
    fn abort(&mut self) {
        if let Some(handle) = self.0.take() {
            // `cancel` is async: it drops the future and then reports. The
            // task that drives it is detached; the user's future is dropped
            // as soon as the executor processes the cancellation.
            async_std::task::spawn(async move {
                handle.cancel().await;
            });
        }
    }

    fn detach(mut self) {
        self.0.take();
    }
}
