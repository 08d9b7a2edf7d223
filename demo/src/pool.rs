//! Connections to one server, kept by weir's `ResourcePool`.
//!
//! A multiplexed connection is shared, not checked out: [`ConnPool::get`]
//! takes one from the pool (which reopens it if its reader has stopped),
//! clones the `Arc` and puts it straight back, so many calls ride on one
//! connection at a time. The pool bounds how many connections exist and
//! replaces broken ones.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use weir::ConfigError;
use weir::pool::{Manager, PoolError, ResourcePool};

use crate::client::Connection;
use crate::error::CallError;
use crate::net::NetRuntime;

/// Opens connections to one address and checks them before reuse.
#[derive(Debug)]
pub struct Connector<R> {
    rt: R,
    addr: SocketAddr,
}

impl<R: NetRuntime> Manager for Connector<R> {
    type Resource = Arc<Connection>;
    type Error = CallError;

    async fn create(&self) -> Result<Arc<Connection>, CallError> {
        Connection::connect(&self.rt, self.addr).await.map(Arc::new)
    }

    async fn recycle(&self, conn: &mut Arc<Connection>) -> Result<(), CallError> {
        if conn.is_closed() {
            Err(CallError::Disconnected)
        } else {
            Ok(())
        }
    }
}

/// Connections to one server.
#[derive(Debug)]
pub struct ConnPool<R: NetRuntime> {
    pool: ResourcePool<Connector<R>, R>,
}

impl<R: NetRuntime> ConnPool<R> {
    /// A pool of at most `size` lazily opened connections to `addr`.
    ///
    /// # Errors
    ///
    /// When the pool rejects its configuration (`size` zero).
    pub fn new(rt: R, addr: SocketAddr, size: usize) -> Result<Self, ConfigError> {
        let pool = ResourcePool::builder(Connector {
            rt: rt.clone(),
            addr,
        })
        .max_size(size)
        .acquire_timeout(Duration::from_secs(2))
        .build(rt)?;
        Ok(ConnPool { pool })
    }

    /// A connection to call on, opened (or reopened) if needed.
    ///
    /// # Errors
    ///
    /// [`CallError::ConnectFailed`] when no connection can be had.
    pub async fn get(&self) -> Result<Arc<Connection>, CallError> {
        match self.pool.get().await {
            // The guard goes back to the pool at once: the connection is
            // shared by every call that gets it.
            Ok(guard) => Ok(Arc::clone(&*guard)),
            Err(PoolError::Create(e)) => Err(e),
            Err(_) => Err(CallError::ConnectFailed),
        }
    }

    /// Closes the pool; connections close once no call holds them.
    pub async fn close(&self) {
        self.pool.close();
    }
}
