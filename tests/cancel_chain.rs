//! Deep token chains (issue 10, finding 5): a chain built as
//! `t = t.child_token()` holds memory independent of its depth, and
//! cancelling or dropping a deep chain uses no stack in proportion to its depth.

use weir::CancellationToken;
use weir::test_util::alloc_count::{self, CountingAllocator};

#[global_allocator]
static A: CountingAllocator = CountingAllocator::system();

/// Allocations still live after building a chain of `depth` levels under
/// `root`, each level's handle dropped as the next is made; returns them
/// with the last token.
fn chain_under(root: &CancellationToken, depth: usize) -> (i64, CancellationToken) {
    let (n, leaf) = alloc_count::count(|| {
        let mut t = root.child_token();
        for _ in 0..depth {
            t = t.child_token();
        }
        t
    });
    (n.allocations as i64 - n.deallocations as i64, leaf)
}

#[test]
fn a_million_level_chain_under_a_live_root_holds_constant_memory_and_cancels() {
    let root = CancellationToken::new();
    // Warm-up: the root's list of children is allocated on first use.
    drop(root.child_token());
    let (small, leaf_small) = chain_under(&root, 1_000);
    drop(leaf_small);
    let (big, leaf) = chain_under(&root, 1_000_000);
    assert_eq!(
        small, big,
        "live allocations grow with depth: {small} at 1k levels, {big} at 1M"
    );
    assert!(big <= 4, "{big} allocations live for one token");
    assert!(!leaf.is_cancelled());
    root.cancel();
    assert!(leaf.is_cancelled());
}

#[test]
fn a_million_level_chain_of_dropped_roots_holds_constant_memory_and_cancels() {
    let live = |depth: usize| {
        let (n, t) = alloc_count::count(|| {
            let mut t = CancellationToken::new();
            for _ in 0..depth {
                t = t.child_token();
            }
            t
        });
        (n.allocations as i64 - n.deallocations as i64, t)
    };
    let (small, _) = live(1_000);
    let (big, leaf) = live(1_000_000);
    assert_eq!(small, big, "{small} live at 1k levels, {big} at 1M");
    let below = leaf.child_token();
    leaf.cancel();
    assert!(below.is_cancelled());
}

#[test]
fn a_deep_chain_with_every_level_alive_cancels_from_the_root() {
    // The recursive cancel overflowed a test thread's stack between 10k and
    // 20k levels; ten times that, every level held.
    let root = CancellationToken::new();
    let mut levels = vec![root.child_token()];
    for _ in 0..150_000 {
        let next = levels.last().expect("non-empty").child_token();
        levels.push(next);
    }
    let waiter = levels.last().expect("non-empty").cancelled();
    root.cancel();
    assert!(levels.iter().all(CancellationToken::is_cancelled));
    futures_lite::future::block_on(waiter);
    drop(levels);
}

#[test]
fn a_deep_uncancelled_chain_drops_without_recursion() {
    let root = CancellationToken::new();
    let mut levels = vec![root.child_token()];
    for _ in 0..150_000 {
        let next = levels.last().expect("non-empty").child_token();
        levels.push(next);
    }
    // Leaf first: each drop is a leaf leaving its parent.
    levels.reverse();
    drop(levels);
    // Root first, then the rest: each drop re-parents one level.
    let mut t = root.child_token();
    let mut levels = Vec::new();
    for _ in 0..150_000 {
        let next = t.child_token();
        levels.push(t);
        t = next;
    }
    drop(levels);
    let leaf = t;
    drop(root.clone());
    root.cancel();
    assert!(leaf.is_cancelled());
}
