//! Pooled TCP connections on tokio.

use std::io;
use std::mem::MaybeUninit;

use socket2::SockRef;
use tokio::net::TcpStream;
use weir_core::pool::TcpConnector;

/// tokio's TCP streams for [`TcpManager`].
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioTcp;

/// A `ResourcePool` manager of `tokio::net::TcpStream`s; pooling sockets
/// takes three lines:
///
/// ```no_run
/// use weir_core::ResourcePool;
/// use weir_tokio::{TcpManager, Tokio};
///
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// let pool = ResourcePool::builder(TcpManager::new("127.0.0.1:7000")).max_size(8).build(Tokio)?;
/// let conn = pool.get().await?; // back in the pool on drop
/// # drop(conn);
/// # Ok(())
/// # }
/// ```
pub type TcpManager = weir_core::pool::TcpManager<TokioTcp>;

impl TcpConnector for TokioTcp {
    type Stream = TcpStream;

    async fn connect(addr: &str) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &TcpStream, on: bool) -> io::Result<()> {
        stream.set_nodelay(on)
    }

    async fn peek_now(stream: &mut TcpStream) -> Option<io::Result<usize>> {
        // tokio's own peek consults the reactor's cached readiness first and
        // answers Pending until the driver has seen an event, so a peer's
        // FIN already queued would go unnoticed; ask the socket directly
        // (it is non-blocking).
        let mut byte = [MaybeUninit::<u8>::uninit(); 1];
        match SockRef::from(&*stream).peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            other => Some(other),
        }
    }
}
