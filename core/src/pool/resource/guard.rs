//! The guard `get` returns.

use core::fmt;
use core::ops::{Deref, DerefMut};
use std::sync::Arc;

use super::Manager;
use super::inner::{Entry, Sink};

/// A resource on loan from a [`ResourcePool`](super::ResourcePool): derefs
/// to it, and goes back to the pool when dropped (to the first waiter, or
/// to the idle list), including on unwind.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// # use weir_core::{ResourcePool, pool::Manager, test_util::VirtualRuntime};
/// # struct M;
/// # impl Manager for M {
/// #     type Resource = String;
/// #     type Error = ();
/// #     async fn create(&self) -> Result<String, ()> { Ok("conn".into()) }
/// #     async fn recycle(&self, _: &mut String) -> Result<(), ()> { Ok(()) }
/// # }
/// let rt = VirtualRuntime::new();
/// let pool = ResourcePool::builder(M).max_size(1).build(rt.clone()).unwrap();
/// rt.block_on(async {
///     let conn = pool.get().await.unwrap();
///     assert_eq!(conn.len(), 4); // derefs to the String
///     drop(conn);                // back in the pool
///     assert_eq!(pool.stats().idle, 1);
/// });
/// # }
/// ```
pub struct Pooled<M: Manager> {
    entry: Option<Entry<M::Resource>>,
    pool: Arc<dyn Sink<M>>,
}

impl<M: Manager> Pooled<M> {
    pub(crate) fn new(entry: Entry<M::Resource>, pool: Arc<dyn Sink<M>>) -> Self {
        Pooled {
            entry: Some(entry),
            pool,
        }
    }

    /// Takes the resource out of the pool for good (for example because
    /// it is broken): the manager's [`detach`](Manager::detach) hook runs,
    /// its slot is freed for a new resource, and the caller owns it.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// # use weir_core::{ResourcePool, pool::Manager, test_util::VirtualRuntime};
    /// # struct M;
    /// # impl Manager for M {
    /// #     type Resource = u8;
    /// #     type Error = ();
    /// #     async fn create(&self) -> Result<u8, ()> { Ok(1) }
    /// #     async fn recycle(&self, _: &mut u8) -> Result<(), ()> { Ok(()) }
    /// # }
    /// let rt = VirtualRuntime::new();
    /// let pool = ResourcePool::builder(M).build(rt.clone()).unwrap();
    /// let broken = rt.block_on(pool.get()).unwrap();
    /// let raw: u8 = broken.detach();
    /// assert_eq!((raw, pool.stats().size), (1, 0));
    /// # }
    /// ```
    pub fn detach(mut self) -> M::Resource {
        let mut entry = match self.entry.take() {
            Some(e) => e,
            None => unreachable!("a Pooled holds its resource until dropped"),
        };
        self.pool.detach(&mut entry.res);
        entry.res
    }
}

impl<M: Manager> Deref for Pooled<M> {
    type Target = M::Resource;

    fn deref(&self) -> &M::Resource {
        match &self.entry {
            Some(e) => &e.res,
            None => unreachable!("a Pooled holds its resource until dropped"),
        }
    }
}

impl<M: Manager> DerefMut for Pooled<M> {
    fn deref_mut(&mut self) -> &mut M::Resource {
        match &mut self.entry {
            Some(e) => &mut e.res,
            None => unreachable!("a Pooled holds its resource until dropped"),
        }
    }
}

impl<M: Manager> Drop for Pooled<M> {
    fn drop(&mut self) {
        if let Some(entry) = self.entry.take() {
            self.pool.put(entry);
        }
    }
}

impl<M: Manager> fmt::Debug for Pooled<M>
where
    M::Resource: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Pooled").field(&**self).finish()
    }
}
