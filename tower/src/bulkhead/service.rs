#![allow(unsafe_code)]

use core::fmt;
use core::marker::PhantomData;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

use tower_service::Service;
use weir_core::Error;
use weir_core::Runtime;
use weir_core::{
    Bulkhead,
    limit::{BulkheadAcquire, BulkheadError},
};

use super::ResponseFuture;
use super::future::Permit;
use crate::owned::Owned;
use crate::response::{Guarded, Refused};
use crate::shape::{IntoWeir, Wrap};

/// A wait in the bulkhead's line, boxed so that the service need not be
/// pinned.
type Wait<R> = Owned<Bulkhead<R>, Pin<Box<BulkheadAcquire<'static, R>>>>;

/// What the last `poll_ready` settled, for the next `call`.
enum Slot<R> {
    Empty,
    Reserved(Permit<R>),
    Refused(BulkheadError),
}

/// A service behind a [`Bulkhead`]; see the [module docs](super).
///
/// Errors are [`Error<S::Error>`](Error): the inner service's own error
/// as [`Error::Inner`], the bulkhead's refusals as weir names them (over an
/// inner service that already answers with weir's `Error<E>`, the layer's
/// [`flat`](crate::BulkheadLayer::flat) keeps it `Error<E>`; see
/// [`shape`](crate::shape)).
///
/// ```
/// use tower::{Service, ServiceExt};
/// use weir_core::Bulkhead;
/// use weir_core::{Error, policy::Rejection};
/// use weir_tower::BulkheadService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let b = Bulkhead::builder().max_concurrent(1).queue_capacity(0).build(rt.clone()).unwrap();
/// let inner = tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) });
/// let mut first = BulkheadService::new(inner, b);
/// let mut second = first.clone();
/// rt.block_on(async {
///     // The first caller holds the only permit from readiness on...
///     first.ready().await.unwrap();
///     // ...so the second, with no queue to wait in, is refused at once.
///     let refused = second.ready().await.unwrap().call(2).await;
///     assert_eq!(refused, Err(Error::Rejected(Rejection::QueueFull)));
///     assert_eq!(first.call(1).await, Ok(1));
/// });
/// ```
pub struct BulkheadService<S, R: Runtime, M = Wrap> {
    inner: S,
    shape: PhantomData<fn() -> M>,
    slot: Slot<R>,
    /// The wait in the bulkhead's line; the box is kept for the next wait.
    waiting: Option<Wait<R>>,
    in_line: bool,
    bulkhead: Arc<Bulkhead<R>>,
}

impl<S, R: Runtime> BulkheadService<S, R> {
    /// `inner` behind `bulkhead`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(4).build(rt)?;
    /// let svc = weir_tower::BulkheadService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), b);
    /// # let _ = svc;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn new(inner: S, bulkhead: Bulkhead<R>) -> Self {
        Self::from_shared(inner, Arc::new(bulkhead))
    }
}

impl<S, R: Runtime, M> BulkheadService<S, R, M> {
    pub(crate) fn from_shared(inner: S, bulkhead: Arc<Bulkhead<R>>) -> Self {
        BulkheadService {
            inner,
            shape: PhantomData,
            slot: Slot::Empty,
            waiting: None,
            in_line: false,
            bulkhead,
        }
    }

    /// The inner service.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_core::Bulkhead::builder().max_concurrent(4).build(rt)?;
    /// let svc = weir_tower::BulkheadService::new(7u8, b);
    /// assert_eq!(*svc.get_ref(), 7);
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// Settles the slot: a permit, a refusal, or `Pending` in line.
    fn poll_permit(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if !matches!(self.slot, Slot::Empty) {
            return Poll::Ready(());
        }
        if !self.in_line {
            if self.bulkhead.queue_capacity() == 0 {
                // No queue to wait in: take a free permit or be refused.
                // SAFETY: the permit is stored in the returned `Owned` only.
                let tried = unsafe { Owned::new(&self.bulkhead, |b| b.try_acquire()) };
                self.slot = match tried.transpose() {
                    Ok(permit) => Slot::Reserved(permit),
                    Err(e) => Slot::Refused(e),
                };
                return Poll::Ready(());
            }
            match &mut self.waiting {
                // SAFETY: the wait is stored in the `Owned` only.
                Some(w) => unsafe { w.replace(|b, fut| fut.set(b.acquire())) },
                None => {
                    // SAFETY: as above.
                    let w = unsafe { Owned::new(&self.bulkhead, |b| Box::pin(b.acquire())) };
                    self.waiting = Some(w);
                }
            }
            self.in_line = true;
        }
        let waiting = self.waiting.as_mut().expect("a wait was started above");
        let Poll::Ready(out) = waiting.poll(cx) else {
            return Poll::Pending;
        };
        self.in_line = false;
        self.slot = match out.transpose() {
            Ok(permit) => Slot::Reserved(permit),
            Err(e) => Slot::Refused(e),
        };
        Poll::Ready(())
    }
}

impl<S: Clone, R: Runtime, M> Clone for BulkheadService<S, R, M> {
    /// A clone shares the bulkhead but not a permit this one holds.
    fn clone(&self) -> Self {
        Self::from_shared(self.inner.clone(), self.bulkhead.clone())
    }
}

impl<S: fmt::Debug, R: Runtime, M> fmt::Debug for BulkheadService<S, R, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let slot = match &self.slot {
            Slot::Empty if self.in_line => "waiting",
            Slot::Empty => "empty",
            Slot::Reserved(_) => "permit held",
            Slot::Refused(_) => "refused",
        };
        f.debug_struct("BulkheadService")
            .field("inner", &self.inner)
            .field("slot", &slot)
            .field("bulkhead", &*self.bulkhead)
            .finish()
    }
}

impl<S, R, M, Req> Service<Req> for BulkheadService<S, R, M>
where
    S: Service<Req>,
    S::Error: IntoWeir<M>,
    R: Runtime,
{
    type Response = S::Response;
    type Error = Error<<S::Error as IntoWeir<M>>::Inner>;
    type Future = ResponseFuture<S::Future, R, M>;

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
        let slot = core::mem::replace(&mut self.slot, Slot::Empty);
        let permit = match slot {
            Slot::Reserved(permit) => Ok(permit),
            Slot::Refused(e) => Err(e),
            // Called without `poll_ready`: a free permit or a refusal, now.
            // SAFETY: the permit is stored in the returned `Owned` only.
            Slot::Empty => unsafe { Owned::new(&self.bulkhead, |b| b.try_acquire()) }.transpose(),
        };
        ResponseFuture::new(match permit {
            Ok(permit) => Guarded::running(self.inner.call(req), permit),
            Err(e) => Guarded::refused(Refused::Bulkhead(e)),
        })
    }
}
