//! A bounded queue with priority lanes: the highest non-empty lane first,
//! FIFO within a lane, optional aging.
//!
//! All lanes share one slab of `capacity` slots allocated at build time; a
//! lane is a singly linked list threaded through the slab, and a bitmask
//! records which lanes are non-empty. Push and pop touch a handful of words
//! under a short lock and never allocate. The highest non-empty lane is the
//! mask's highest set bit, one instruction.

use core::fmt;
use core::marker::PhantomData;

use super::error::{RecvError, TryRecvError};
use super::stats::PriorityQueueStats;
use crate::loom::event::Event;
use crate::loom::listen;
use crate::loom::sync::Mutex;
use crate::obs::{Name, queue::PriorityQueueObs};
use crate::{ConfigError, Rule};

/// The most lanes a [`PriorityQueue`] can have: one bit each in a `u64` mask.
///
/// ```
/// use weir_core::{PriorityQueue, queue::MAX_LANES};
/// assert!(PriorityQueue::<u8>::builder().lanes(MAX_LANES).capacity(1).build().is_ok());
/// ```
pub const MAX_LANES: usize = 64;

/// "No slot": the end of a lane's or the free list.
const NIL: u32 = u32::MAX;

/// A push that did not happen; the value comes back.
///
/// ```
/// use weir_core::{PriorityQueue, queue::PriorityPushError};
///
/// let q = PriorityQueue::builder().lanes(2).capacity(1).build().unwrap();
/// q.try_push(0, "a").unwrap();
/// assert_eq!(q.try_push(1, "b"), Err(PriorityPushError::Full("b")));
/// assert_eq!(q.try_push(5, "c"), Err(PriorityPushError::NoSuchLane("c")));
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PriorityPushError<T> {
    /// Every slot is taken.
    Full(T),
    /// The queue is closed.
    Closed(T),
    /// The lane number is not below the queue's lane count.
    NoSuchLane(T),
}

impl<T> PriorityPushError<T> {
    /// The value that was not pushed.
    ///
    /// ```
    /// assert_eq!(weir_core::queue::PriorityPushError::Closed(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        match self {
            Self::Full(v) | Self::Closed(v) | Self::NoSuchLane(v) => v,
        }
    }
}

impl<T> fmt::Debug for PriorityPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "Full(..)",
            Self::Closed(_) => "Closed(..)",
            Self::NoSuchLane(_) => "NoSuchLane(..)",
        })
    }
}

impl<T> fmt::Display for PriorityPushError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full(_) => "pushing on a full priority queue",
            Self::Closed(_) => "pushing on a closed priority queue",
            Self::NoSuchLane(_) => "pushing on a lane the priority queue does not have",
        })
    }
}

impl<T> std::error::Error for PriorityPushError<T> {}

/// Configures a [`PriorityQueue`].
///
/// ```
/// let q = weir_core::PriorityQueue::<u32>::builder()
///     .lanes(3)
///     .capacity(100)
///     .age_after(50)
///     .build()
///     .unwrap();
/// assert_eq!(q.lanes(), 3);
/// ```
#[must_use = "a builder does nothing itself, use .build() to build it"]
pub struct PriorityQueueBuilder<T> {
    lanes: Option<usize>,
    capacity: Option<usize>,
    age_after: Option<u64>,
    name: Name,
    _values: PhantomData<fn() -> T>,
}

impl<T> fmt::Debug for PriorityQueueBuilder<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PriorityQueueBuilder")
            .field("lanes", &self.lanes)
            .field("capacity", &self.capacity)
            .field("age_after", &self.age_after)
            .field("name", &self.name)
            .finish()
    }
}

impl<T> Clone for PriorityQueueBuilder<T> {
    fn clone(&self) -> Self {
        PriorityQueueBuilder {
            lanes: self.lanes,
            capacity: self.capacity,
            age_after: self.age_after,
            name: self.name.clone(),
            _values: PhantomData,
        }
    }
}

impl<T> PriorityQueueBuilder<T> {
    /// The number of lanes, `1..=64`; lane `lanes - 1` is served first.
    /// Required.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(8).capacity(4).build().unwrap();
    /// assert_eq!(q.lanes(), 8);
    /// ```
    pub fn lanes(mut self, lanes: usize) -> Self {
        self.lanes = Some(lanes);
        self
    }

