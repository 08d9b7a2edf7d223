//! The response future every gating service returns: the inner call with
//! what it holds (a permit, a breaker ticket), or a refusal decided before
//! the inner service was called.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::time::Duration;

use pin_project_lite::pin_project;
use weir_core::limit::BulkheadError;
use weir_core::{Error, policy::Rejection};

/// Something held for the length of a call and settled by its result.
pub(crate) trait Guard<T, E> {
    /// Settles with the inner service's result.
    fn finish(self, result: &Result<T, E>);
}

/// Nothing held: the rate limiters admit and keep no ticket.
impl<T, E> Guard<T, E> for () {
    fn finish(self, _: &Result<T, E>) {}
}

/// Why a gate refused a call before it reached the inner service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refused {
    RateLimited(Duration),
    CircuitOpen(Duration),
    Bulkhead(BulkheadError),
    /// A keyed limiter with no room for a new key.
    NoRoom,
}

impl Refused {
    pub(crate) fn into_error<E>(self) -> Error<E> {
        match self {
            Refused::RateLimited(retry_after) => Error::RateLimited { retry_after },
            Refused::CircuitOpen(remaining) => Error::CircuitOpen { remaining },
            Refused::Bulkhead(e) => bulkhead_error(e),
            Refused::NoRoom => Error::Rejected(Rejection::QueueFull),
        }
    }
}

/// The bulkhead's refusal as the pipeline names it (the same mapping as
/// weir-core's `BulkheadLayer`).
pub(crate) fn bulkhead_error<E>(e: BulkheadError) -> Error<E> {
    match e {
        BulkheadError::WaitTimeout => Error::Rejected(Rejection::WaitTimeout),
        BulkheadError::Closed => Error::Closed,
        // Queue full, or more permits than the limit: "no room now".
        _ => Error::Rejected(Rejection::QueueFull),
    }
}

pin_project! {
    #[project = GuardedProj]
    pub(crate) enum Guarded<F, G> {
        Running {
            #[pin]
            inner: F,
            guard: Option<G>,
        },
        Refused {
            why: Option<Refused>,
        },
    }
}

impl<F, G> Guarded<F, G> {
    pub(crate) fn running(inner: F, guard: G) -> Self {
        Guarded::Running {
            inner,
            guard: Some(guard),
        }
    }

    pub(crate) fn refused(why: Refused) -> Self {
        Guarded::Refused { why: Some(why) }
    }
}

/// A call's failure before it is shaped: the inner service's own error, or
/// the gate's refusal.
pub(crate) enum Failed<E> {
    Inner(E),
    Refused(Refused),
}

impl<E> Failed<E> {
    pub(crate) fn shape<M>(self) -> Error<E::Inner>
    where
        E: crate::shape::IntoWeir<M>,
    {
        match self {
            Failed::Inner(e) => e.into_weir(),
            Failed::Refused(why) => why.into_error(),
        }
    }
}

impl<F, G, T, E> Future for Guarded<F, G>
where
    F: Future<Output = Result<T, E>>,
    G: Guard<T, E>,
{
    type Output = Result<T, Failed<E>>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match self.project() {
            GuardedProj::Running { inner, guard } => {
                let out = ready!(inner.poll(cx));
                if let Some(guard) = guard.take() {
                    guard.finish(&out);
                }
                Poll::Ready(out.map_err(Failed::Inner))
            }
            GuardedProj::Refused { why } => Poll::Ready(Err(Failed::Refused(
                why.take()
                    .expect("response future polled after it completed"),
            ))),
        }
    }
}

/// Declares a folder's public `ResponseFuture` over [`Guarded`].
macro_rules! response_future {
    (
        $(#[$doc:meta])*
        pub struct ResponseFuture<F $(, $p:ident $(: $b:tt)?)*> $(where $wt:ident: $wl:lifetime)? { guard: $guard:ty }
    ) => {
        pin_project_lite::pin_project! {
            $(#[$doc])*
            pub struct ResponseFuture<F $(, $p $(: $b)?)*, M = $crate::shape::Wrap> $(where $wt: $wl)? {
                #[pin]
                inner: $crate::response::Guarded<F, $guard>,
                shape: core::marker::PhantomData<fn() -> M>,
            }
        }

        impl<F $(, $p $(: $b)?)*, M> ResponseFuture<F $(, $p)*, M> $(where $wt: $wl)? {
            pub(crate) fn new(inner: $crate::response::Guarded<F, $guard>) -> Self {
                ResponseFuture { inner, shape: core::marker::PhantomData }
            }
        }

        impl<F, T, E $(, $p $(: $b)?)*, M> core::future::Future for ResponseFuture<F $(, $p)*, M>
        where
            F: core::future::Future<Output = Result<T, E>>,
            $guard: $crate::response::Guard<T, E>,
            E: $crate::shape::IntoWeir<M>,
            $($wt: $wl,)?
        {
            type Output = Result<T, weir_core::Error<E::Inner>>;

            fn poll(
                self: core::pin::Pin<&mut Self>,
                cx: &mut core::task::Context<'_>,
            ) -> core::task::Poll<Self::Output> {
                self.project().inner.poll(cx).map_err(|e| e.shape::<M>())
            }
        }

        impl<F $(, $p $(: $b)?)*, M> core::fmt::Debug for ResponseFuture<F $(, $p)*, M> $(where $wt: $wl)? {
            fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
                let state = match &self.inner {
                    $crate::response::Guarded::Running { .. } => "running",
                    $crate::response::Guarded::Refused { .. } => "refused",
                };
                f.debug_struct("ResponseFuture").field("state", &state).finish()
            }
        }
    };
}
pub(crate) use response_future;
