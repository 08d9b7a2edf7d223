//! The futures returned by the `acquire` and `acquire_owned` families.
//! Each embeds its waiter node, so waiting allocates nothing; that makes
//! them `!Unpin` (pin them with `pin!` or `Box::pin` to poll them by hand).

#![allow(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::ops::Deref;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::raw::{MAX_PERMITS, TakeError};
use super::waitlist::Waiter;
use super::{AcquireError, OwnedPermit, Permit, Semaphore};
use std::sync::Arc;

pin_project! {
    /// One acquisition in progress over any handle to a semaphore.
    ///
    /// `linked` stays true from the first `Pending` until the outcome is
    /// read, and the destructor then hands the node to `cancel`, which
    /// unlinks it and returns whatever it was granted.
    struct Wait<S: Deref<Target = Semaphore>> {
        sem: Option<S>,
        need: usize,
        linked: bool,
        #[pin]
        node: Waiter,
    }

    impl<S: Deref<Target = Semaphore>> PinnedDrop for Wait<S> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(sem) = this.sem {
                // SAFETY: the same node, need and record as every poll;
                // the node stays pinned until this destructor returns.
                unsafe { sem.raw.cancel(this.node.as_ref(), *this.need, *this.linked) };
            }
        }
    }
}

impl<S: Deref<Target = Semaphore>> Wait<S> {
    fn new(sem: S, need: usize) -> Self {
        Wait {
            sem: Some(sem),
            need,
            linked: false,
            node: Waiter::new(),
        }
    }

    /// On success hands back the semaphore handle with the permits now
    /// owned; afterwards the future is spent.
    fn poll_wait(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<S, AcquireError>> {
        let this = self.project();
        let sem = this.sem.as_ref().expect("Acquire polled after completion");
        let need = *this.need;
        let out = if need > MAX_PERMITS {
            Err(AcquireError::TooLarge { requested: need })
        } else if need == 0 {
            if sem.raw.is_closed() {
                Err(AcquireError::Closed)
            } else {
                Ok(())
            }
        } else {
            // SAFETY: this future's own pinned node, with the same need and
            // record on every call; `sem` is taken below once Ready, so no
            // call follows it, and Drop passes the same to `cancel`.
            match unsafe {
                sem.raw
                    .poll_acquire(this.node.as_ref(), need, this.linked, cx)
            } {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(r) => r.map_err(|e| match e {
                    TakeError::Closed | TakeError::NoPermits => AcquireError::Closed,
                    TakeError::ExceedsTotal(total) => AcquireError::ExceedsTotal {
                        requested: need,
                        total,
                    },
                }),
            }
        };
        let sem = this.sem.take().expect("checked above");
        Poll::Ready(out.map(|()| sem))
    }
}

pin_project! {
    /// The future of [`Semaphore::acquire`] and [`Semaphore::acquire_many`]: resolves to a [`Permit`] once
    /// the permits are granted. Dropping it while it waits gives back
    /// anything it was already granted.
    ///
    /// ```
    /// use weir_core::Semaphore;
    ///
    /// let sem = Semaphore::new(2);
    /// let permit = futures_lite::future::block_on(sem.acquire_many(2)).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct Acquire<'a> {
        #[pin]
        inner: Wait<&'a Semaphore>,
    }
}

impl<'a> Acquire<'a> {
    pub(super) fn new(sem: &'a Semaphore, n: usize) -> Self {
        Acquire {
            inner: Wait::new(sem, n),
        }
    }
}

impl<'a> Future for Acquire<'a> {
    type Output = Result<Permit<'a>, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let need = this.inner.need;
        this.inner
            .poll_wait(cx)
            .map(|r| r.map(|sem| Permit::new(sem, need)))
    }
}

impl fmt::Debug for Acquire<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Acquire")
            .field("permits", &self.inner.need)
            .field("waiting", &self.inner.linked)
            .finish()
    }
}

pin_project! {
    /// The future of [`Semaphore::acquire_owned`] and
    /// [`Semaphore::acquire_many_owned`]: like [`Acquire`], but
    /// holds an `Arc` of the semaphore and resolves to an [`OwnedPermit`]
    /// that can move into a spawned task.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use weir_core::Semaphore;
    ///
    /// let sem = Arc::new(Semaphore::new(1));
    /// let permit = futures_lite::future::block_on(sem.clone().acquire_owned()).unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// drop(permit);
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct AcquireOwned {
        #[pin]
        inner: Wait<Arc<Semaphore>>,
    }
}

impl AcquireOwned {
    pub(super) fn new(sem: Arc<Semaphore>, n: usize) -> Self {
        AcquireOwned {
            inner: Wait::new(sem, n),
        }
    }
}

impl Future for AcquireOwned {
    type Output = Result<OwnedPermit, AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let need = this.inner.need;
        this.inner
            .poll_wait(cx)
            .map(|r| r.map(|sem| OwnedPermit::new(sem, need)))
    }
}

impl fmt::Debug for AcquireOwned {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AcquireOwned")
            .field("permits", &self.inner.need)
            .field("waiting", &self.inner.linked)
            .finish()
    }
}
