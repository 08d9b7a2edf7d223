//! The one place where the core picks its synchronisation: std's,
//! parking_lot's, concurrent-queue's and event-listener's normally, loom's
//! (or loom-visible stand-ins, in `models`) when model checking with
//! `--cfg weir_loom`.
//!
//! Every atomic protocol in the core imports from here, never from
//! `std::sync`, `parking_lot` or those crates directly, so that its loom
//! model exercises the real code. What is here:
//!
//! * `sync`: `Arc`, the atomics and `fence`, a non-poisoning `Mutex` and its
//!   `MutexGuard`, and a `Condvar` with parking_lot's interface (`wait`
//!   takes `&mut guard`);
//! * `cell::UnsafeCell` with loom's closure-based accessors;
//! * `hint::spin_loop` and `thread` (`yield_now`, `current`, `park`,
//!   `Thread`), so spins and parks are loom yield points;
//! * `queue::Queue` (a `ConcurrentQueue`) and `event::{Event,
//!   EventListener, Listener}` with the `listen!` macro: neither crate is
//!   built on loom, so under `weir_loom` they are small mutex-based models
//!   with the same contracts (see `models`).
//!
//! The cfg is `weir_loom` rather than `loom` so that turning it on does not
//! also switch dependencies that read a `loom` cfg of their own (as
//! crossbeam names its `crossbeam_loom`).
//!
//! What stays outside, and why: `std::sync::Arc` where an `Arc<dyn Trait>`
//! is built (loom's `Arc` cannot coerce to a trait object), and the worker
//! pool's `crossbeam_queue::ArrayQueue` and OS threads, whose loom models
//! (`pool/worker/control.rs`, `pool/worker/job.rs`) drive the control word
//! and the job cell directly instead.

#![forbid(unsafe_code)]
#![allow(unused_imports, dead_code)]

#[cfg(weir_loom)]
mod models;

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

        pub(crate) use parking_lot::MutexGuard;

        /// A mutex that does not poison: a panic while it is held leaves
        /// the data as the panicking code left it, which every user of it
        /// in weir keeps consistent at each step.
        #[derive(Debug, Default)]
        pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

        impl<T> Mutex<T> {
            pub(crate) const fn new(t: T) -> Self {
                Mutex(parking_lot::const_mutex(t))
            }
            pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
                self.0.lock()
            }
            pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
                self.0.try_lock()
            }
        }

        /// parking_lot's condition variable, which pairs with the `Mutex`
        /// above (its guard is parking_lot's).
        pub(crate) use parking_lot::Condvar;
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
        pub(crate) use std::thread::{Result, Thread, current, park, yield_now};
    }

    pub(crate) mod queue {
        pub(crate) use concurrent_queue::{ConcurrentQueue as Queue, PopError, PushError};
    }

    pub(crate) mod event {
        pub(crate) use event_listener::{Event, EventListener, Listener};
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

        pub(crate) use crate::loom::models::{Condvar, Mutex, MutexGuard};
    }

    pub(crate) mod cell {
        pub(crate) use loom::cell::UnsafeCell;
    }

    pub(crate) mod hint {
        pub(crate) use loom::hint::spin_loop;
    }

    pub(crate) mod thread {
        pub(crate) use loom::thread::{Thread, current, park, yield_now};
        pub(crate) use std::thread::Result;
    }

    pub(crate) mod queue {
        pub(crate) use crate::loom::models::{PopError, PushError, Queue};
    }

    pub(crate) mod event {
        pub(crate) use crate::loom::models::{Event, EventListener, Listener};
    }
}

pub(crate) use imp::*;

/// Drives a future on the current loom thread (loom models only).
#[cfg(weir_loom)]
pub(crate) use models::block_on;

/// `listen!(event => name)`: a listener registered on `event`, pinned on
/// the stack (no allocation) outside loom.
#[cfg(not(weir_loom))]
macro_rules! listen {
    ($event:expr => $name:ident) => {
        event_listener::listener!($event => $name);
    };
}

#[cfg(weir_loom)]
macro_rules! listen {
    ($event:expr => $name:ident) => {
        #[allow(unused_mut)]
        let mut $name = $event.listen();
    };
}

pub(crate) use listen;
