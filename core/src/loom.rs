//! One place where the core picks its synchronisation primitives: std's and
//! parking_lot's normally, loom's when model checking (`--cfg weir_loom`).
//!
//! The cfg is `weir_loom` rather than `loom` so that turning it on does not
//! also switch dependencies that read a `loom` cfg of their own (as
//! crossbeam names its `crossbeam_loom`).
//!
//! Every atomic protocol in the core imports from here, never from
//! `std::sync` directly, so that its loom model exercises the real code.

#![allow(unused_imports, dead_code)]

#[cfg(not(weir_loom))]
mod imp {
    pub(crate) mod sync {
        pub(crate) use std::sync::Arc;
        pub(crate) mod atomic {
            pub(crate) use core::sync::atomic::{
                AtomicBool, AtomicI64, AtomicIsize, AtomicU32, AtomicU64, AtomicUsize, Ordering,
                fence,
            };
        }

        /// A mutex that does not poison: a panic while it is held leaves
        /// the data as the panicking code left it, which every user of it
        /// in weir keeps consistent at each step.
        #[derive(Debug, Default)]
        pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

        impl<T> Mutex<T> {
            pub(crate) const fn new(t: T) -> Self {
                Mutex(parking_lot::const_mutex(t))
            }
            pub(crate) fn lock(&self) -> parking_lot::MutexGuard<'_, T> {
                self.0.lock()
            }
            pub(crate) fn try_lock(&self) -> Option<parking_lot::MutexGuard<'_, T>> {
                self.0.try_lock()
            }
        }
    }

    pub(crate) mod cell {
        /// An `UnsafeCell` whose accesses go through closures, so loom can
        /// track them.
        #[derive(Debug, Default)]
        pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

        impl<T> UnsafeCell<T> {
            pub(crate) const fn new(t: T) -> Self {
                UnsafeCell(core::cell::UnsafeCell::new(t))
            }
            pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
                f(self.0.get())
            }
            pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
                f(self.0.get())
            }
        }
    }

    pub(crate) mod hint {
        pub(crate) use core::hint::spin_loop;
    }

    pub(crate) mod thread {
        pub(crate) use std::thread::yield_now;
    }
}

#[cfg(weir_loom)]
mod imp {
    pub(crate) mod sync {
        pub(crate) use loom::sync::Arc;
        pub(crate) mod atomic {
            pub(crate) use loom::sync::atomic::{
                AtomicBool, AtomicI64, AtomicIsize, AtomicU32, AtomicU64, AtomicUsize, Ordering,
                fence,
            };
        }

        /// loom's mutex with the non-poisoning interface of the normal build.
        #[derive(Debug)]
        pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

        impl<T: Default> Default for Mutex<T> {
            fn default() -> Self {
                Mutex::new(T::default())
            }
        }

        impl<T> Mutex<T> {
            pub(crate) fn new(t: T) -> Self {
                Mutex(loom::sync::Mutex::new(t))
            }
            pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
                self.0.lock().unwrap_or_else(|e| e.into_inner())
            }
            pub(crate) fn try_lock(&self) -> Option<loom::sync::MutexGuard<'_, T>> {
                self.0.try_lock().ok()
            }
        }
    }

    pub(crate) mod cell {
        pub(crate) use loom::cell::UnsafeCell;
    }

    pub(crate) mod hint {
        pub(crate) use loom::hint::spin_loop;
    }

    pub(crate) mod thread {
        pub(crate) use loom::thread::yield_now;
    }
}

pub(crate) use imp::*;
