//! Runs weir on [smol](https://docs.rs/smol): timers from `async-io`, tasks on
//! smol's global executor, blocking work on the `blocking` thread pool.
//!
//! ```
//! use std::time::Duration;
//! use weir_core::Runtime;
//! use weir_smol::Smol;
//!
//! smol::block_on(async {
//!     let task = Smol.spawn(async {
//!         Smol.sleep(Duration::from_millis(1)).await;
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
pub use process::{SmolChild, SmolProcess};
pub use tcp::{SmolTcp, TcpManager};

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;
use std::time::Instant;

use async_io::Timer;
use async_task::Task;
use futures_lite::FutureExt;
use weir_core::{
    Runtime,
    rt::{JoinError, JoinHandle},
};

/// The smol runtime: `weir::Smol`.
///
/// Spawns on smol's global executor (`smol::spawn`), whose worker threads
/// start on first use; a `smol::block_on` on the caller's side is all a
/// program needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Smol;

impl Runtime for Smol {
    type Sleep = SmolSleep;
    type JoinHandle<T: Send + 'static> = SmolTask<T>;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn sleep_until(&self, deadline: Instant) -> SmolSleep {
        SmolSleep(Timer::at(deadline))
    }

    fn spawn<F>(&self, future: F) -> SmolTask<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        SmolTask(Some(smol::spawn(AssertUnwindSafe(future).catch_unwind())))
    }

    fn spawn_blocking<F, R>(&self, f: F) -> SmolTask<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        SmolTask(Some(blocking::unblock(move || {
            catch_unwind(AssertUnwindSafe(f))
        })))
    }
}

/// A sleep on async-io's timer.
#[derive(Debug)]
pub struct SmolSleep(Timer);

impl Future for SmolSleep {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

/// A task spawned on smol. Dropping it detaches the task (unlike a bare
/// `smol::Task`, which cancels on drop), so every weir runtime behaves alike.
pub struct SmolTask<T>(Option<Task<thread::Result<T>>>);

impl<T> fmt::Debug for SmolTask<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmolTask")
            .field("aborted", &self.0.is_none())
            .finish()
    }
}

impl<T> Future for SmolTask<T> {
    type Output = Result<T, JoinError>;
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.0.as_mut() {
            None => Poll::Ready(Err(JoinError::Cancelled)),
            Some(task) => Pin::new(task)
                .poll(cx)
                .map(|r| r.map_err(JoinError::Panicked)),
        }
    }
}

impl<T: Send + 'static> JoinHandle<T> for SmolTask<T> {
    fn abort(&mut self) {
        // Dropping an async-task Task cancels it: the future is dropped at
        // once, or right after its current poll if another thread runs it.
        self.0 = None;
    }

    fn detach(mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}

impl<T> Drop for SmolTask<T> {
    fn drop(&mut self) {
        if let Some(task) = self.0.take() {
            task.detach();
        }
    }
}
