//! A ring of time buckets holding packed counters, aggregated incrementally.
//!
//! Shared by the breaker's time window and the retry budget. Each bucket is
//! one `AtomicU64` of packed fields; `total` is the sum of every bucket. A
//! record adds the same packed delta to its bucket and to `total` (two
//! `fetch_add`s, no lock). Only moving to a new bucket takes a lock, once per
//! bucket length, to evict the buckets that fell out of the window.
//!
//! Every change to a bucket is mirrored by the same change to `total`, so
//! `total` equals the sum of the buckets whenever no record is mid-way; a
//! reader racing a record may see one side of it, which the signed decoding
//! of [`unpack`] absorbs. A record that races an eviction of its own bucket
//! lands in the bucket's next period: it is counted once, one window late.

use crate::loom::sync::Mutex;
use crate::loom::sync::atomic::{AtomicU64, Ordering};

/// Splits `word` into `N` fields of `bits` bits, reading each as a signed
/// value (two's complement within the field, borrowing from the next) and
/// clamping negatives to zero. A field goes briefly negative only while a
/// subtraction races the addition it undoes.
pub(crate) fn unpack<const N: usize>(mut word: u64, bits: u32) -> [u64; N] {
    let mask = (1u64 << bits) - 1;
    let half = 1u64 << (bits - 1);
    let mut out = [0u64; N];
    for slot in out.iter_mut() {
        let raw = word & mask;
        if raw >= half {
            // Negative: -(2^bits - raw). Take it out of the word so the
            // borrow it caused in the next field is repaid.
            word = word.wrapping_add((1u64 << bits) - raw);
            *slot = 0;
        } else {
            word = word.wrapping_sub(raw);
            *slot = raw;
        }
        word >>= bits;
    }
    out
}

pub(crate) struct Ring {
    buckets: Box<[AtomicU64]>,
    total: AtomicU64,
    /// Index (time / bucket length) of the newest bucket.
    head: AtomicU64,
    bucket_ns: u64,
    rotate: Mutex<()>,
}

impl core::fmt::Debug for Ring {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Ring")
            .field("buckets", &self.buckets.len())
            .field("bucket_ns", &self.bucket_ns)
            .finish_non_exhaustive()
    }
}

impl Ring {
    pub(crate) fn new(buckets: usize, bucket_ns: u64) -> Self {
        Ring {
            buckets: (0..buckets).map(|_| AtomicU64::new(0)).collect(),
            total: AtomicU64::new(0),
            head: AtomicU64::new(0),
            bucket_ns: bucket_ns.max(1),
            rotate: Mutex::new(()),
        }
    }

    fn len(&self) -> u64 {
        self.buckets.len() as u64
    }

    /// Moves the window so that it ends at `now_ns`. Returns the bucket
    /// index of `now_ns`, or `None` when `now_ns` is older than the window.
    fn advance(&self, now_ns: u64) -> Option<u64> {
        let idx = now_ns / self.bucket_ns;
        // Acquire: pairs with the Release store below, so a recorder that
        // sees the new head also sees its bucket already emptied.
        let head = self.head.load(Ordering::Acquire);
        if idx > head {
            let _g = self.rotate.lock();
            let head = self.head.load(Ordering::Acquire);
            if idx > head {
                let from = (head + 1).max((idx + 1).saturating_sub(self.len()));
                for j in from..=idx {
                    let old = self.buckets[(j % self.len()) as usize].swap(0, Ordering::AcqRel);
                    self.total.fetch_sub(old, Ordering::AcqRel);
                }
                self.head.store(idx, Ordering::Release);
            }
            Some(idx)
        } else if idx + self.len() <= head {
            None
        } else {
            Some(idx)
        }
    }

    /// Adds `delta` at `now_ns`; returns the new packed total (or the
    /// current one when `now_ns` is too old to count).
    pub(crate) fn add(&self, now_ns: u64, delta: u64) -> u64 {
        match self.advance(now_ns) {
            Some(idx) => {
                self.buckets[(idx % self.len()) as usize].fetch_add(delta, Ordering::AcqRel);
                self.total
                    .fetch_add(delta, Ordering::AcqRel)
                    .wrapping_add(delta)
            }
            None => self.total.load(Ordering::Acquire),
        }
    }

    /// The packed total of the window ending at `now_ns`.
    pub(crate) fn total(&self, now_ns: u64) -> u64 {
        self.advance(now_ns);
        self.total.load(Ordering::Acquire)
    }

    /// Empties every bucket, keeping `total` equal to their sum throughout.
    pub(crate) fn clear(&self) {
        let _g = self.rotate.lock();
        for b in self.buckets.iter() {
            let old = b.swap(0, Ordering::AcqRel);
            self.total.fetch_sub(old, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unpack_reads_negative_fields_as_zero_and_repays_the_borrow() {
        let word = (5u64 << 21).wrapping_add(3);
        assert_eq!(unpack::<3>(word, 21), [3, 5, 0]);
        // field0 = -1, field1 = 5
        let word = (5u64 << 21).wrapping_sub(1);
        assert_eq!(unpack::<3>(word, 21), [0, 5, 0]);
        let word = (2u64 << 42).wrapping_sub(1 << 21);
        assert_eq!(unpack::<3>(word, 21), [0, 0, 2]);
    }

    #[test]
    fn old_buckets_expire_whole() {
        let r = Ring::new(4, 10);
        r.add(0, 1);
        r.add(15, 1);
        assert_eq!(r.total(39), 2);
        assert_eq!(r.total(40), 1, "bucket [0,10) left the window");
        assert_eq!(r.total(50), 0);
        assert_eq!(r.add(5, 1), 0, "too old to count");
        r.add(1000, 7);
        r.clear();
        assert_eq!(r.total(1000), 0);
    }
}

#[cfg(all(test, weir_loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;

    /// A record in the current bucket races a record that rotates the
    /// window past it: the total always ends equal to the buckets' sum.
    #[test]
    fn loom_ring_total_matches_buckets_across_rotation() {
        loom::model(|| {
            let r = Arc::new(Ring::new(2, 10));
            r.add(5, 1);
            let a = {
                let r = r.clone();
                loom::thread::spawn(move || {
                    r.add(5, 1);
                })
            };
            let b = {
                let r = r.clone();
                loom::thread::spawn(move || {
                    r.add(25, 1 << 32);
                })
            };
            a.join().unwrap();
            b.join().unwrap();
            let sum = r
                .buckets
                .iter()
                .fold(0u64, |s, b| s.wrapping_add(b.load(Ordering::SeqCst)));
            let total = r.total.load(Ordering::SeqCst);
            assert_eq!(total, sum);
            let [old, new] = unpack::<2>(total, 32);
            assert_eq!(new, 1, "the newest record always counts");
            assert!(
                old <= 1,
                "bucket 0 was evicted; at most a racing record survives"
            );
        });
    }
}
