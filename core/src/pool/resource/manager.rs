//! What a pool needs to know about its resources.

use core::future::Future;

/// Creates, checks and forgets the resources of a
/// [`ResourcePool`](super::ResourcePool).
///
/// Implement it with `async fn`s; the returned futures must be `Send`.
///
/// ```
/// use weir_core::pool::Manager;
///
/// struct Numbers;
///
/// impl Manager for Numbers {
///     type Resource = u64;
///     type Error = std::io::Error;
///
///     async fn create(&self) -> Result<u64, std::io::Error> {
///         Ok(42)
///     }
///
///     async fn recycle(&self, n: &mut u64) -> Result<(), std::io::Error> {
///         if *n == 42 { Ok(()) } else { Err(std::io::Error::other("corrupted")) }
///     }
/// }
/// ```
pub trait Manager: Send + Sync + 'static {
    /// The pooled thing: a connection, a session, a client.
    type Resource: Send + 'static;
    /// What `create` and `recycle` fail with.
    type Error: Send + 'static;

    /// Makes a new resource. A failure is returned to the caller of
    /// [`get`](super::ResourcePool::get) and does not use up a slot; so is
    /// a panic, caught and returned as
    /// [`PoolError::Panicked`](super::PoolError::Panicked).
    fn create(&self) -> impl Future<Output = Result<Self::Resource, Self::Error>> + Send;

    /// Checks an idle resource before it is handed out again (when the pool
    /// tests on acquire, the default). An error discards the resource and
    /// the pool tries the next one or creates a new one; the error itself
    /// is not reported to the caller. A panic is caught and treated the
    /// same way (and counted in [`PoolStats::panics`](super::PoolStats::panics)).
    fn recycle(
        &self,
        resource: &mut Self::Resource,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Called when a resource leaves the pool for good through
    /// [`Pooled::detach`](super::Pooled::detach). Does nothing by default.
    ///
    /// ```
    /// # use weir_core::pool::Manager;
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = ();
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<(), ()> { Ok(()) }
    /// #     async fn recycle(&self, _: &mut ()) -> Result<(), ()> { Ok(()) }
    /// fn detach(&self, _resource: &mut ()) {
    ///     // e.g. log that a broken connection was dropped
    /// }
    /// # }
    /// ```
    fn detach(&self, resource: &mut Self::Resource) {
        let _ = resource;
    }
}