    /// How many values all lanes together may hold; the slots are allocated
    /// once, by `build`. Required.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(2).capacity(16).build().unwrap();
    /// assert_eq!(q.capacity(), 16);
    /// ```
    pub fn capacity(mut self, capacity: usize) -> Self {
        self.capacity = Some(capacity);
        self
    }

    /// Turns aging on: a value counts as one lane higher for every `pops`
    /// values popped from the queue since it was pushed (capped at the top
    /// lane). Among values of equal standing the one pushed first goes
    /// first. Aging is counted in pops, not in time, so it is deterministic
    /// and costs no clock read: a value in a low lane waits at most about
    /// `(lanes - 1) * pops` pops plus the backlog ahead of it.
    ///
    /// With aging on, a pop compares the heads of the non-empty lanes (at
    /// most 64) instead of taking the top lane blindly.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(8).age_after(2).build().unwrap();
    /// q.try_push(0, "low").unwrap();
    /// for _ in 0..3 {
    ///     q.try_push(1, "high").unwrap();
    /// }
    /// assert_eq!(q.try_pop(), Ok("high"));
    /// assert_eq!(q.try_pop(), Ok("high"));
    /// // "low" has waited two pops: it now stands with lane 1, and is older.
    /// assert_eq!(q.try_pop(), Ok("low"));
    /// ```
    pub fn age_after(mut self, pops: u64) -> Self {
        self.age_after = Some(pops);
        self
    }

    /// Names the queue in its events and metric labels (see
    /// [`obs`](crate::obs)). Default: `"default"`.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(1).name("jobs").build().unwrap();
    /// # drop(q);
    /// ```
    pub fn name(mut self, name: impl Into<std::borrow::Cow<'static, str>>) -> Self {
        self.name = Name::new(name);
        self
    }

    /// Builds the queue.
    ///
    /// # Errors
    ///
    /// [`ConfigError`] naming `lanes` (missing, zero, or above 64),
    /// `capacity` (missing, zero, or not below `u32::MAX`) or `age_after`
    /// (zero).
    ///
    /// ```
    /// use weir_core::PriorityQueue;
    /// let e = PriorityQueue::<u8>::builder().lanes(65).capacity(1).build().unwrap_err();
    /// assert_eq!(e.field(), "lanes");
    /// ```
    pub fn build(self) -> Result<PriorityQueue<T>, ConfigError> {
        const C: &str = "PriorityQueue";
        let lanes = self
            .lanes
            .ok_or(ConfigError::new(C, "lanes", Rule::Missing))?;
        if lanes == 0 {
            return Err(ConfigError::new(C, "lanes", Rule::Zero));
        }
        if lanes > MAX_LANES {
            return Err(ConfigError::new(C, "lanes", Rule::OutOfRange("1..=64")));
        }
        let capacity = self
            .capacity
            .ok_or(ConfigError::new(C, "capacity", Rule::Missing))?;
        if capacity == 0 {
            return Err(ConfigError::new(C, "capacity", Rule::Zero));
        }
        if capacity >= NIL as usize {
            return Err(ConfigError::new(C, "capacity", Rule::TooLarge));
        }
        if self.age_after == Some(0) {
            return Err(ConfigError::new(C, "age_after", Rule::Zero));
        }
        let slots = (0..capacity)
            .map(|i| Slot {
                value: None,
                next: if i + 1 < capacity {
                    (i + 1) as u32
                } else {
                    NIL
                },
                pushed_at_pop: 0,
                seq: 0,
            })
            .collect();
        Ok(PriorityQueue {
            state: Mutex::new(Lanes {
                slots,
                free: 0,
                lanes: vec![Lane::EMPTY; lanes].into_boxed_slice(),
                mask: 0,
                len: 0,
                pops: 0,
                seq: 0,
                refused_full: 0,
                refused_closed: 0,
                closed: false,
            }),
            not_empty: Event::new(),
            not_full: Event::new(),
            lanes,
            capacity,
            age_after: self.age_after,
            obs: PriorityQueueObs::new(self.name),
        })
    }
}

