//! A counting global allocator, to prove "zero allocations per operation".
//!
//! Install [`CountingAllocator`] as the global allocator of a test binary,
//! then wrap the operation under test in [`count`]: it returns how many
//! allocations the *current thread* made meanwhile. Counters are per thread,
//! so work on other threads (a test harness, an executor's workers) does not
//! disturb the figure; [`global`] gives the process-wide totals when the work
//! under test hops threads.
//!
//! ```
//! use weir_core::test_util::alloc_count::{self, CountingAllocator};
//!
//! #[global_allocator]
//! static ALLOC: CountingAllocator = CountingAllocator::system();
//!
//! let (n, v) = alloc_count::count(|| vec![1u8; 16]);
//! assert_eq!(n.allocations, 1);
//! assert_eq!(n.bytes, 16);
//! # drop(v);
//! ```

#![allow(unsafe_code)]

use core::cell::Cell;
use core::sync::atomic::{AtomicU64, Ordering};
use std::alloc::{GlobalAlloc, Layout, System};

/// Wraps an allocator (by default [`System`]) and counts what passes through.
#[derive(Debug)]
pub struct CountingAllocator<A = System> {
    inner: A,
}

impl CountingAllocator<System> {
    /// Counts the system allocator's work.
    ///
    /// ```
    /// static ALLOC: weir_core::test_util::alloc_count::CountingAllocator =
    ///     weir_core::test_util::alloc_count::CountingAllocator::system();
    /// ```
    pub const fn system() -> Self {
        CountingAllocator { inner: System }
    }
}

impl<A> CountingAllocator<A> {
    /// Counts the work of `inner`.
    ///
    /// ```
    /// let a = weir_core::test_util::alloc_count::CountingAllocator::new(std::alloc::System);
    /// # drop(a);
    /// ```
    pub const fn new(inner: A) -> Self {
        CountingAllocator { inner }
    }
}

/// What a thread (or the process) allocated.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// Calls to `alloc`, `alloc_zeroed` and `realloc`.
    pub allocations: u64,
    /// Calls to `dealloc`.
    pub deallocations: u64,
    /// Bytes requested by `alloc`, `alloc_zeroed` and `realloc`.
    pub bytes: u64,
}

impl Counts {
    fn since(self, earlier: Counts) -> Counts {
        Counts {
            allocations: self.allocations - earlier.allocations,
            deallocations: self.deallocations - earlier.deallocations,
            bytes: self.bytes - earlier.bytes,
        }
    }
}

// Const-initialised cells without destructors: reading them never allocates,
// which matters inside an allocator.
thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static DEALLOCS: Cell<u64> = const { Cell::new(0) };
    static BYTES: Cell<u64> = const { Cell::new(0) };
}

static GLOBAL_ALLOCS: AtomicU64 = AtomicU64::new(0);
static GLOBAL_DEALLOCS: AtomicU64 = AtomicU64::new(0);
static GLOBAL_BYTES: AtomicU64 = AtomicU64::new(0);

fn bump(cell: &'static std::thread::LocalKey<Cell<u64>>, by: u64) {
    // `try_with` fails only while the thread is being torn down; such late
    // allocations are still counted globally.
    let _ = cell.try_with(|c| c.set(c.get() + by));
}

fn record_alloc(size: usize) {
    bump(&ALLOCS, 1);
    bump(&BYTES, size as u64);
    GLOBAL_ALLOCS.fetch_add(1, Ordering::Relaxed);
    GLOBAL_BYTES.fetch_add(size as u64, Ordering::Relaxed);
}

// SAFETY: every method forwards to `inner` with the caller's arguments
// unchanged, so `inner`'s guarantees are ours; the counting touches only
// atomics and const thread-locals, which never allocate or unwind.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        record_alloc(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { self.inner.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        record_alloc(layout.size());
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        unsafe { self.inner.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        bump(&DEALLOCS, 1);
        GLOBAL_DEALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { self.inner.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        record_alloc(new_size);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { self.inner.realloc(ptr, layout, new_size) }
    }
}

/// This thread's totals so far.
///
/// ```
/// let before = weir_core::test_util::alloc_count::thread();
/// assert!(weir_core::test_util::alloc_count::thread().allocations >= before.allocations);
/// ```
pub fn thread() -> Counts {
    let get = |c: &'static std::thread::LocalKey<Cell<u64>>| c.try_with(Cell::get).unwrap_or(0);
    Counts {
        allocations: get(&ALLOCS),
        deallocations: get(&DEALLOCS),
        bytes: get(&BYTES),
    }
}

/// The whole process's totals so far.
///
/// ```
/// let before = weir_core::test_util::alloc_count::global();
/// assert!(weir_core::test_util::alloc_count::global().allocations >= before.allocations);
/// ```
pub fn global() -> Counts {
    Counts {
        allocations: GLOBAL_ALLOCS.load(Ordering::Relaxed),
        deallocations: GLOBAL_DEALLOCS.load(Ordering::Relaxed),
        bytes: GLOBAL_BYTES.load(Ordering::Relaxed),
    }
}

/// Runs `f` and returns what the current thread allocated meanwhile, with
/// `f`'s result. Counts are zero unless [`CountingAllocator`] is the global
/// allocator.
///
/// ```
/// let (n, ()) = weir_core::test_util::alloc_count::count(|| {});
/// assert_eq!(n.allocations, 0);
/// ```
pub fn count<T>(f: impl FnOnce() -> T) -> (Counts, T) {
    let before = thread();
    let out = f();
    (thread().since(before), out)
}
