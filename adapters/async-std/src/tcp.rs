//! Pooled TCP connections on async-std.

use std::io;

use async_std::net::TcpStream;
use futures_lite::future::poll_once;
use weir_core::pool::TcpConnector;

/// async-std's TCP streams for [`TcpManager`].
#[derive(Debug, Clone, Copy, Default)]
pub struct AsyncStdTcp;

/// A `ResourcePool` manager of `async_std::net::TcpStream`s; pooling sockets takes
/// three lines:
///
/// ```no_run
/// use weir_core::ResourcePool;
/// use weir_async_std::{AsyncStd, TcpManager};
///
/// # async_std::task::block_on(async {
/// let pool = ResourcePool::builder(TcpManager::new("127.0.0.1:7000")).max_size(8).build(AsyncStd)?;
/// let conn = pool.get().await?; // back in the pool on drop
/// # drop(conn);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # });
/// ```
pub type TcpManager = weir_core::pool::TcpManager<AsyncStdTcp>;

impl TcpConnector for AsyncStdTcp {
    type Stream = TcpStream;

    async fn connect(addr: &str) -> io::Result<TcpStream> {
        TcpStream::connect(addr).await
    }

    fn set_nodelay(stream: &TcpStream, on: bool) -> io::Result<()> {
        stream.set_nodelay(on)
    }

    async fn peek_now(stream: &mut TcpStream) -> Option<io::Result<usize>> {
        // async-std's streams are async-io's, which try the syscall before waiting, so one poll sees what
        // the socket holds now.
        poll_once(stream.peek(&mut [0u8; 1])).await
    }
}