/// A bounded MPMC queue with a fixed number of priority lanes.
///
/// [`try_pop`](PriorityQueue::try_pop) and [`pop`](PriorityQueue::pop) take
/// from the highest non-empty lane, FIFO within a lane; with
/// [aging](PriorityQueueBuilder::age_after) a value that waited long enough
/// is served as if it were in a higher lane. Push and pop are O(1) (with
/// aging, O(lanes) with lanes ≤ 64) and allocate nothing, waiting included.
///
/// Share it between tasks with an `Arc`. Closing works as for the
/// [channels](super): pushes fail with the value, pops drain, then see
/// `Closed`.
///
/// ```
/// # futures_lite::future::block_on(async {
/// use weir_core::PriorityQueue;
///
/// let q = PriorityQueue::builder().lanes(3).capacity(8).build().unwrap();
/// q.push(0, "batch").await.unwrap();
/// q.push(2, "interactive").await.unwrap();
/// q.push(1, "normal").await.unwrap();
/// assert_eq!(q.pop().await, Ok("interactive"));
/// assert_eq!(q.pop().await, Ok("normal"));
/// assert_eq!(q.pop().await, Ok("batch"));
/// # });
/// ```
pub struct PriorityQueue<T> {
    state: Mutex<Lanes<T>>,
    /// Poppers waiting for a value; one notification per push, all on close.
    not_empty: Event,
    /// Pushers waiting for a slot; one notification per pop, all on close.
    not_full: Event,
    lanes: usize,
    capacity: usize,
    age_after: Option<u64>,
    obs: PriorityQueueObs,
}

struct Lanes<T> {
    slots: Box<[Slot<T>]>,
    /// Head of the list of unused slots.
    free: u32,
    lanes: Box<[Lane]>,
    /// Bit `i` is set exactly when lane `i` is non-empty.
    mask: u64,
    len: usize,
    /// Values popped so far: the clock aging is measured on.
    pops: u64,
    /// Values pushed so far: orders values of equal standing.
    seq: u64,
    /// `try_push`es refused for want of a slot, and pushes refused closed.
    refused_full: u64,
    refused_closed: u64,
    closed: bool,
}

struct Slot<T> {
    /// `Some` exactly while the slot is on a lane's list.
    value: Option<T>,
    next: u32,
    pushed_at_pop: u64,
    seq: u64,
}

#[derive(Clone, Copy)]
struct Lane {
    head: u32,
    tail: u32,
    len: usize,
}

impl Lane {
    const EMPTY: Lane = Lane {
        head: NIL,
        tail: NIL,
        len: 0,
    };
}

impl<T> Lanes<T> {
    fn push(&mut self, lane: usize, value: T) {
        let i = self.free;
        let slot = &mut self.slots[i as usize];
        self.free = slot.next;
        slot.value = Some(value);
        slot.next = NIL;
        slot.pushed_at_pop = self.pops;
        slot.seq = self.seq;
        self.seq += 1;
        let l = &mut self.lanes[lane];
        if l.tail == NIL {
            l.head = i;
        } else {
            self.slots[l.tail as usize].next = i;
        }
        l.tail = i;
        l.len += 1;
        self.mask |= 1u64 << lane;
        self.len += 1;
    }

    /// The lane to serve next, or `None` when empty.
    fn pick(&self, age_after: Option<u64>, top: usize) -> Option<usize> {
        if self.mask == 0 {
            return None;
        }
        let highest = 63 - self.mask.leading_zeros() as usize;
        let Some(age) = age_after else {
            return Some(highest);
        };
        let mut best = highest;
        let mut best_key = self.standing(highest, age, top);
        let mut rest = self.mask & !(1u64 << highest);
        while rest != 0 {
            let lane = 63 - rest.leading_zeros() as usize;
            rest &= !(1u64 << lane);
            let key = self.standing(lane, age, top);
            if key > best_key {
                best = lane;
                best_key = key;
            }
        }
        Some(best)
    }

    /// How a lane's head ranks: its lane raised by aging, then age (an
    /// older value, with a smaller `seq`, ranks higher).
    fn standing(&self, lane: usize, age: u64, top: usize) -> (usize, u64) {
        let head = &self.slots[self.lanes[lane].head as usize];
        let waited = self.pops - head.pushed_at_pop;
        let raised = usize::try_from(waited / age).unwrap_or(usize::MAX);
        (lane.saturating_add(raised).min(top), u64::MAX - head.seq)
    }

