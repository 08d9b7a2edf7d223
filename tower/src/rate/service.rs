#![allow(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;
use std::time::Duration;

use tower_service::Service;
use weir_core::RateLimiter;
use weir_core::Runtime;
use weir_core::limit::{Clock, RateAcquire};
use weir_core::{Error, policy::RateMode};

use super::ResponseFuture;
use crate::owned::Owned;
use crate::response::{Guarded, Refused};
use crate::shape::{IntoWeir, Wrap};

/// A wait in the limiter's line, boxed so that the service need not be
/// pinned.
type Wait<R, C> = Owned<RateLimiter<R, C>, Pin<Box<RateAcquire<'static, R, C>>>>;

/// What the last `poll_ready` settled, for the next `call`.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Empty,
    Admitted,
    Refused(Duration),
}

/// A service behind a [`RateLimiter`]; see the [module docs](super).
///
/// ```
/// use std::time::Duration;
/// use tower::{Service, ServiceExt};
/// use weir_core::RateLimiter;
/// use weir_core::Error;
/// use weir_tower::RateLimitService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let l = RateLimiter::builder().quota(weir_core::Quota::new(1, Duration::from_secs(1))).build(rt.clone()).unwrap();
/// let mut svc = RateLimitService::or_reject(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), l);
/// rt.block_on(async {
///     assert_eq!(svc.ready().await.unwrap().call(1).await, Ok(1));
///     let second = svc.ready().await.unwrap().call(2).await;
///     assert_eq!(second, Err(Error::RateLimited { retry_after: Duration::from_secs(1) }));
/// });
/// ```
pub struct RateLimitService<S, R: Runtime, C: Clock = R, M = Wrap> {
    inner: S,
    shape: PhantomData<fn() -> M>,
    slot: Slot,
    mode: RateMode,
    /// The wait in the limiter's line; the box is kept for the next wait.
    waiting: Option<Wait<R, C>>,
    in_line: bool,
    limiter: Arc<RateLimiter<R, C>>,
}

impl<S, R: Runtime, C: Clock> RateLimitService<S, R, C> {
    /// `inner` behind `limiter`, waiting for each call's slot.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let svc = weir_tower::RateLimitService::new(7u8, l);
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(inner: S, limiter: RateLimiter<R, C>) -> Self {
        Self::from_shared(inner, Arc::new(limiter), RateMode::Wait)
    }

    /// `inner` behind `limiter`, failing calls that do not conform now.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// let svc = weir_tower::RateLimitService::or_reject(7u8, l);
    /// # let _ = svc;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn or_reject(inner: S, limiter: RateLimiter<R, C>) -> Self {
        Self::from_shared(inner, Arc::new(limiter), RateMode::Reject)
    }
}

impl<S, R: Runtime, C: Clock, M> RateLimitService<S, R, C, M> {
    pub(crate) fn from_shared(inner: S, limiter: Arc<RateLimiter<R, C>>, mode: RateMode) -> Self {
        RateLimitService {
            inner,
            shape: PhantomData,
            slot: Slot::Empty,
            mode,
            waiting: None,
            in_line: false,
            limiter,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, std::time::Duration::from_secs(1))).build(rt)?;
    /// assert_eq!(*weir_tower::RateLimitService::new(7u8, l).get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn poll_slot(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !matches!(self.slot, Slot::Empty) {
            return Poll::Ready(());
        }
        if !self.in_line {
            // A conforming call is admitted without a future or a timer.
            let retry_after = match self.limiter.try_acquire() {
                Ok(()) => {
                    self.slot = Slot::Admitted;
                    return Poll::Ready(());
                }
                Err(limited) => limited.retry_after,
            };
            if self.mode == RateMode::Reject {
                self.slot = Slot::Refused(retry_after);
                return Poll::Ready(());
            }
            match &mut self.waiting {
                // SAFETY: the wait is stored in the `Owned` only.
                Some(w) => unsafe { w.replace(|l, fut| fut.set(l.acquire())) },
                None => {
                    // SAFETY: as above.
                    let w = unsafe { Owned::new(&self.limiter, |l| Box::pin(l.acquire())) };
                    self.waiting = Some(w);
                }
            }
            self.in_line = true;
        }
        let waiting = self.waiting.as_mut().expect("a wait was started above");
        if waiting.poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.in_line = false;
        self.slot = Slot::Admitted;
        Poll::Ready(())
    }
}

impl<S: Clone, R: Runtime, C: Clock, M> Clone for RateLimitService<S, R, C, M> {
    /// A clone shares the limiter but not a slot this one was granted.
    fn clone(&self) -> Self {
        Self::from_shared(self.inner.clone(), self.limiter.clone(), self.mode)
    }
}

impl<S: fmt::Debug, R: Runtime, C: Clock, M> fmt::Debug for RateLimitService<S, R, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimitService")
            .field("inner", &self.inner)
            .field("slot", &self.slot)
            .field("waiting", &self.in_line)
            .field("mode", &self.mode)
            .field("limiter", &*self.limiter)
            .finish()
    }
}

impl<S, R, C, M, Req> Service<Req> for RateLimitService<S, R, C, M>
where
    S: Service<Req>,
    S::Error: IntoWeir<M>,
    R: Runtime,
    C: Clock,
{
    type Response = S::Response;
    type Error = Error<<S::Error as IntoWeir<M>>::Inner>;
    type Future = ResponseFuture<S::Future, M>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.poll_slot(cx).is_pending() {
            return Poll::Pending;
        }
        match self.slot {
            // The call will fail without the inner service.
            Slot::Refused(_) => Poll::Ready(Ok(())),
            _ => self.inner.poll_ready(cx).map_err(IntoWeir::into_weir),
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let slot = match core::mem::replace(&mut self.slot, Slot::Empty) {
            // Called without `poll_ready`: the limiter decides now.
            Slot::Empty => match self.limiter.try_acquire() {
                Ok(()) => Slot::Admitted,
                Err(limited) => Slot::Refused(limited.retry_after),
            },
            settled => settled,
        };
        ResponseFuture::new(match slot {
            Slot::Refused(retry_after) => Guarded::refused(Refused::RateLimited(retry_after)),
            _ => Guarded::running(self.inner.call(req), ()),
        })
    }
}
