//! Queues: MPMC bounded and unbounded channels, priority lanes, a delay
//! queue.
