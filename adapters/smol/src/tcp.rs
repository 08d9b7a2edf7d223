//! Pooled TCP connections on smol.

use std::io;

use futures_lite::future::poll_once;
use smol::net::TcpStream;
use weir_core::pool::TcpConnector;

/// smol's TCP streams for [`TcpManager`].
#[derive(Debug, Clone, Copy, Default)]
pub struct SmolTcp;

/// A `ResourcePool` manager of `smol::net::TcpStream`s; pooling sockets takes
/// three lines:
///
/// ```no_run
/// use weir_core::ResourcePool;
/// use weir_smol::{Smol, TcpManager};
///
/// # smol::block_on(async {
/// let pool = ResourcePool::builder(TcpManager::new("127.0.0.1:7000")).max_size(8).build(Smol)?;
/// let conn = pool.get().await?; // back in the pool on drop
/// # drop(conn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
pub type TcpManager = weir_core::pool::TcpManager<SmolTcp>;

impl TcpConnector for SmolTcp {
    type Stream = TcpStream;

    async fn connect(addr: &str) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &TcpStream, on: bool) -> io::Result<()> {
        stream.set_nodelay(on)
    }

    async fn peek_now(stream: &mut TcpStream) -> Option<io::Result<usize>> {
        // async-io tries the syscall before waiting, so one poll sees what
        // the socket holds now.
        poll_once(stream.peek(&mut [0u8; 1])).await
    }
}
