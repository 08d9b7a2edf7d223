//! The counting allocator counts what it should, per thread.

use weir::test_util::alloc_count::{self, CountingAllocator};

#[global_allocator]
static ALLOC: CountingAllocator = CountingAllocator::system();

#[test]
fn counts_a_known_allocation() {
    let (n, b) = alloc_count::count(|| Box::new(0u64));
    assert_eq!(n.allocations, 1);
    assert_eq!(n.bytes, 8);
    assert_eq!(n.deallocations, 0);
    let (n, ()) = alloc_count::count(|| drop(b));
    assert_eq!(n.deallocations, 1);
}

#[test]
fn counts_growth_as_reallocation() {
    let mut v: Vec<u8> = Vec::with_capacity(4);
    let (n, ()) = alloc_count::count(|| v.extend_from_slice(&[0; 64]));
    assert_eq!(n.allocations, 1, "one realloc to grow");
    let (n, ()) = alloc_count::count(|| v.clear());
    assert_eq!(n.allocations, 0);
}

#[test]
fn other_threads_do_not_disturb_this_thread() {
    let before_global = alloc_count::global();
    let (n, ()) = alloc_count::count(|| {
        // The spawn itself allocates here; the 100 boxes happen over there.
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 0..100u64 {
                    std::hint::black_box(Box::new(i));
                }
            });
        });
    });
    let here = n.allocations;
    assert!(
        here < 100,
        "this thread's count includes the other thread's: {here}"
    );
    assert!(alloc_count::global().allocations - before_global.allocations >= 100);
}

#[test]
fn no_allocation_is_zero() {
    let mut x = 0u64;
    let (n, ()) = alloc_count::count(|| {
        for i in 0..1000 {
            x = x.wrapping_add(std::hint::black_box(i));
        }
    });
    assert_eq!(n, alloc_count::Counts::default());
    assert!(x > 0);
}
