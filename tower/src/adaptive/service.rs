#![allow(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use tower_service::Service;
use weir_core::Error;
use weir_core::Runtime;
use weir_core::resilience::{Classify, ErrorIsFailure};
use weir_core::{
    AdaptiveLimiter,
    limit::{AdaptivePermit, BulkheadError, Limit},
};

use super::ResponseFuture;
use super::future::Sampled;
use crate::owned::Owned;
use crate::response::{Guarded, Refused};
use crate::shape::{IntoWeir, Wrap};

type Permit<R, L> = Owned<AdaptiveLimiter<R, L>, AdaptivePermit<'static, R, L>>;

/// The limiter's `acquire` is an `async fn`, so its future has no name:
/// a wait is boxed (only a caller that has to wait pays for it).
type Wait<R, L> =
    Pin<Box<dyn Future<Output = Result<AdaptivePermit<'static, R, L>, BulkheadError>> + Send>>;

enum Slot<R: Runtime, L: Limit + 'static> {
    Empty,
    Waiting(Owned<AdaptiveLimiter<R, L>, Wait<R, L>>),
    Reserved(Permit<R, L>),
    Refused(BulkheadError),
}

/// A service behind an [`AdaptiveLimiter`]; see the [module docs](super).
///
/// ```
/// use tower::{Service, ServiceExt};
/// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
/// use weir_tower::AdaptiveService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let b = Bulkhead::builder().max_concurrent(100).build(rt.clone()).unwrap();
/// let limiter = AdaptiveLimiter::new(b, Aimd::builder().initial(2).build().unwrap());
/// let mut svc = AdaptiveService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), limiter);
/// rt.block_on(async {
///     assert_eq!(svc.ready().await.unwrap().call(1).await, Ok(1));
/// });
/// // AIMD grows the limit by one on a success.
/// assert_eq!(svc.limiter().limit(), 3);
/// ```
pub struct AdaptiveService<S, R: Runtime, L: Limit + 'static, C = ErrorIsFailure, M = Wrap> {
    inner: S,
    shape: PhantomData<fn() -> M>,
    slot: Slot<R, L>,
    classify: C,
    limiter: Arc<AdaptiveLimiter<R, L>>,
}

impl<S, R: Runtime, L: Limit + 'static> AdaptiveService<S, R, L> {
    /// `inner` behind `limiter`; every error counts as a loss signal.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let svc = weir_tower::AdaptiveService::new(7u8, AdaptiveLimiter::new(b, Aimd::builder().build()?));
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(inner: S, limiter: AdaptiveLimiter<R, L>) -> Self {
        Self::from_shared(inner, Arc::new(limiter), ErrorIsFailure)
    }
}

impl<S, R: Runtime, L: Limit + 'static, C, M> AdaptiveService<S, R, L, C, M> {
    pub(crate) fn from_shared(inner: S, limiter: Arc<AdaptiveLimiter<R, L>>, classify: C) -> Self {
        AdaptiveService {
            inner,
            shape: PhantomData,
            slot: Slot::Empty,
            classify,
            limiter,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let svc = weir_tower::AdaptiveService::new(7u8, AdaptiveLimiter::new(b, Aimd::builder().build()?));
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The limiter, for its limit and stats.
    ///
    /// ```
    /// use weir_core::{AdaptiveLimiter, Bulkhead, limit::Aimd};
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = Bulkhead::builder().max_concurrent(100).build(rt)?;
    /// let svc = weir_tower::AdaptiveService::new((), AdaptiveLimiter::new(b, Aimd::builder().initial(5).build()?));
    /// assert_eq!(svc.limiter().limit(), 5);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn limiter(&self) -> &AdaptiveLimiter<R, L> {
        &self.limiter
    }

    fn try_now(&self) -> Result<Permit<R, L>, BulkheadError> {
        // SAFETY: the permit is stored in the returned `Owned` only.
        unsafe { Owned::new(&self.limiter, |l| l.try_acquire()) }.transpose()
    }

    fn poll_permit(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if let Slot::Empty = self.slot {
            self.slot = if self.limiter.bulkhead().queue_capacity() == 0 {
                match self.try_now() {
                    Ok(permit) => Slot::Reserved(permit),
                    Err(e) => Slot::Refused(e),
                }
            } else {
                // SAFETY: the wait is stored in the `Owned` only.
                let wait = unsafe {
                    Owned::new(&self.limiter, |l| -> Wait<R, L> { Box::pin(l.acquire()) })
                };
                Slot::Waiting(wait)
            };
        }
        if let Slot::Waiting(wait) = &mut self.slot {
            let Poll::Ready(out) = wait.poll(cx) else {
                return Poll::Pending;
            };
            self.slot = match out.transpose() {
                Ok(permit) => Slot::Reserved(permit),
                Err(e) => Slot::Refused(e),
            };
        }
        Poll::Ready(())
    }
}

impl<S: Clone, R: Runtime, L: Limit + 'static, C: Clone, M> Clone
    for AdaptiveService<S, R, L, C, M>
{
    /// A clone shares the limiter but not a permit this one holds.
    fn clone(&self) -> Self {
        Self::from_shared(
            self.inner.clone(),
            self.limiter.clone(),
            self.classify.clone(),
        )
    }
}

impl<S: fmt::Debug, R: Runtime, L: Limit + 'static, C, M> fmt::Debug
    for AdaptiveService<S, R, L, C, M>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = match &self.slot {
            Slot::Empty => "empty",
            Slot::Waiting(_) => "waiting",
            Slot::Reserved(_) => "permit held",
            Slot::Refused(_) => "refused",
        };
        f.debug_struct("AdaptiveService")
            .field("inner", &self.inner)
            .field("slot", &slot)
            .field("limiter", &*self.limiter)
            .finish_non_exhaustive()
    }
}

impl<S, R, L, C, M, Req> Service<Req> for AdaptiveService<S, R, L, C, M>
where
    S: Service<Req>,
    S::Error: IntoWeir<M>,
    R: Runtime,
    L: Limit + 'static,
    C: Classify<S::Response, S::Error> + Clone,
{
    type Response = S::Response;
    type Error = Error<<S::Error as IntoWeir<M>>::Inner>;
    type Future = ResponseFuture<S::Future, R, L, C, M>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.poll_permit(cx).is_pending() {
            return Poll::Pending;
        }
        match self.slot {
            // The call will fail without the inner service.
            Slot::Refused(_) => Poll::Ready(Ok(())),
            _ => self.inner.poll_ready(cx).map_err(IntoWeir::into_weir),
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let permit = match core::mem::replace(&mut self.slot, Slot::Empty) {
            Slot::Reserved(permit) => Ok(permit),
            Slot::Refused(e) => Err(e),
            // Called without `poll_ready` (or before the wait ended): the
            // limiter decides now, and a wait in progress leaves the line.
            Slot::Empty | Slot::Waiting(_) => self.try_now(),
        };
        ResponseFuture::new(match permit {
            Ok(permit) => {
                let guard = Sampled {
                    permit,
                    classify: self.classify.clone(),
                };
                Guarded::running(self.inner.call(req), guard)
            }
            Err(e) => Guarded::refused(Refused::Bulkhead(e)),
        })
    }
}
