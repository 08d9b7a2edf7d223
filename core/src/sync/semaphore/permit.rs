//! Permit guards: the permits go back to the semaphore when the guard is
//! dropped, on every path out of a scope, unwinding included.

use core::fmt;
use std::sync::Arc;

use super::Semaphore;

/// Permits borrowed from a [`Semaphore`]; released when dropped.
///
/// ```
/// use weir_core::Semaphore;
///
/// let sem = Semaphore::new(3);
/// {
///     let permit = sem.try_acquire_many(2).unwrap();
///     assert_eq!(permit.num_permits(), 2);
///     assert_eq!(sem.available_permits(), 1);
/// }
/// assert_eq!(sem.available_permits(), 3);
/// ```
#[must_use = "the permits are released as soon as the guard is dropped"]
pub struct Permit<'a> {
    sem: &'a Semaphore,
    n: usize,
}

impl<'a> Permit<'a> {
    pub(super) fn new(sem: &'a Semaphore, n: usize) -> Self {
        Permit { sem, n }
    }

    /// How many permits this guard holds.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(5);
    /// assert_eq!(sem.try_acquire_many(4).unwrap().num_permits(), 4);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore these permits came from.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(std::ptr::eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &'a Semaphore {
        self.sem
    }

    /// Drops the guard without releasing: the permits leave the semaphore
    /// for good. Waiters asking for more than the permits left in existence
    /// then fail with
    /// [`AcquireError::ExceedsTotal`](super::AcquireError::ExceedsTotal).
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.sem.raw.forget_held(self.n);
        self.n = 0;
    }

    /// Takes over the permits of `other`, a guard of the same semaphore.
    ///
    /// # Errors
    ///
    /// Hands `other` back untouched when it belongs to another semaphore.
    ///
    /// ```
    /// let other = weir_core::Semaphore::new(1);
    /// let sem = weir_core::Semaphore::new(3);
    /// let mut a = sem.try_acquire().unwrap();
    /// a.merge(sem.try_acquire_many(2).unwrap()).unwrap();
    /// assert_eq!(a.num_permits(), 3);
    ///
    /// let b = other.try_acquire().unwrap();
    /// assert_eq!(a.merge(b).unwrap_err().num_permits(), 1);
    /// ```
    pub fn merge(&mut self, mut other: Permit<'a>) -> Result<(), Permit<'a>> {
        if !core::ptr::eq(self.sem, other.sem) {
            return Err(other);
        }
        self.n += core::mem::take(&mut other.n);
        Ok(())
    }

    /// Splits `n` permits off into a new guard; `None` (and nothing
    /// changes) when this guard holds fewer than `n`.
    ///
    /// ```
    /// let sem = weir_core::Semaphore::new(3);
    /// let mut a = sem.try_acquire_many(3).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (2, 1));
    /// assert!(a.split(5).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Permit<'a>> {
        self.n = self.n.checked_sub(n)?;
        Some(Permit { sem: self.sem, n })
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        self.sem.raw.release(self.n);
    }
}

impl fmt::Debug for Permit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").field("permits", &self.n).finish()
    }
}

/// Permits of an `Arc<Semaphore>`, with no borrow: can move into a spawned
/// task. Released when dropped.
///
/// ```
/// use std::sync::Arc;
/// use weir_core::Semaphore;
///
/// let sem = Arc::new(Semaphore::new(1));
/// let permit = sem.clone().try_acquire_owned().unwrap();
/// let t = std::thread::spawn(move || drop(permit));
/// t.join().unwrap();
/// assert_eq!(sem.available_permits(), 1);
/// ```
#[must_use = "the permits are released as soon as the guard is dropped"]
pub struct OwnedPermit {
    sem: Arc<Semaphore>,
    n: usize,
}

impl OwnedPermit {
    pub(super) fn new(sem: Arc<Semaphore>, n: usize) -> Self {
        OwnedPermit { sem, n }
    }

    /// How many permits this guard holds.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(5));
    /// assert_eq!(sem.try_acquire_many_owned(4).unwrap().num_permits(), 4);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.n
    }

    /// The semaphore these permits came from.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Drops the guard without releasing: the permits leave the semaphore
    /// for good, with the same effect on waiters as [`Permit::forget`].
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(2));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.sem.raw.forget_held(self.n);
        self.n = 0;
    }

    /// Takes over the permits of `other`, a guard of the same semaphore.
    ///
    /// # Errors
    ///
    /// Hands `other` back untouched when it belongs to another semaphore.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(3));
    /// let mut a = sem.clone().try_acquire_owned().unwrap();
    /// a.merge(sem.clone().try_acquire_many_owned(2).unwrap()).unwrap();
    /// assert_eq!(a.num_permits(), 3);
    /// ```
    pub fn merge(&mut self, mut other: OwnedPermit) -> Result<(), OwnedPermit> {
        if !Arc::ptr_eq(&self.sem, &other.sem) {
            return Err(other);
        }
        self.n += core::mem::take(&mut other.n);
        Ok(())
    }

    /// Splits `n` permits off into a new guard; `None` (and nothing
    /// changes) when this guard holds fewer than `n`.
    ///
    /// ```
    /// # use std::sync::Arc;
    /// let sem = Arc::new(weir_core::Semaphore::new(3));
    /// let mut a = sem.clone().try_acquire_many_owned(3).unwrap();
    /// let b = a.split(2).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 2));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<OwnedPermit> {
        self.n = self.n.checked_sub(n)?;
        Some(OwnedPermit {
            sem: self.sem.clone(),
            n,
        })
    }
}

impl Drop for OwnedPermit {
    fn drop(&mut self) {
        self.sem.raw.release(self.n);
    }
}

impl fmt::Debug for OwnedPermit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit")
            .field("permits", &self.n)
            .finish()
    }
}
