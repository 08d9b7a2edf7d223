//! The ready queue: one lane per priority level, ordered by submission
//! sequence, and a bitmap of the non-empty lanes. A job submitted ready
//! always has the highest sequence yet, so it is a plain push to the back
//! and push and pop cost O(1) whatever the backlog (a binary heap costs a
//! sift of log n levels on every pop). A delayed job that becomes ready is
//! inserted at its sequence's place, so that equal priorities still start
//! in submission order.

use std::collections::VecDeque;

use crate::Priority;

const LEVELS: usize = 256;

pub(crate) struct ReadyQueue<T> {
    lanes: Box<[VecDeque<(u64, T)>]>,
    /// Bit `l` set iff lane `l` is non-empty.
    nonempty: [u64; LEVELS / 64],
    len: usize,
}

impl<T> ReadyQueue<T> {
    pub(crate) fn new() -> Self {
        ReadyQueue {
            lanes: (0..LEVELS).map(|_| VecDeque::new()).collect(),
            nonempty: [0; LEVELS / 64],
            len: 0,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Adds `value`, submitted as number `seq`, at `priority`.
    pub(crate) fn push(&mut self, priority: Priority, seq: u64, value: T) {
        let l = usize::from(priority.level());
        let lane = &mut self.lanes[l];
        match lane.back() {
            Some(&(last, _)) if last > seq => {
                let at = lane.partition_point(|&(s, _)| s < seq);
                lane.insert(at, (seq, value));
            }
            _ => lane.push_back((seq, value)),
        }
        self.nonempty[l / 64] |= 1 << (l % 64);
        self.len += 1;
    }

    /// The oldest entry of the highest non-empty level.
    pub(crate) fn pop(&mut self) -> Option<T> {
        let word = (0..self.nonempty.len())
            .rev()
            .find(|&w| self.nonempty[w] != 0)?;
        let bit = 63 - self.nonempty[word].leading_zeros() as usize;
        let l = word * 64 + bit;
        let value = self.lanes[l].pop_front().map(|(_, v)| v);
        if self.lanes[l].is_empty() {
            self.nonempty[word] &= !(1 << bit);
        }
        if value.is_some() {
            self.len -= 1;
        }
        value
    }

    /// Every entry, in no particular order; the queue is left empty.
    pub(crate) fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        self.nonempty = [0; LEVELS / 64];
        self.len = 0;
        self.lanes
            .iter_mut()
            .flat_map(|lane| lane.drain(..).map(|(_, v)| v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;

    proptest! {
        /// Against a binary heap of (level, Reverse(seq)): the same pops,
        /// whether sequences arrive in order (ready submissions) or not
        /// (delayed jobs becoming ready).
        #[test]
        fn matches_a_binary_heap(
            ops in proptest::collection::vec(proptest::option::of((0u8..4, any::<bool>(), 0u64..50)), 0..300),
        ) {
            let mut q = ReadyQueue::new();
            let mut model = BinaryHeap::new();
            for (i, op) in ops.into_iter().enumerate() {
                match op {
                    Some((level, in_order, r)) => {
                        // Unique keys: in order = above every earlier key.
                        let seq = if in_order { (1 << 40) + i as u64 } else { (r << 20) | i as u64 };
                        q.push(Priority::new(level), seq, seq);
                        model.push((level, Reverse(seq)));
                    }
                    None => prop_assert_eq!(q.pop(), model.pop().map(|(_, Reverse(s))| s)),
                }
                prop_assert_eq!(q.is_empty(), model.is_empty());
            }
            let mut rest: Vec<_> = q.drain().collect();
            rest.sort_unstable();
            let mut expected: Vec<_> = model.into_iter().map(|(_, Reverse(s))| s).collect();
            expected.sort_unstable();
            prop_assert_eq!(rest, expected);
            prop_assert!(q.is_empty() && q.pop().is_none());
        }
    }
}