    fn pop_lane(&mut self, lane: usize) -> Option<T> {
        let l = &mut self.lanes[lane];
        let i = l.head;
        let slot = &mut self.slots[i as usize];
        let value = slot.value.take();
        l.head = slot.next;
        if l.head == NIL {
            l.tail = NIL;
            self.mask &= !(1u64 << lane);
        }
        l.len -= 1;
        slot.next = self.free;
        self.free = i;
        self.len -= 1;
        self.pops += 1;
        value
    }
}

impl<T> PriorityQueue<T> {
    /// Starts configuring a queue.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(2).capacity(4).build().unwrap();
    /// assert!(q.is_empty());
    /// ```
    pub fn builder() -> PriorityQueueBuilder<T> {
        PriorityQueueBuilder {
            lanes: None,
            capacity: None,
            age_after: None,
            name: Name::default(),
            _values: PhantomData,
        }
    }

    /// Pushes `value` onto `lane` if a slot is free now.
    ///
    /// # Errors
    ///
    /// [`PriorityPushError`] with the value: full, closed, or no such lane.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(2).build().unwrap();
    /// q.try_push(1, 'x').unwrap();
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn try_push(&self, lane: usize, value: T) -> Result<(), PriorityPushError<T>> {
        self.offer(lane, value, false)
    }

    /// `try_push`; a full queue counts as a refusal unless the caller
    /// goes on to wait for room (`push`).
    fn offer(&self, lane: usize, value: T, waits: bool) -> Result<(), PriorityPushError<T>> {
        if lane >= self.lanes {
            return Err(PriorityPushError::NoSuchLane(value));
        }
        {
            let mut s = self.state.lock();
            if s.closed {
                s.refused_closed += 1;
                drop(s);
                self.obs.refused(lane, false);
                return Err(PriorityPushError::Closed(value));
            }
            if s.len == self.capacity {
                if !waits {
                    s.refused_full += 1;
                    drop(s);
                    self.obs.refused(lane, true);
                }
                return Err(PriorityPushError::Full(value));
            }
            s.push(lane, value);
        }
        self.obs.pushed();
        self.not_empty.notify_additional(1);
        Ok(())
    }

    /// Pushes `value` onto `lane`, waiting while the queue is full.
    ///
    /// # Errors
    ///
    /// [`PriorityPushError::Closed`] or [`PriorityPushError::NoSuchLane`] with
    /// the value; never `Full`.
    ///
    /// # Cancellation
    ///
    /// Dropping the future drops the value; a wake-up it received passes on.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(2).build().unwrap();
    /// q.push(0, 1u8).await.unwrap();
    /// assert_eq!(q.pop().await, Ok(1));
    /// # });
    /// ```
    pub async fn push(&self, lane: usize, value: T) -> Result<(), PriorityPushError<T>> {
        let mut value = value;
        loop {
            match self.offer(lane, value, true) {
                Err(PriorityPushError::Full(v)) => value = v,
                done => return done,
            }
            listen!(self.not_full => room);
            match self.offer(lane, value, true) {
                Err(PriorityPushError::Full(v)) => value = v,
                done => return done,
            }
            room.await;
        }
    }

    /// Pops the value to serve next, if any.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] now, or [`TryRecvError::Closed`] once closed and
    /// drained.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(2).build().unwrap();
    /// q.try_push(0, "low").unwrap();
    /// q.try_push(1, "high").unwrap();
    /// assert_eq!(q.try_pop(), Ok("high"));
    /// ```
    pub fn try_pop(&self) -> Result<T, TryRecvError> {
        let value = {
            let mut s = self.state.lock();
            match s.pick(self.age_after, self.lanes - 1) {
                Some(lane) => s.pop_lane(lane),
                None if s.closed => return Err(TryRecvError::Closed),
                None => return Err(TryRecvError::Empty),
            }
        };
        self.obs.popped();
        self.not_full.notify_additional(1);
        // A slot on a lane's list always holds a value; `Empty` would only
        // show if that invariant broke, and is still not a panic.
        value.ok_or(TryRecvError::Empty)
    }

