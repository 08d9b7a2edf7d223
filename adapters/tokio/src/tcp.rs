//! Pooled TCP connections on tokio.

use std::io;
use std::mem::MaybeUninit;

use socket2::SockRef;
use tokio::net::TcpStream;
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
/// use weir_tokio::{TcpManager, Tokio};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = ResourcePool::builder(TcpManager::new("127.0.0.1:7000")).max_size(8).build(Tokio)?;
/// let conn = pool.get().await?; // a tokio::net::TcpStream, back in the pool on drop
/// # drop(conn);
/// # Ok(())
/// # }
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
    /// let m = weir_tokio::TcpManager::new("127.0.0.1:7000");
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
    /// let m = weir_tokio::TcpManager::new("127.0.0.1:7000").nodelay(false);
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
        // tokio's own peek consults the reactor's cached readiness first and
        // answers Pending until the driver has seen an event, so a peer's
        // FIN already queued would go unnoticed; ask the socket directly
        // (it is non-blocking).
        let mut byte = [MaybeUninit::<u8>::uninit(); 1];
        let peeked = match SockRef::from(&*stream).peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            other => Some(other),
        };
        idle_stream_verdict(peeked)
    }
}
