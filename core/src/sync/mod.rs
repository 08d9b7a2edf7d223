//! Synchronisation primitives: the fair, weighted, closeable [`Semaphore`]
//! the limiters, scheduler and pools stand on.
