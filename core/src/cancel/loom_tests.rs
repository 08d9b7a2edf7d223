//! loom models of the token tree's protocol: cancel racing child creation,
//! a middle token's drop (re-parenting), a waiter's registration.

use loom::thread;

use super::CancellationToken;
use crate::loom::block_on;

/// A child registered while its parent is being cancelled is cancelled:
/// either the cascade finds it, or it sees the flag under the lock.
#[test]
fn loom_child_registration_races_cancel() {
    loom::model(|| {
        let root = CancellationToken::new();
        let r2 = root.clone();
        let t = thread::spawn(move || r2.cancel());
        let child = root.child_token();
        t.join().unwrap();
        assert!(child.is_cancelled());
    });
}

/// The middle of a chain is dropped (its child moves up to the root) while
/// the root is cancelled: the leaf is cancelled either way, and the tree
/// is left empty.
#[test]
fn loom_middle_drop_races_cancel() {
    loom::model(|| {
        let root = CancellationToken::new();
        let middle = root.child_token();
        let leaf = middle.child_token();
        let r2 = root.clone();
        let t = thread::spawn(move || r2.cancel());
        drop(middle);
        t.join().unwrap();
        assert!(leaf.is_cancelled());
        assert_eq!(root.node.children_len(), 0);
        assert!(!leaf.node.has_parent());
    });
}

/// Two threads drop the two middle levels of a chain at once while a third
/// makes a child of the leaf: the leaf ends up linked to the root, and a
/// cancel of the root reaches both.
#[test]
fn loom_concurrent_middle_drops_keep_the_leaf_reachable() {
    loom::model(|| {
        let root = CancellationToken::new();
        let a = root.child_token();
        let b = a.child_token();
        let leaf = b.child_token();
        let t1 = thread::spawn(move || drop(a));
        let t2 = thread::spawn(move || drop(b));
        let grandchild = leaf.child_token();
        t1.join().unwrap();
        t2.join().unwrap();
        assert_eq!(root.node.children_len(), 1);
        root.cancel();
        assert!(leaf.is_cancelled() && grandchild.is_cancelled());
    });
}

/// A waiter on a leaf whose own token is dropped meanwhile is woken by a
/// cancel of the root from another thread.
#[test]
fn loom_waiter_is_woken_across_a_drop() {
    loom::model(|| {
        let root = CancellationToken::new();
        let leaf = root.child_token();
        let wait = leaf.cancelled();
        let r2 = root.clone();
        let w = thread::spawn(move || block_on(wait));
        let c = thread::spawn(move || r2.cancel());
        drop(leaf);
        c.join().unwrap();
        w.join().unwrap();
    });
}
