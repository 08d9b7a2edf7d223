//! The keyed limiter allocates nothing per check on a known key.

use std::time::Duration;
use weir::Quota;

use weir::KeyedRateLimiter;
use weir::test_util::VirtualRuntime;
use weir::test_util::alloc_count::{self, CountingAllocator};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

#[test]
fn checks_on_known_keys_allocate_nothing() {
    let limiter = KeyedRateLimiter::builder()
        .quota(Quota::new(1_000_000, Duration::from_secs(1)).burst(10))
        .build(VirtualRuntime::new())
        .unwrap();
    for k in 0..1000u64 {
        limiter.try_acquire(&k).unwrap();
    }
    for round in 0..5 {
        for k in 0..1000u64 {
            let (n, _) = alloc_count::count(|| limiter.try_acquire(&k));
            assert_eq!(n.allocations, 0, "key {k}, round {round}");
            let (n, _) = alloc_count::count(|| limiter.try_acquire_many(&k, 0));
            assert_eq!(n.allocations, 0);
            let (n, refused) = alloc_count::count(|| limiter.try_acquire_many(&k, 11));
            assert_eq!(n.allocations, 0);
            assert!(refused.is_err());
        }
    }
}
