//! Pools: a dynamic worker thread pool for blocking work and a resource
//! (connection) pool.
