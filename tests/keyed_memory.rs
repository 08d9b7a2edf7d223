//! The keyed limiter gives memory back when it evicts (issue 10, item 7):
//! after a million keys were stored and evicted, the bytes it holds come
//! back near those of an empty limiter.
//!
//! The counting allocator (`weir::test_util::alloc_count`) counts allocations; bytes
//! still live are counted by a thin layer under it, per thread, so that the
//! test harness's other threads do not disturb the figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::time::Duration;
use weir::Quota;

use weir::KeyedRateLimiter;
use weir::limit::ManualClock;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};

/// Bytes allocated minus bytes freed by the current thread.
struct LiveBytes;

thread_local! {
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn add_live(by: i64) {
    // Fails only while the thread is torn down, long after the assertions.
    let _ = LIVE.try_with(|c| c.set(c.get() + by));
}

fn live() -> i64 {
    LIVE.with(Cell::get)
}

// SAFETY: every method forwards to `System` with its arguments unchanged;
// the bookkeeping touches a const thread-local, which never allocates.
unsafe impl GlobalAlloc for LiveBytes {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add_live(layout.size() as i64);
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add_live(layout.size() as i64);
        // SAFETY: forwarded unchanged; the caller upholds the contract.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add_live(-(layout.size() as i64));
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        add_live(new_size as i64 - layout.size() as i64);
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static A: CountingAllocator<LiveBytes> = CountingAllocator::new(LiveBytes);

const KEYS: u64 = 1_000_000;
const MIB: i64 = 1 << 20;

/// A million charged keys: each stays live for one second of `clock`.
fn charged_million(
    sweep_every: usize,
) -> (
    KeyedRateLimiter<u64, VirtualRuntime, ManualClock>,
    ManualClock,
) {
    let clock = ManualClock::default();
    let l = KeyedRateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(1)))
        .sweep_every(sweep_every)
        .build_with_clock(VirtualRuntime::new(), clock.clone())
        .unwrap();
    (l, clock)
}

#[test]
fn evicting_a_million_keys_returns_the_memory() {
    // sweep_every above the key count: the only eviction is the explicit one.
    let (l, clock) = charged_million(2 * KEYS as usize);
    let empty = live();
    let (n, ()) = alloc_count::count(|| {
        for k in 0..KEYS {
            l.try_acquire(&k).unwrap();
        }
    });
    assert!(n.allocations > 0);
    let full = live() - empty;
    assert!(full > 16 * MIB, "a million keys take {full} bytes");
    clock.advance(Duration::from_secs(1));
    assert_eq!(l.retain_recent(), 0);
    let after = live() - empty;
    println!("empty + {full} bytes with {KEYS} keys, empty + {after} after evicting them");
    assert!(
        after <= 64 * 1024,
        "{after} bytes still held after evicting every key ({full} when full)"
    );
}

#[test]
fn automatic_eviction_returns_the_memory() {
    let (l, clock) = charged_million(1024);
    let empty = live();
    for k in 0..KEYS {
        l.try_acquire(&k).unwrap();
    }
    let full = live() - empty;
    clock.advance(Duration::from_secs(1));
    // The 1024th new key triggers the sweep, which finds every old key full.
    for k in KEYS..KEYS + 1024 {
        l.try_acquire(&k).unwrap();
    }
    assert_eq!(l.len(), 1024);
    let after = live() - empty;
    println!("empty + {full} bytes with {KEYS} keys, empty + {after} with 1024 left");
    assert!(
        after <= 256 * 1024,
        "{after} bytes held for 1024 keys ({full} for {KEYS})"
    );
}
