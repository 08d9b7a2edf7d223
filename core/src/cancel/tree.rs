//! The token tree: nodes, their links, and the three operations that change
//! them (add a child, drop the last handle, cancel).
//!
//! # What the tree keeps
//!
//! Only nodes that someone can still observe or cancel: a node is in the
//! tree while it has a *handle* (a `CancellationToken`, or a future or guard
//! holding one) and is not cancelled. So:
//!
//! * when a node's last handle goes, it leaves the tree and hands its
//!   children to its parent (or, at a root, makes them roots): nobody can
//!   cancel it directly any more, so it would only pass a cancel from above
//!   through, and its parent can do that itself. A chain built as
//!   `t = t.child()` therefore holds one node, not one per level;
//! * when a node is cancelled, it and its whole subtree leave the tree at
//!   once: each cancelled node forgets its parent and its children, so a
//!   cancelled chain pins nothing.
//!
//! Links point both ways and are strong (`children` for the cascade,
//! `parent` for re-parenting); the two rules above break every cycle as soon
//! as a node leaves the tree, and no operation walks the tree recursively,
//! so neither a cancel nor a drop uses stack in proportion to depth.
//!
//! # Locking
//!
//! Every node of one tree shares one lock (`Tree`), and links are read or
//! written only while it is held: a change touches a node, its parent and
//! its children together, and one lock makes that atomic without a lock
//! order to get wrong. The per-node `links` mutex is then never contended;
//! it exists so the links can be mutated through `&Node` without `unsafe`.
//! These are the slow paths (creating a child, dropping a last handle,
//! cancelling); `is_cancelled` is one atomic load, cloning a handle one
//! atomic increment.

use core::mem;

use crate::loom::event::Event;
use crate::loom::sync::Arc;
use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// The lock shared by every node of one tree.
pub(super) type Tree = Mutex<()>;

pub(super) struct Node {
    tree: Arc<Tree>,
    /// Set once, under the tree lock, before the node's waiters are woken;
    /// read without the lock. Release/Acquire: whoever sees `true` also sees
    /// everything the cancelling thread did before it cancelled.
    cancelled: AtomicBool,
    /// Handles alive: tokens, `Cancelled` futures and drop guards. Only a
    /// live handle can make another, so once this reaches zero it stays
    /// there; the handle that brings it to zero takes the node out.
    handles: AtomicUsize,
    /// Woken (all) on cancellation; waiters register before re-checking
    /// `cancelled`, so a cancel in between still wakes them.
    pub(super) event: Event,
    /// Read and written only under `tree`.
    links: Mutex<Links>,
}

#[derive(Default)]
struct Links {
    /// `None` for a root and for every node out of the tree.
    parent: Option<Arc<Node>>,
    /// This node's index in its parent's `children`, kept up to date so it
    /// leaves in O(1) (`swap_remove`).
    index: usize,
    /// Live, uncancelled children.
    children: Vec<Arc<Node>>,
}

impl Node {
    /// A new root with one handle.
    pub(super) fn root() -> Arc<Node> {
        Node::new(Arc::new(Mutex::new(())), false)
    }

    fn new(tree: Arc<Tree>, cancelled: bool) -> Arc<Node> {
        Arc::new(Node {
            tree,
            cancelled: AtomicBool::new(cancelled),
            handles: AtomicUsize::new(1),
            event: Event::new(),
            links: Mutex::new(Links::default()),
        })
    }

