use core::future::Future;
use core::pin::Pin;

use weir_core::Error;

/// The response of a [`PolicyService`](crate::PolicyService): the whole
/// pipeline's run, boxed.
///
/// ```
/// use tower::{Service, ServiceExt};
/// use weir_tower::{PolicyService, policy::ResponseFuture};
/// # let rt = weir_core::test_util::VirtualRuntime::new();
///
/// let policy = weir_core::Policy::new(rt.clone());
/// let mut svc = PolicyService::new(tower::service_fn(|x: u8| async move { Ok::<_, ()>(x) }), policy);
/// let fut: ResponseFuture<u8, ()> = rt.block_on(async { svc.ready().await.unwrap().call(4) });
/// assert_eq!(rt.block_on(fut), Ok(4));
/// ```
pub type ResponseFuture<T, E> = Pin<Box<dyn Future<Output = Result<T, Error<E>>> + Send>>;
