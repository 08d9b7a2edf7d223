//! Panic payloads, read and disposed of the same way everywhere a component
//! catches a panic in user code (jobs, managers, listeners).

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The message of a panic payload when it is a string, as `panic!` makes it
/// (a `&'static str` for a literal, a `String` when formatted).
pub(crate) fn message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&'static str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

/// Drops a value (a payload, a resource, a closed-over future) that nobody
/// waits for, on a path that must not unwind: a panic in its `Drop` is
/// contained, and that panic's own payload is dropped the same way, once;
/// a payload whose drop panics a second time is leaked rather than risk a
/// third.
pub(crate) fn drop_contained<T>(value: T) {
    if let Err(payload) = catch_unwind(AssertUnwindSafe(move || drop(value))) {
        if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            core::mem::forget(again);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reads_both_string_payloads() {
        let lit: Box<dyn Any + Send> = Box::new("literal");
        let fmt: Box<dyn Any + Send> = Box::new(format!("formatted {}", 1));
        let other: Box<dyn Any + Send> = Box::new(7u32);
        assert_eq!(message(&*lit), Some("literal"));
        assert_eq!(message(&*fmt), Some("formatted 1"));
        assert_eq!(message(&*other), None);
    }

    #[test]
    fn reads_what_catch_unwind_returns() {
        let p = catch_unwind(|| panic!("boom {}", 2)).unwrap_err();
        assert_eq!(message(&*p), Some("boom 2"));
    }

    /// Panics when dropped, with a payload that panics when dropped too.
    struct Nasty<'a>(&'a AtomicUsize);
    impl Drop for Nasty<'_> {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            std::panic::panic_any(Payload);
        }
    }
    struct Payload;
    impl Drop for Payload {
        fn drop(&mut self) {
            panic!("the payload's drop panics as well");
        }
    }

    #[test]
    fn contains_a_drop_that_panics_twice() {
        let drops = AtomicUsize::new(0);
        drop_contained(Nasty(&drops));
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        drop_contained(catch_unwind(|| panic!("plain")).unwrap_err());
    }
}
