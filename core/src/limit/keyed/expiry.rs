//! The eviction index: every stored key filed under a lower bound of the
//! instant its bucket is full again, so that finding an evictable key costs
//! amortised O(1) instead of a scan of the map.
//!
//! The structure is a radix heap (Ahuja, Mehlhorn, Orlin and Tarjan, 1990),
//! which fits because the instants filed never go below the last instant
//! taken out: a key is filed under its TAT, which lies after the clock's
//! now, and taken out only once now has reached it.
//!
//! # Why each entry costs O(1) over its life
//!
//! Bucket 0 holds entries filed exactly at `last`; bucket `i` (1 ≤ i ≤ 64)
//! those whose highest bit differing from `last` is bit `i − 1`, so every
//! entry of a lower bucket is smaller than every entry of a higher one. When
//! bucket 0 is empty and the lowest occupied bucket `i` holds something due,
//! `last` moves to that bucket's minimum and its entries are refiled: they
//! all agree with the new `last` on bit `i − 1` and above, so each lands in
//! a bucket below `i` (and the higher buckets stay valid, since the new
//! `last` agrees with the old one on those bits). An entry therefore moves at
//! most 64 times before it reaches bucket 0 and is handed out: with the
//! hand-out, at most 65 units of work per filing, whatever the number of
//! entries. Each bucket's minimum is kept exact (entries leave a bucket
//! above 0 only all at once), so asking whether anything is due is O(1).

use core::fmt;

const BUCKETS: usize = 65;

/// Keys by the instant (ns since the limiter's epoch) from which they may
/// be full. Not synchronised: the limiter keeps it under its mutex.
pub(super) struct Expiry<K> {
    /// Every filed instant is at least `last`; it only grows.
    last: u64,
    buckets: [Vec<(u64, K)>; BUCKETS],
    /// The smallest instant in each bucket above 0; `u64::MAX` when empty.
    mins: [u64; BUCKETS],
    /// Bit `i − 1` set when bucket `i ≥ 1` is not empty.
    occupied: u64,
    len: usize,
    /// Entries moved or handed out since creation: the cost measure.
    work: u64,
}

impl<K> Expiry<K> {
    pub(super) fn new() -> Self {
        Expiry {
            last: 0,
            buckets: core::array::from_fn(|_| Vec::new()),
            mins: [u64::MAX; BUCKETS],
            occupied: 0,
            len: 0,
            work: 0,
        }
    }

    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[cfg(any(test, feature = "test-util"))]
    pub(super) fn work(&self) -> u64 {
        self.work
    }

    fn bucket_of(last: u64, at: u64) -> usize {
        (u64::BITS - (at ^ last).leading_zeros()) as usize
    }

    /// Files `key` under `at`. An instant below `last` (another thread's
    /// clock read a little ahead of the caller's) is filed at `last`: the
    /// key is then found no earlier than `last`, which every later clock
    /// read has reached anyway.
    pub(super) fn push(&mut self, at: u64, key: K) {
        self.len += 1;
        self.file(at.max(self.last), key);
    }

    fn file(&mut self, at: u64, key: K) {
        let i = Self::bucket_of(self.last, at);
        if i > 0 {
            self.mins[i] = self.mins[i].min(at);
            self.occupied |= 1 << (i - 1);
        }
        self.buckets[i].push((at, key));
    }

    /// Takes out one entry filed at or before `now`, if there is one.
    pub(super) fn pop_due(&mut self, now: u64) -> Option<(u64, K)> {
        if self.buckets[0].is_empty() {
            if self.occupied == 0 {
                return None;
            }
            let i = self.occupied.trailing_zeros() as usize + 1;
            let min = self.mins[i];
            if min > now {
                return None;
            }
            // Refile bucket i around its minimum; its Vec keeps its
            // capacity for the next time the bucket fills.
            self.last = min;
            self.mins[i] = u64::MAX;
            self.occupied &= !(1 << (i - 1));
            let mut moving = core::mem::take(&mut self.buckets[i]);
            self.work += moving.len() as u64;
            for (at, key) in moving.drain(..) {
                debug_assert!(Self::bucket_of(min, at) < i);
                self.file(at, key);
            }
            self.buckets[i] = moving;
        } else if self.last > now {
            // Bucket 0 holds the smallest instants, and they are not due.
            return None;
        }
        let entry = self.buckets[0].pop()?;
        self.len -= 1;
        self.work += 1;
        Some(entry)
    }

    /// Slots allocated across the buckets.
    pub(super) fn capacity(&self) -> usize {
        self.buckets.iter().map(Vec::capacity).sum()
    }

    /// Gives back every slot not in use.
    pub(super) fn shrink_to_fit(&mut self) {
        self.buckets.iter_mut().for_each(Vec::shrink_to_fit);
    }
}

impl<K> fmt::Debug for Expiry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Expiry")
            .field("last", &self.last)
            .field("len", &self.len)
            .finish_non_exhaustive()
    }
}

#[cfg(all(test, not(weir_loom)))]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hands_out_only_what_is_due() {
        let mut e = Expiry::new();
        e.push(30, 'c');
        e.push(10, 'a');
        e.push(20, 'b');
        assert_eq!(e.pop_due(9), None);
        assert_eq!(e.pop_due(10), Some((10, 'a')));
        assert_eq!(e.pop_due(19), None);
        e.push(15, 'd');
        assert_eq!(e.pop_due(25), Some((15, 'd')));
        assert_eq!(e.pop_due(25), Some((20, 'b')));
        assert_eq!(e.pop_due(25), None);
        assert_eq!(e.len(), 1);
        // Below `last` (20): filed at `last`, so due at once.
        e.push(5, 'e');
        assert_eq!(e.pop_due(20), Some((20, 'e')));
        assert_eq!(e.pop_due(u64::MAX), Some((30, 'c')));
        assert_eq!(e.len(), 0);
    }

    #[derive(Debug, Clone)]
    enum Op {
        /// File a key this far after now.
        Push(u64),
        Advance(u64),
        Pop,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => prop_oneof![0u64..64, 0u64..1 << 20, 0u64..1 << 62].prop_map(Op::Push),
            2 => prop_oneof![0u64..64, 0u64..1 << 20].prop_map(Op::Advance),
            3 => Just(Op::Pop),
        ]
    }

    proptest! {
        /// Against a plain list: a pop hands out an entry due now exactly
        /// when the list holds one, and the work stays within 65 per push.
        #[test]
        fn matches_a_list(ops in prop::collection::vec(op(), 1..400)) {
            let mut e = Expiry::new();
            let mut model: Vec<(u64, u32)> = Vec::new();
            let mut now = 0u64;
            let mut pushes = 0u64;
            for (id, op) in (0u32..).zip(ops) {
                match op {
                    Op::Push(d) => {
                        e.push(now + d, id);
                        model.push((now + d, id));
                        pushes += 1;
                    }
                    Op::Advance(d) => now += d,
                    Op::Pop => match e.pop_due(now) {
                        Some(got) => {
                            prop_assert!(got.0 <= now);
                            let at = model.iter().position(|&m| m == got);
                            prop_assert!(at.is_some(), "{got:?} was never filed");
                            model.swap_remove(at.unwrap());
                        }
                        None => prop_assert!(model.iter().all(|&(at, _)| at > now)),
                    },
                }
                prop_assert_eq!(e.len(), model.len());
                prop_assert!(e.work() <= 65 * pushes);
            }
        }
    }
}