    pub(super) fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Acquire)
    }

    /// A new child of `parent` with one handle; born cancelled (and out of
    /// the tree) if `parent` is cancelled.
    pub(super) fn child(parent: &Arc<Node>) -> Arc<Node> {
        let _tree = parent.tree.lock();
        // Under the tree lock `cancelled` cannot change, so the child is
        // either linked before a cancel (which then reaches it) or sees it.
        if parent.cancelled.load(Ordering::Relaxed) {
            return Node::new(parent.tree.clone(), true);
        }
        let child = Node::new(parent.tree.clone(), false);
        let mut pl = parent.links.lock();
        {
            let mut cl = child.links.lock();
            cl.parent = Some(parent.clone());
            cl.index = pl.children.len();
        }
        pl.children.push(child.clone());
        child
    }

    /// One more handle. Called only through a live handle, so the count is
    /// above zero and the node cannot be leaving the tree meanwhile.
    pub(super) fn add_handle(&self) {
        // Relaxed: as `Arc::clone`, the new handle is made from a live one.
        self.handles.fetch_add(1, Ordering::Relaxed);
    }

    /// One handle fewer; the last one takes the node out of the tree.
    pub(super) fn drop_handle(this: &Arc<Node>) {
        // AcqRel: the last handle's removal happens after every other
        // handle's last use (their decrements release it).
        if this.handles.fetch_sub(1, Ordering::AcqRel) != 1 {
            return;
        }
        let _tree = this.tree.lock();
        if this.cancelled.load(Ordering::Relaxed) {
            // Out of the tree already, links cleared by the cancel.
            return;
        }
        let (parent, index, children) = {
            let mut l = this.links.lock();
            (l.parent.take(), l.index, mem::take(&mut l.children))
        };
        match parent {
            Some(parent) => {
                let mut pl = parent.links.lock();
                unlink(&mut pl, index);
                for child in children {
                    let mut cl = child.links.lock();
                    cl.parent = Some(parent.clone());
                    cl.index = pl.children.len();
                    drop(cl);
                    pl.children.push(child);
                }
            }
            None => {
                // The root goes: its children become roots of the same tree.
                for child in children {
                    child.links.lock().parent = None;
                }
            }
        }
    }

    /// Cancels this node and its subtree, without recursion; wakes every
    /// waiter of every node cancelled, after the lock is released.
    pub(super) fn cancel(this: &Arc<Node>) {
        if this.is_cancelled() {
            return;
        }
        // The nodes cancelled by this call, woken once the lock is gone: a
        // waker that re-enters this tree (makes a child, say) must not find
        // it locked. Allocates only when there are descendants.
        let mut woken: Vec<Arc<Node>> = Vec::new();
        {
            let _tree = this.tree.lock();
            if this.cancelled.load(Ordering::Relaxed) {
                return;
            }
            this.cancelled.store(true, Ordering::Release);
            let (parent, index, mut pending) = {
                let mut l = this.links.lock();
                (l.parent.take(), l.index, mem::take(&mut l.children))
            };
            if let Some(parent) = parent {
                unlink(&mut parent.links.lock(), index);
            }
            // Depth-first over an explicit stack: every node below is in
            // the tree (a cancelled node has left it), so each is cancelled
            // here exactly once and forgets its links.
            while let Some(node) = pending.pop() {
                node.cancelled.store(true, Ordering::Release);
                let children = {
                    let mut l = node.links.lock();
                    l.parent = None;
                    mem::take(&mut l.children)
                };
                pending.extend(children);
                woken.push(node);
            }
        }
        this.event.notify(usize::MAX);
        for node in woken {
            node.event.notify(usize::MAX);
        }
    }

    /// How many children this node links now (tests).
    #[cfg(test)]
    pub(super) fn children_len(&self) -> usize {
        let _tree = self.tree.lock();
        self.links.lock().children.len()
    }

    /// Whether this node's parent link is `parent` (`None`: no parent).
    #[cfg(test)]
    pub(super) fn parent_is(&self, parent: Option<&Node>) -> bool {
        let _tree = self.tree.lock();
        let l = self.links.lock();
        match (l.parent.as_deref(), parent) {
            (None, None) => true,
            (Some(a), Some(b)) => core::ptr::eq(a, b),
            _ => false,
        }
    }

    /// Whether this node links a parent now (tests).
    #[cfg(test)]
    pub(super) fn has_parent(&self) -> bool {
        let _tree = self.tree.lock();
        self.links.lock().parent.is_some()
    }
}

/// Removes the child at `index` from `links.children` in O(1) and fixes the
/// index of the child moved into its place. Tree lock held.
fn unlink(links: &mut Links, index: usize) {
    links.children.swap_remove(index);
    if let Some(moved) = links.children.get(index) {
        moved.links.lock().index = index;
    }
}
