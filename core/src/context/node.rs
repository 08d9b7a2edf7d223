//! The values of a context: an immutable chain of typed entries, newest
//! first, shared by every snapshot and scope that holds it.
//!
//! A scope adds one entry in front of the chain it found, so a snapshot is
//! one `Arc` clone and a lookup walks the chain comparing `TypeId`s (a
//! context holds a handful of values; a map would cost more than it saves).

use core::any::{Any, TypeId};
use core::fmt;
use std::sync::Arc;

/// One link of the chain; `None` is the empty context.
pub(super) type Link = Arc<dyn Node>;

/// How an entry writes its value, when it was added as displayable.
pub(super) type Show<T> = fn(&T, &mut fmt::Formatter<'_>) -> fmt::Result;

/// An entry, whatever its value's type.
pub(super) trait Node: Send + Sync + 'static {
    fn parent(&self) -> Option<&Link>;
    fn value(&self) -> &dyn Any;
    fn type_id_of_value(&self) -> TypeId;
    /// The value's type, last path segment only (`RequestId`).
    fn type_name(&self) -> &'static str;
    /// Whether it was added with a way to write its value.
    fn is_shown(&self) -> bool;
    /// Writes the value (nothing when it is not shown).
    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result;
}

pub(super) struct Entry<T> {
    pub(super) parent: Option<Link>,
    pub(super) value: T,
    pub(super) show: Option<Show<T>>,
}

impl<T: Send + Sync + 'static> Node for Entry<T> {
    fn parent(&self) -> Option<&Link> {
        self.parent.as_ref()
    }

    fn value(&self) -> &dyn Any {
        &self.value
    }

    fn type_id_of_value(&self) -> TypeId {
        TypeId::of::<T>()
    }

    fn type_name(&self) -> &'static str {
        short_name(core::any::type_name::<T>())
    }

    fn is_shown(&self) -> bool {
        self.show.is_some()
    }

    fn show(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.show {
            Some(show) => show(&self.value, f),
            None => Ok(()),
        }
    }
}

/// `a::b::C<d::E>` -> `C<d::E>`: the segment after the last `::` outside
/// generic arguments.
fn short_name(full: &'static str) -> &'static str {
    let generics = full.find('<').unwrap_or(full.len());
    match full[..generics].rfind("::") {
        Some(i) => &full[i + 2..],
        None => full,
    }
}

/// The entries from `head` outwards.
pub(super) fn walk(head: Option<&Link>) -> impl Iterator<Item = &Link> {
    core::iter::successors(head, |n| n.parent())
}

/// The newest value of type `T` in the chain.
pub(super) fn find<T: 'static>(head: Option<&Link>) -> Option<&T> {
    walk(head)
        .find(|n| n.type_id_of_value() == TypeId::of::<T>())
        .and_then(|n| n.value().downcast_ref::<T>())
}

fn same(a: &Link, b: &Link) -> bool {
    core::ptr::eq(Arc::as_ptr(a).cast::<()>(), Arc::as_ptr(b).cast::<()>())
}

/// Whether an entry newer than `node` (between `head` and it) holds the
/// same type, hiding it.
pub(super) fn shadowed(head: &Link, node: &Link) -> bool {
    let ty = node.type_id_of_value();
    walk(Some(head))
        .take_while(|n| !same(n, node))
        .any(|n| n.type_id_of_value() == ty)
}

/// Calls `each` on the visible entries, oldest first (the order the scopes
/// were entered), without allocating: a recursion as deep as the chain.
pub(super) fn visible_oldest_first(
    head: &Link,
    node: &Link,
    each: &mut dyn FnMut(&Link) -> fmt::Result,
) -> fmt::Result {
    if let Some(parent) = node.parent() {
        visible_oldest_first(head, parent, each)?;
    }
    if shadowed(head, node) {
        Ok(())
    } else {
        each(node)
    }
}

#[cfg(test)]
mod tests {
    use super::short_name;

    #[test]
    fn short_names_keep_generic_arguments_whole() {
        assert_eq!(short_name("app::ids::RequestId"), "RequestId");
        assert_eq!(short_name("u64"), "u64");
        assert_eq!(short_name("a::Wrap<b::C>"), "Wrap<b::C>");
    }
}
