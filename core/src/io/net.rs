//! TCP streams: the runtime's connector; docs in [`io`](crate::io).

use crate::Runtime;
use crate::pool::TcpConnector;

/// A [`Runtime`] whose TCP streams speak futures-io.
///
/// Implemented by `weir_smol::Smol`, `weir_tokio::Tokio` and
/// `weir_async_std::AsyncStd`. The connector is the same kind
/// [`TcpManager`](crate::pool::TcpManager) pools, so a client keeps its
/// connections in a [`ResourcePool`](crate::ResourcePool) and reads
/// and writes them through [`AsyncRead`](futures_io::AsyncRead) and
/// [`AsyncWrite`](futures_io::AsyncWrite).
///
/// ```
/// use std::io;
/// use weir_core::io::{AsyncRead, AsyncWrite, NetRuntime};
/// use weir_core::pool::TcpConnector;
///
/// // Generic code names the stream through the runtime:
/// async fn open<R: NetRuntime>(addr: &str) -> io::Result<impl AsyncRead + AsyncWrite + Unpin> {
///     <R::Tcp as TcpConnector>::connect(addr).await
/// }
/// ```
pub trait NetRuntime: Runtime {
    /// Where this runtime's TCP connections come from.
    type Tcp: TcpConnector<Stream: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin>;
}