    /// Pops the value to serve next, waiting while the queue is empty.
    ///
    /// # Errors
    ///
    /// [`RecvError`] once the queue is closed and drained.
    ///
    /// # Cancellation
    ///
    /// Dropping the future loses no value and no wake-up.
    ///
    /// ```
    /// # futures_lite::future::block_on(async {
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(1).build().unwrap();
    /// q.close();
    /// assert!(q.pop().await.is_err());
    /// # });
    /// ```
    pub async fn pop(&self) -> Result<T, RecvError> {
        loop {
            match self.try_pop() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            listen!(self.not_empty => arrival);
            match self.try_pop() {
                Ok(v) => return Ok(v),
                Err(TryRecvError::Closed) => return Err(RecvError),
                Err(TryRecvError::Empty) => {}
            }
            arrival.await;
        }
    }

    /// Closes the queue; returns `true` if this call closed it.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(1).capacity(2).build().unwrap();
    /// q.try_push(0, 1).unwrap();
    /// assert!(q.close());
    /// assert!(q.try_push(0, 2).is_err());
    /// assert_eq!(q.try_pop(), Ok(1));
    /// assert!(q.try_pop().unwrap_err().is_closed());
    /// ```
    pub fn close(&self) -> bool {
        let newly = {
            let mut s = self.state.lock();
            !core::mem::replace(&mut s.closed, true)
        };
        if newly {
            self.obs.closed();
            self.not_empty.notify(usize::MAX);
            self.not_full.notify(usize::MAX);
        }
        newly
    }

    /// What the queue has done so far, and its length now.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(1).build().unwrap();
    /// q.try_push(1, 'a').unwrap();
    /// assert!(q.try_push(0, 'b').is_err()); // full
    /// assert_eq!(q.try_pop(), Ok('a'));
    /// let s = q.stats();
    /// assert_eq!((s.pushed, s.popped, s.refused_full, s.refused_closed, s.len), (1, 1, 1, 0, 0));
    /// ```
    pub fn stats(&self) -> PriorityQueueStats {
        let s = self.state.lock();
        PriorityQueueStats {
            pushed: s.seq,
            popped: s.pops,
            refused_full: s.refused_full,
            refused_closed: s.refused_closed,
            len: s.len,
        }
    }

    /// Whether the queue is closed.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(1).build().unwrap();
    /// assert!(!q.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.lock().closed
    }

    /// How many values are queued in all lanes.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(4).build().unwrap();
    /// q.try_push(0, ()).unwrap();
    /// q.try_push(1, ()).unwrap();
    /// assert_eq!(q.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        self.state.lock().len
    }

    /// How many values are queued in `lane` (0 for a lane that does not
    /// exist).
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(2).capacity(4).build().unwrap();
    /// q.try_push(1, ()).unwrap();
    /// assert_eq!(q.lane_len(1), 1);
    /// assert_eq!(q.lane_len(0), 0);
    /// ```
    pub fn lane_len(&self, lane: usize) -> usize {
        self.state.lock().lanes.get(lane).map_or(0, |l| l.len)
    }

    /// Whether no value is queued.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(1).build().unwrap();
    /// assert!(q.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether every slot is taken.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::builder().lanes(1).capacity(1).build().unwrap();
    /// q.try_push(0, ()).unwrap();
    /// assert!(q.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == self.capacity
    }

    /// How many values all lanes together may hold.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(1).capacity(5).build().unwrap();
    /// assert_eq!(q.capacity(), 5);
    /// ```
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// The number of lanes; valid lanes are `0..lanes()`, the highest served
    /// first.
    ///
    /// ```
    /// let q = weir_core::PriorityQueue::<u8>::builder().lanes(4).capacity(5).build().unwrap();
    /// assert_eq!(q.lanes(), 4);
    /// ```
    pub fn lanes(&self) -> usize {
        self.lanes
    }
}

impl<T> fmt::Debug for PriorityQueue<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = self.state.lock();
        f.debug_struct("PriorityQueue")
            .field("lanes", &self.lanes)
            .field("capacity", &self.capacity)
            .field("age_after", &self.age_after)
            .field("len", &s.len)
            .field("closed", &s.closed)
            .finish()
    }
}
