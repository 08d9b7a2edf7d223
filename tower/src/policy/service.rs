use core::fmt;
use core::future::poll_fn;
use core::task::{Context, Poll};
use std::sync::{Arc, Mutex, PoisonError};

use tower_service::Service;
use weir_core::Runtime;
use weir_core::{Error, Policy, policy::Stage};

use super::ResponseFuture;

/// A service whose calls run through a [`Policy`]; see the
/// [module docs](super).
///
/// Errors are [`Error<S::Error>`](Error): the inner service's error as
/// [`Error::Inner`], the pipeline's own outcomes as weir names them.
///
/// ```
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::sync::Arc;
/// use std::time::Duration;
/// use tower::{Service, ServiceExt};
/// use weir_core::Policy;
/// use weir_core::Retry;
/// use weir_tower::PolicyService;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let retry = Retry::constant(Duration::from_millis(100)).max_attempts(3).build().unwrap();
/// let calls = Arc::new(AtomicU32::new(0));
/// let seen = calls.clone();
/// let flaky = tower::service_fn(move |x: u32| {
///     let n = seen.fetch_add(1, Ordering::SeqCst);
///     async move { if n < 2 { Err("flaky") } else { Ok(x) } }
/// });
/// let mut svc = PolicyService::new(flaky, Policy::new(rt.clone()).retry(retry));
/// assert_eq!(rt.block_on(async { svc.ready().await.unwrap().call(9).await }), Ok(9));
/// assert_eq!(calls.load(Ordering::SeqCst), 3);
/// assert_eq!(rt.elapsed(), Duration::from_millis(200));
/// ```
pub struct PolicyService<S, R: Runtime, L> {
    inner: S,
    policy: Arc<Policy<R, L>>,
}

impl<S, R: Runtime, L> PolicyService<S, R, L> {
    /// `inner` with every call run through `policy`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let svc = weir_tower::PolicyService::new(7u8, weir_core::Policy::new(rt));
    /// assert_eq!(*svc.get_ref(), 7);
    /// ```
    pub fn new(inner: S, policy: Policy<R, L>) -> Self {
        Self::shared(inner, Arc::new(policy))
    }

    pub(crate) fn shared(inner: S, policy: Arc<Policy<R, L>>) -> Self {
        PolicyService { inner, policy }
    }

    /// The inner service.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let svc = weir_tower::PolicyService::new(7u8, weir_core::Policy::new(rt));
    /// assert_eq!(*svc.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }
}

impl<S: Clone, R: Runtime, L> Clone for PolicyService<S, R, L> {
    fn clone(&self) -> Self {
        PolicyService {
            inner: self.inner.clone(),
            policy: self.policy.clone(),
        }
    }
}

impl<S: fmt::Debug, R: Runtime, L: fmt::Debug> fmt::Debug for PolicyService<S, R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyService")
            .field("inner", &self.inner)
            .field("policy", &*self.policy)
            .finish()
    }
}

/// What each attempt takes its service and request from.
struct Attempts<S, Req> {
    /// The instance `poll_ready` readied, for the first attempt.
    ready: Option<S>,
    template: S,
    req: Req,
}

impl<S, R, L, Req> Service<Req> for PolicyService<S, R, L>
where
    S: Service<Req> + Clone + Send + 'static,
    S::Future: Send,
    S::Response: Send + 'static,
    S::Error: Send + 'static,
    Req: Clone + Send + 'static,
    R: Runtime,
    L: Stage<R, S::Response, S::Error> + Send + 'static,
{
    type Response = S::Response;
    type Error = Error<S::Error>;
    type Future = ResponseFuture<S::Response, S::Error>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Error::Inner)
    }

    fn call(&mut self, req: Req) -> Self::Future {
        let template = self.inner.clone();
        // The readied instance goes with the call (its readiness may hold
        // a reservation); `self` keeps a fresh clone, to be readied anew.
        let ready = core::mem::replace(&mut self.inner, template.clone());
        let policy = self.policy.clone();
        Box::pin(async move {
            let attempts = Mutex::new(Attempts {
                ready: Some(ready),
                template,
                req,
            });
            policy
                .call(|| {
                    let (mut svc, req) = {
                        let mut a = attempts.lock().unwrap_or_else(PoisonError::into_inner);
                        let svc = a.ready.take().unwrap_or_else(|| a.template.clone());
                        (svc, a.req.clone())
                    };
                    async move {
                        poll_fn(|cx| svc.poll_ready(cx)).await?;
                        svc.call(req).await
                    }
                })
                .await
        })
    }
}
