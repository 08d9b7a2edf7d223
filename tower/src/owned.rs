//! A borrowed value kept together with the component it borrows from.
//!
//! weir-core's permits and waits borrow their component
//! (`BulkheadPermit<'a>`, `CallPermit<'a, ..>`, `rate::Acquire<'a, ..>`), as
//! tokio's `Semaphore::acquire` does. A tower response future must own what
//! it holds, so the services here keep each component in an `Arc` and store
//! each borrowed value next to a clone of that `Arc`. This module is the only
//! `unsafe` in the crate; owned permits in the core (tokio's
//! `acquire_owned`) would retire it.

#![allow(unsafe_code)]

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::sync::Arc;

/// `value` borrows from `*owner` and never outlives it.
///
/// Invariant: `value`'s `'static` lifetime stands for "as long as `owner`".
/// Fields drop in declaration order, so `value` goes first; the value is
/// never handed out of an `Owned` with that lifetime (only through
/// [`Owned::finish`], which consumes it, and [`Owned::transpose`], which
/// keeps it inside).
pub(crate) struct Owned<O, T> {
    value: T,
    owner: Arc<O>,
}

impl<O: 'static, T> Owned<O, T> {
    /// Makes the value from a reference to `owner`'s pointee.
    ///
    /// # Safety
    ///
    /// `make` must not keep the reference anywhere but in its result.
    pub(crate) unsafe fn new(owner: &Arc<O>, make: impl FnOnce(&'static O) -> T) -> Self {
        // SAFETY: an `Arc`'s pointee stays at one address until the last
        // clone is dropped, and the clone stored beside the value outlives
        // it (the struct's invariant; `make` keeps no other copy, per this
        // function's contract). Only shared references are ever made.
        let shared: &'static O = unsafe { &*Arc::as_ptr(owner) };
        Owned {
            value: make(shared),
            owner: owner.clone(),
        }
    }

    /// Replaces the value with one made from the same owner, reusing the
    /// struct (and whatever allocation `T` is).
    ///
    /// # Safety
    ///
    /// As [`Owned::new`].
    pub(crate) unsafe fn replace(&mut self, make: impl FnOnce(&'static O, &mut T)) {
        // SAFETY: as in `new`; the owner stays the same `Arc`.
        let shared: &'static O = unsafe { &*Arc::as_ptr(&self.owner) };
        make(shared, &mut self.value);
    }

    /// Consumes the value, with its owner at hand.
    pub(crate) fn finish(self, f: impl FnOnce(T, &O)) {
        let Owned { value, owner } = self;
        f(value, &owner);
    }
}

impl<O, F: Future + ?Sized> Owned<O, Pin<Box<F>>> {
    /// Polls the future; its output stays tied to the owner.
    pub(crate) fn poll(&mut self, cx: &mut Context<'_>) -> Poll<Owned<O, F::Output>> {
        self.value.as_mut().poll(cx).map(|value| Owned {
            value,
            owner: self.owner.clone(),
        })
    }
}

impl<O, T, E> Owned<O, Result<T, E>> {
    /// Splits a result: the success stays tied, the error (which borrows
    /// nothing: every error here is `'static`) goes free.
    pub(crate) fn transpose(self) -> Result<Owned<O, T>, E> {
        let Owned { value, owner } = self;
        value.map(|value| Owned { value, owner })
    }
}

impl<O, T: fmt::Debug> fmt::Debug for Owned<O, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}
