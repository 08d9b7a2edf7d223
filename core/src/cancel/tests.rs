use super::*;
use futures_lite::future::{block_on, poll_once};

#[test]
fn cancel_reaches_every_descendant_and_no_ancestor() {
    let root = CancellationToken::new();
    let a = root.child();
    let a1 = a.child();
    let a2 = a.child();
    let b = root.child();
    a.cancel();
    assert!(a.is_cancelled() && a1.is_cancelled() && a2.is_cancelled());
    assert!(!root.is_cancelled() && !b.is_cancelled());
    root.cancel();
    assert!(b.is_cancelled());
}

#[test]
fn child_of_a_cancelled_token_is_born_cancelled() {
    let root = CancellationToken::new();
    root.cancel();
    assert!(root.child().child().is_cancelled());
}

#[test]
fn waiter_is_woken_by_cancel_of_an_ancestor() {
    let root = CancellationToken::new();
    let leaf = root.child().child();
    let mut wait = Box::pin(leaf.cancelled());
    assert!(block_on(poll_once(&mut wait)).is_none());
    root.cancel();
    assert!(block_on(poll_once(&mut wait)).is_some());
}

#[test]
fn a_waiting_future_outlives_its_token_and_is_still_cancelled() {
    let root = CancellationToken::new();
    let leaf = root.child().child();
    let mut wait = Box::pin(leaf.cancelled());
    drop(leaf);
    assert!(block_on(poll_once(&mut wait)).is_none());
    root.cancel();
    assert!(block_on(poll_once(&mut wait)).is_some());
}

#[test]
fn run_until_cancelled_drops_the_future_at_once() {
    let t = CancellationToken::new();
    let dropped = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    struct Flag(std::sync::Arc<std::sync::atomic::AtomicBool>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.store(true, std::sync::atomic::Ordering::SeqCst);
        }
    }
    let flag = Flag(dropped.clone());
    let mut run = Box::pin(t.run_until_cancelled(async move {
        let _flag = flag;
        std::future::pending::<()>().await
    }));
    assert!(block_on(poll_once(&mut run)).is_none());
    assert!(!dropped.load(std::sync::atomic::Ordering::SeqCst));
    t.cancel();
    assert_eq!(block_on(poll_once(&mut run)), Some(None));
    assert!(dropped.load(std::sync::atomic::Ordering::SeqCst));
}

#[test]
fn cancellable_ends_with_a_typed_error() {
    let t = CancellationToken::new();
    assert_eq!(block_on(t.cancellable(async { 3 })), Ok(3));
    let mut run = Box::pin(t.cancellable(std::future::pending::<u8>()));
    assert!(block_on(poll_once(&mut run)).is_none());
    t.cancel();
    assert_eq!(block_on(poll_once(&mut run)), Some(Err(CancelledError)));
}

#[test]
fn dropped_children_leave_the_tree() {
    let root = CancellationToken::new();
    for _ in 0..10_000 {
        drop(root.child());
    }
    assert_eq!(root.node.children_len(), 0);
    let kept = root.child();
    let _clone = kept.clone();
    drop(kept);
    // A clone is still a handle: the child stays.
    assert_eq!(root.node.children_len(), 1);
}

#[test]
fn a_dropped_middle_token_hands_its_children_to_its_parent() {
    let root = CancellationToken::new();
    let middle = root.child();
    let leaves: Vec<_> = (0..3).map(|_| middle.child()).collect();
    let sibling = root.child();
    assert_eq!(root.node.children_len(), 2);
    drop(middle);
    // root now links the three leaves and the sibling directly.
    assert_eq!(root.node.children_len(), 4);
    drop(sibling);
    assert_eq!(root.node.children_len(), 3);
    root.cancel();
    assert!(leaves.iter().all(CancellationToken::is_cancelled));
}

#[test]
fn a_dropped_root_makes_its_children_roots() {
    let root = CancellationToken::new();
    let child = root.child();
    let grandchild = child.child();
    drop(root);
    assert!(!child.node.has_parent());
    child.cancel();
    assert!(grandchild.is_cancelled());
}

#[test]
fn a_cancelled_token_forgets_its_links() {
    let root = CancellationToken::new();
    let a = root.child();
    let b = a.child();
    let c = b.child();
    a.cancel();
    assert_eq!(root.node.children_len(), 0);
    for t in [&a, &b, &c] {
        assert!(t.is_cancelled());
        assert!(!t.node.has_parent());
        assert_eq!(t.node.children_len(), 0);
    }
}

#[test]
fn a_deep_chain_with_every_level_alive_cancels_and_drops_without_recursion() {
    // Far past the depth (10k-20k) that overflowed the recursive version on
    // a test thread's 2 MiB stack.
    let root = CancellationToken::new();
    let mut chain = Vec::with_capacity(200_000);
    let mut t = root.child();
    for _ in 0..200_000 {
        let next = t.child();
        chain.push(t);
        t = next;
    }
    root.cancel();
    assert!(t.is_cancelled());
    assert!(chain.iter().all(CancellationToken::is_cancelled));
    drop(chain);
    // An uncancelled deep chain dropped leaf-last and leaf-first.
    for leaf_first in [false, true] {
        let root = CancellationToken::new();
        let mut chain = vec![root.child()];
        for _ in 0..200_000 {
            let next = chain.last().expect("non-empty").child();
            chain.push(next);
        }
        if leaf_first {
            chain.reverse();
        }
        drop(chain);
        assert_eq!(root.node.children_len(), 0);
    }
}

#[test]
fn drop_guard_cancels_on_unwind() {
    let t = CancellationToken::new();
    let t2 = t.clone();
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _g = t2.drop_guard();
        panic!("user code panicked");
    }));
    assert!(r.is_err());
    assert!(t.is_cancelled());
}
