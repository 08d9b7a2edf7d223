#![allow(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;
use core::task::{Context, Poll};
use std::sync::Arc;

use tower_service::Service;
use weir_core::Error;
use weir_core::Runtime;
use weir_core::{
    CircuitBreaker,
    resilience::{CallPermit, CircuitOpen, Classify},
};

use super::ResponseFuture;
use super::future::Ticket;
use crate::owned::Owned;
use crate::response::{Guarded, Refused};
use crate::shape::{IntoWeir, Wrap};

type Permit<R, C> = Owned<CircuitBreaker<R, C>, CallPermit<'static, R, C>>;

/// A service behind a [`CircuitBreaker`]; see the [module docs](super).
///
/// Errors are [`Error<S::Error>`](Error): the inner service's own error
/// as [`Error::Inner`], an open breaker as [`Error::CircuitOpen`].
///
/// ```
/// use std::time::Duration;
/// use tower::{Service, ServiceExt};
/// use weir_core::Error;
/// use weir_core::CircuitBreaker;
/// use weir_tower::BreakerService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let b = CircuitBreaker::builder().consecutive_failures(1)
///     .open_for(Duration::from_secs(30)).build(rt.clone()).unwrap();
/// let inner = tower::service_fn(|_: ()| async { Err::<(), _>("down") });
/// let mut svc = BreakerService::new(inner, rt.clone(), b);
/// rt.block_on(async {
///     assert_eq!(svc.ready().await.unwrap().call(()).await, Err(Error::Inner("down")));
///     // Open now: ready at once, and the call fails without the inner service.
///     let open = svc.ready().await.unwrap().call(()).await;
///     assert_eq!(open, Err(Error::CircuitOpen { remaining: Duration::from_secs(30) }));
/// });
/// ```
pub struct BreakerService<S, R: Runtime, C: 'static, M = Wrap> {
    inner: S,
    shape: PhantomData<fn() -> M>,
    slot: Option<Result<Permit<R, C>, CircuitOpen>>,
    rt: R,
    breaker: Arc<CircuitBreaker<R, C>>,
}

impl<S, R: Runtime, C: 'static> BreakerService<S, R, C> {
    /// `inner` behind `breaker`, timing calls on `rt`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone())?;
    /// let svc = weir_tower::BreakerService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), rt, b);
    /// # let _ = svc;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(inner: S, rt: R, breaker: CircuitBreaker<R, C>) -> Self {
        Self::from_shared(inner, rt, Arc::new(breaker))
    }
}

impl<S, R: Runtime, C: 'static, M> BreakerService<S, R, C, M> {
    pub(crate) fn from_shared(inner: S, rt: R, breaker: Arc<CircuitBreaker<R, C>>) -> Self {
        BreakerService {
            inner,
            shape: PhantomData,
            slot: None,
            rt,
            breaker,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::CircuitBreaker::builder().build(rt.clone())?;
    /// let svc = weir_tower::BreakerService::new(7u8, rt, b);
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    fn ask(&self) -> Result<Permit<R, C>, CircuitOpen> {
        // SAFETY: the permit is stored in the returned `Owned` only.
        unsafe { Owned::new(&self.breaker, |b| b.try_acquire()) }.transpose()
    }
}

impl<S: Clone, R: Runtime, C: 'static, M> Clone for BreakerService<S, R, C, M> {
    /// A clone shares the breaker but not a permit this one holds.
    fn clone(&self) -> Self {
        Self::from_shared(self.inner.clone(), self.rt.clone(), self.breaker.clone())
    }
}

impl<S: fmt::Debug, R: Runtime, C: 'static, M> fmt::Debug for BreakerService<S, R, C, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = match &self.slot {
            None => "empty",
            Some(Ok(_)) => "permit held",
            Some(Err(_)) => "refused",
        };
        f.debug_struct("BreakerService")
            .field("inner", &self.inner)
            .field("slot", &slot)
            .field("breaker", &*self.breaker)
            .finish()
    }
}

impl<S, R, C, M, Req> Service<Req> for BreakerService<S, R, C, M>
where
    S: Service<Req>,
    S::Error: IntoWeir<M>,
    R: Runtime,
    C: Classify<S::Response, S::Error> + 'static,
{
    type Response = S::Response;
    type Error = Error<<S::Error as IntoWeir<M>>::Inner>;
    type Future = ResponseFuture<S::Future, R, C, M>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        if self.slot.is_none() {
            self.slot = Some(self.ask());
        }
        match self.slot {
            // The call will fail without the inner service.
            Some(Err(_)) => Poll::Ready(Ok(())),
            _ => self.inner.poll_ready(cx).map_err(IntoWeir::into_weir),
        }
    }

    fn call(&mut self, req: Req) -> Self::Future {
        // Called without `poll_ready`: the breaker decides now.
        let permit = self.slot.take().unwrap_or_else(|| self.ask());
        ResponseFuture::new(match permit {
            Ok(permit) => {
                let start = self.rt.now();
                let ticket = Ticket {
                    permit,
                    rt: self.rt.clone(),
                    start,
                };
                Guarded::running(self.inner.call(req), ticket)
            }
            Err(open) => Guarded::refused(Refused::CircuitOpen(open.remaining)),
        })
    }
}
