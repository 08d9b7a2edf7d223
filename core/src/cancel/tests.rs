use super::*;
use futures_lite::future::{block_on, poll_once};

#[test]
fn cancel_reaches_every_descendant_and_no_ancestor() {
    let root = CancellationToken::new();
    let a = root.child_token();
    let a1 = a.child_token();
    let a2 = a.child_token();
    let b = root.child_token();
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
    assert!(root.child_token().child_token().is_cancelled());
}

#[test]
fn waiter_is_woken_by_cancel_of_an_ancestor() {
    let root = CancellationToken::new();
    let leaf = root.child_token().child_token();
    let mut wait = Box::pin(leaf.cancelled());
    assert!(block_on(poll_once(&mut wait)).is_none());
    root.cancel();
    assert!(block_on(poll_once(&mut wait)).is_some());
}

#[test]
fn a_waiting_future_outlives_its_token_and_is_still_cancelled() {
    let root = CancellationToken::new();
    let leaf = root.child_token().child_token();
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
        drop(root.child_token());
    }
    assert_eq!(root.node.children_len(), 0);
    let kept = root.child_token();
    let _clone = kept.clone();
    drop(kept);
    // A clone is still a handle: the child stays.
    assert_eq!(root.node.children_len(), 1);
}

#[test]
fn a_dropped_middle_token_hands_its_children_to_its_parent() {
    let root = CancellationToken::new();
    let middle = root.child_token();
    let leaves: Vec<_> = (0..3).map(|_| middle.child_token()).collect();
    let sibling = root.child_token();
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
    let child = root.child_token();
    let grandchild = child.child_token();
    drop(root);
    assert!(!child.node.has_parent());
    child.cancel();
    assert!(grandchild.is_cancelled());
}

#[test]
fn a_cancelled_token_forgets_its_links() {
    let root = CancellationToken::new();
    let a = root.child_token();
    let b = a.child_token();
    let c = b.child_token();
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
    let mut t = root.child_token();
    for _ in 0..200_000 {
        let next = t.child_token();
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
        let mut chain = vec![root.child_token()];
        for _ in 0..200_000 {
            let next = chain.last().expect("non-empty").child_token();
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

/// The tree against a model that keeps every token ever made with its
/// original parent: after every operation, each live token's cancelled flag
/// is the model's, and the tree links it to its nearest ancestor that is
/// still held (and to exactly the held tokens that have it as theirs).
mod model {
    use super::*;
    use proptest::prelude::*;

    struct ModelNode {
        parent: Option<usize>,
        cancelled: bool,
        handles: usize,
    }

    /// Nearest ancestor of `id` with a handle, in the model.
    fn live_parent(model: &[ModelNode], id: usize) -> Option<usize> {
        let mut at = model[id].parent;
        while let Some(p) = at {
            if model[p].handles > 0 {
                return Some(p);
            }
            at = model[p].parent;
        }
        None
    }

    fn check(model: &[ModelNode], live: &[(usize, CancellationToken)]) {
        let token_of = |id: usize| &live.iter().find(|(i, _)| *i == id).expect("held").1;
        for (id, t) in live {
            assert_eq!(t.is_cancelled(), model[*id].cancelled, "token {id}");
            if model[*id].cancelled {
                assert!(t.node.parent_is(None) && t.node.children_len() == 0);
                continue;
            }
            let parent = live_parent(model, *id).map(|p| &*token_of(p).node);
            assert!(t.node.parent_is(parent), "token {id}'s parent");
            let children = (0..model.len())
                .filter(|&c| model[c].handles > 0 && !model[c].cancelled)
                .filter(|&c| live_parent(model, c) == Some(*id))
                .count();
            assert_eq!(t.node.children_len(), children, "token {id}'s children");
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn tree_matches_model(ops in proptest::collection::vec((0u8..5, any::<u16>()), 1..120)) {
            let mut model: Vec<ModelNode> = Vec::new();
            let mut live: Vec<(usize, CancellationToken)> = Vec::new();
            for (op, pick) in ops {
                if live.is_empty() || op == 0 {
                    model.push(ModelNode { parent: None, cancelled: false, handles: 1 });
                    live.push((model.len() - 1, CancellationToken::new()));
                    continue;
                }
                let i = usize::from(pick) % live.len();
                let id = live[i].0;
                match op {
                    1 => {
                        let cancelled = model[id].cancelled;
                        model.push(ModelNode { parent: Some(id), cancelled, handles: 1 });
                        let child = live[i].1.child_token();
                        live.push((model.len() - 1, child));
                    }
                    2 => {
                        model[id].handles += 1;
                        let clone = live[i].1.clone();
                        live.push((id, clone));
                    }
                    3 => {
                        model[id].handles -= 1;
                        drop(live.swap_remove(i));
                    }
                    _ => {
                        // The model cancels the whole original subtree.
                        let mut stack = vec![id];
                        while let Some(n) = stack.pop() {
                            model[n].cancelled = true;
                            stack.extend((0..model.len()).filter(|&c| model[c].parent == Some(n)));
                        }
                        live[i].1.cancel();
                    }
                }
                check(&model, &live);
            }
        }
    }
}
