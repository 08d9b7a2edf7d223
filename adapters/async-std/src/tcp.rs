//! Pooled TCP connections on async-std.

use std::io;

use async_std::net::TcpStream;
use futures_lite::future::poll_once;
use weir_core::pool::{Manager, idle_stream_verdict};

/// Opens and checks TCP connections for a `weir::pool::ResourcePool`.
///
/// Before a connection is handed out again it is checked without waiting:
/// a peer that closed it, an error on it, or bytes nobody asked for (a
/// request/response stream out of step) each discard it, and the pool opens
/// a fresh one.
///
/// ```no_run
/// use weir_core::pool::ResourcePool;
/// use weir_async_std::{AsyncStd, TcpManager};
///
/// # async_std::task::block_on(async {
/// let pool = ResourcePool::builder(TcpManager::new("127.0.0.1:7000")).max_size(8).build(AsyncStd)?;
/// let conn = pool.get().await?; // an async_std::net::TcpStream, back in the pool on drop
/// # drop(conn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
#[derive(Debug, Clone)]
pub struct TcpManager {
    addr: String,
    nodelay: bool,
}

impl TcpManager {
    /// Connections to `addr` (anything `host:port`-like), with `TCP_NODELAY`
    /// on, as request/response protocols want.
    ///
    /// ```
    /// let m = weir_async_std::TcpManager::new("127.0.0.1:7000");
    /// # drop(m);
    /// ```
    pub fn new(addr: impl ToString) -> Self {
        TcpManager {
            addr: addr.to_string(),
            nodelay: true,
        }
    }

    /// Sets `TCP_NODELAY` on new connections (default on).
    ///
    /// ```
    /// let m = weir_async_std::TcpManager::new("127.0.0.1:7000").nodelay(false);
    /// # drop(m);
    /// ```
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }
}

impl Manager for TcpManager {
    type Resource = TcpStream;
    type Error = io::Error;

    async fn create(&self) -> io::Result<TcpStream> {
        let stream = TcpStream::connect(self.addr.as_str()).await?;
        stream.set_nodelay(self.nodelay)?;
        Ok(stream)
    }

    async fn recycle(&self, stream: &mut TcpStream) -> io::Result<()> {
        let mut byte = [0u8; 1];
        idle_stream_verdict(poll_once(stream.peek(&mut byte)).await)
    }
}
