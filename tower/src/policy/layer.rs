use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use weir_core::Runtime;
use weir_core::{Hedge, Retry};
use weir_core::{
    Policy,
    policy::{self, Bare, Chain},
};

use crate::PolicyService;

/// Runs every call of the wrapped service through a [`Policy`]; see the
/// [module docs](super).
///
/// ```
/// use std::time::Duration;
/// use tower::{Service, ServiceBuilder, ServiceExt};
/// use weir_core::Policy;
/// use weir_core::Retry;
/// use weir_tower::PolicyLayer;
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let retry = Retry::constant(Duration::from_millis(100)).max_attempts(3).build()?;
/// let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(5)).retry(retry);
/// let mut svc = ServiceBuilder::new()
///     .layer(PolicyLayer::new(policy))
///     .service_fn(|x: u32| async move { Ok::<_, std::io::Error>(x + 1) });
/// let reply = rt.block_on(async { svc.ready().await?.call(1).await });
/// assert_eq!(reply.unwrap(), 2);
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub struct PolicyLayer<R: Runtime, L> {
    policy: Arc<Policy<R, L>>,
}

/// A lone timeout as a layer: see [`PolicyLayer::timeout`].
///
/// ```
/// # let rt = weir_core::test_util::VirtualRuntime::new();
/// let layer: weir_tower::TimeoutLayer<_> =
///     weir_tower::PolicyLayer::timeout(rt, std::time::Duration::from_secs(1));
/// # let _ = layer;
/// ```
pub type TimeoutLayer<R> = PolicyLayer<R, Chain<Bare, policy::TimeoutStage>>;

/// A lone retry as a layer: see [`PolicyLayer::retry`].
///
/// ```
/// use weir_core::{Retry, resilience::{AnyError, NoHint, NoHook, NoValue}};
/// # let rt = weir_core::test_util::VirtualRuntime::new();
/// let retry = Retry::constant(std::time::Duration::from_millis(10)).build()?;
/// let layer: weir_tower::RetryLayer<_, AnyError, NoValue, NoHint, NoHook> =
///     weir_tower::PolicyLayer::retry(rt, retry);
/// # let _ = layer;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub type RetryLayer<R, P, V, H, N> = PolicyLayer<R, Chain<Bare, policy::RetryStage<P, V, H, N>>>;

/// A lone hedge as a layer: see [`PolicyLayer::hedge`].
///
/// ```
/// # let rt = weir_core::test_util::VirtualRuntime::new();
/// let hedge = weir_core::Hedge::fixed(std::time::Duration::from_millis(30)).build()?;
/// let layer: weir_tower::HedgeLayer<_> = weir_tower::PolicyLayer::hedge(rt, hedge);
/// # let _ = layer;
/// # Ok::<(), weir_core::ConfigError>(())
/// ```
pub type HedgeLayer<R> = PolicyLayer<R, Chain<Bare, policy::HedgeStage>>;

impl<R: Runtime, L> PolicyLayer<R, L> {
    /// A layer running each call through `policy`.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let policy = weir_core::Policy::new(rt).timeout(std::time::Duration::from_secs(1));
    /// let layer = weir_tower::PolicyLayer::new(policy);
    /// # let _ = layer;
    /// ```
    pub fn new(policy: Policy<R, L>) -> Self {
        Self::shared(Arc::new(policy))
    }

    /// As [`new`](Self::new), for a policy shared with other code.
    ///
    /// ```
    /// use std::sync::Arc;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let policy = Arc::new(weir_core::Policy::new(rt));
    /// let layer = weir_tower::PolicyLayer::shared(policy.clone());
    /// # let _ = layer;
    /// ```
    pub fn shared(policy: Arc<Policy<R, L>>) -> Self {
        PolicyLayer { policy }
    }

    /// The policy the layer's services run calls through.
    ///
    /// ```
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let layer = weir_tower::PolicyLayer::new(weir_core::Policy::new(rt));
    /// let _rt = layer.policy().runtime();
    /// ```
    pub fn policy(&self) -> &Policy<R, L> {
        &self.policy
    }
}

impl<R: Runtime> TimeoutLayer<R> {
    /// A layer failing each call with `Error::Timeout` after `duration`,
    /// timed on `rt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use tower::{Service, ServiceBuilder, ServiceExt};
    /// use weir_core::Error;
    /// use weir_core::Runtime;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    ///
    /// let timer = rt.clone();
    /// let mut svc = ServiceBuilder::new()
    ///     .layer(weir_tower::PolicyLayer::timeout(rt.clone(), Duration::from_secs(2)))
    ///     .service_fn(move |_: ()| {
    ///         let timer = timer.clone();
    ///         async move { timer.sleep(Duration::from_secs(5)).await; Ok::<_, ()>(()) }
    ///     });
    /// let out = rt.block_on(async { svc.ready().await.unwrap().call(()).await });
    /// assert_eq!(out, Err(Error::Timeout));
    /// assert_eq!(rt.elapsed(), Duration::from_secs(2));
    /// ```
    pub fn timeout(rt: R, duration: Duration) -> Self {
        Self::new(Policy::new(rt).timeout(duration))
    }
}

impl<R: Runtime, P, V, H, N> RetryLayer<R, P, V, H, N> {
    /// A layer calling the inner service again while `retry` allows,
    /// sleeping on `rt`.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Retry;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let retry = Retry::exponential(Duration::from_millis(50)).max_attempts(4).build()?;
    /// let layer = weir_tower::PolicyLayer::retry(rt, retry);
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn retry(rt: R, retry: Retry<P, V, H, N>) -> Self {
        Self::new(Policy::new(rt).retry(retry))
    }
}

impl<R: Runtime> HedgeLayer<R> {
    /// A layer starting another call when the running one is slow and
    /// keeping the first success (the request must be idempotent).
    ///
    /// ```
    /// use std::time::Duration;
    /// use weir_core::Hedge;
    /// # let rt = weir_core::test_util::VirtualRuntime::new();
    /// let hedge = Hedge::fixed(Duration::from_millis(30)).build()?;
    /// let layer = weir_tower::PolicyLayer::hedge(rt, hedge);
    /// # let _ = layer;
    /// # Ok::<(), weir_core::ConfigError>(())
    /// ```
    pub fn hedge(rt: R, hedge: Hedge) -> Self {
        Self::new(Policy::new(rt).hedge(hedge))
    }
}

impl<R: Runtime, L> Clone for PolicyLayer<R, L> {
    fn clone(&self) -> Self {
        PolicyLayer {
            policy: self.policy.clone(),
        }
    }
}

impl<R: Runtime, L: fmt::Debug> fmt::Debug for PolicyLayer<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyLayer")
            .field("policy", &*self.policy)
            .finish()
    }
}

impl<S, R: Runtime, L> tower_layer::Layer<S> for PolicyLayer<R, L> {
    type Service = PolicyService<S, R, L>;

    fn layer(&self, inner: S) -> Self::Service {
        PolicyService::shared(inner, self.policy.clone())
    }
}
