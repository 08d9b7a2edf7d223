//! How a gating service names its inner service's errors.
//!
//! A gate over a plain service (the default, [`Wrap`]) reports the
//! service's error `E` as [`Error::Inner`]`(E)`. A gate over a service that
//! already answers with weir's [`Error<E>`] (a
//! [`PolicyService`](crate::PolicyService), another gate) can pass those
//! errors on as they are ([`Flat`], chosen with the layer's `flat()`), so
//! that a [`BulkheadLayer`](crate::BulkheadLayer) outside a
//! [`PolicyLayer`](crate::PolicyLayer) still gives one `Error<E>`, not
//! `Error<Error<E>>`.
//!
//! ```
//! use std::time::Duration;
//! use tower::{Service, ServiceBuilder, ServiceExt};
//! use weir_core::Bulkhead;
//! use weir_core::{Error, Policy};
//! use weir_tower::{BulkheadLayer, PolicyLayer};
//! # let rt = weir_core::test_util::VirtualRuntime::new();
//!
//! let bulkhead = Bulkhead::builder().max_concurrent(4).queue_capacity(16).build(rt.clone())?;
//! let policy = Policy::new(rt.clone()).timeout(Duration::from_secs(5));
//! let mut svc = ServiceBuilder::new()
//!     .layer(BulkheadLayer::new(bulkhead).flat()) // honest readiness outside...
//!     .layer(PolicyLayer::new(policy)) // ...the pipeline inside
//!     .service_fn(|_: ()| async { Err::<(), _>("down") });
//! let out: Result<(), Error<&str>> = rt.block_on(async { svc.ready().await?.call(()).await });
//! assert_eq!(out, Err(Error::Inner("down")));
//! # Ok::<(), weir_core::ConfigError>(())
//! ```

use weir_core::Error;

/// The inner service's error `E` becomes [`Error::Inner`]`(E)` (the
/// default).
///
/// ```
/// use weir_core::Error;
/// use weir_tower::shape::{IntoWeir, Wrap};
/// assert_eq!(IntoWeir::<Wrap>::into_weir("boom"), Error::Inner("boom"));
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Wrap;

/// The inner service already answers with [`Error<E>`]; its errors pass
/// on unchanged.
///
/// ```
/// use weir_core::Error;
/// use weir_tower::shape::{Flat, IntoWeir};
/// assert_eq!(IntoWeir::<Flat>::into_weir(Error::<&str>::Timeout), Error::Timeout);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct Flat;

/// An inner service's error as weir's [`Error`], under the shape `M`
/// ([`Wrap`] or [`Flat`]).
///
/// ```
/// use weir_core::Error;
/// use weir_tower::shape::{Flat, IntoWeir, Wrap};
/// let wrapped: Error<Error<()>> = IntoWeir::<Wrap>::into_weir(Error::Closed);
/// assert_eq!(wrapped, Error::Inner(Error::Closed));
/// let flat: Error<()> = IntoWeir::<Flat>::into_weir(Error::Closed);
/// assert_eq!(flat, Error::Closed);
/// ```
pub trait IntoWeir<M>: Sized {
    /// The caller's own error inside weir's.
    type Inner;

    /// Converts.
    fn into_weir(self) -> Error<Self::Inner>;
}

impl<E> IntoWeir<Wrap> for E {
    type Inner = E;

    fn into_weir(self) -> Error<E> {
        Error::Inner(self)
    }
}

impl<E> IntoWeir<Flat> for Error<E> {
    type Inner = E;

    fn into_weir(self) -> Error<E> {
        self
    }
}
