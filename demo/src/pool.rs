//! A few connections per server, handed out round-robin and reopened when
//! they break.
//!
//! A stand-in for weir's `ResourcePool`, which is not written yet: no idle
//! timeout, no health check beyond "the reader has not stopped", no acquire
//! timeout (connecting on loopback either works or fails at once).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::client::Connection;
use crate::error::CallError;
use crate::net::NetRuntime;

/// Connections to one server.
#[derive(Debug)]
pub struct ConnPool<R> {
    rt: R,
    addr: SocketAddr,
    slots: Vec<async_lock::Mutex<Option<Arc<Connection>>>>,
    next: AtomicUsize,
}

impl<R: NetRuntime> ConnPool<R> {
    /// A pool of `size` (at least one) lazily opened connections to `addr`.
    pub fn new(rt: R, addr: SocketAddr, size: usize) -> Self {
        ConnPool {
            rt,
            addr,
            slots: (0..size.max(1))
                .map(|_| async_lock::Mutex::new(None))
                .collect(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next connection in turn, opened (or reopened) if needed. Many
    /// calls share one connection at a time.
    ///
    /// # Errors
    ///
    /// [`CallError::ConnectFailed`] when a new connection cannot be opened.
    pub async fn get(&self) -> Result<Arc<Connection>, CallError> {
        let i = self.next.fetch_add(1, Ordering::Relaxed) % self.slots.len();
        // Holding the slot while connecting makes the calls behind it wait
        // for this one connection instead of each opening their own.
        let mut slot = self.slots[i].lock().await;
        if let Some(conn) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(conn.clone());
        }
        let conn = Arc::new(Connection::connect(&self.rt, self.addr).await?);
        *slot = Some(conn.clone());
        Ok(conn)
    }

    /// Closes every connection (the tasks end once the server closes its
    /// side).
    pub async fn close(&self) {
        for slot in &self.slots {
            slot.lock().await.take();
        }
    }
}
