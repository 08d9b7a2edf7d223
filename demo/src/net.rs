//! The one runtime-specific piece of the client: opening a TCP stream.
//!
//! Everything else is written once against [`weir::Runtime`] and the
//! `futures-io` traits. smol and async-std streams implement those traits
//! already; tokio's gets a thin wrapper.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::net::SocketAddr;

use futures_lite::io::{AsyncRead, AsyncWrite};
use weir::{AsyncStd, Runtime, Smol, Tokio};

/// A [`Runtime`] that can also open TCP streams.
///
/// ```
/// use weir_demo::net::NetRuntime;
/// fn needs_net<R: NetRuntime>(_: R) {}
/// needs_net(weir::Smol);
/// needs_net(weir::Tokio);
/// needs_net(weir::AsyncStd);
/// ```
pub trait NetRuntime: Runtime {
    /// The runtime's TCP stream, seen through `futures-io`.
    type Stream: AsyncRead + AsyncWrite + Send + Unpin + 'static;

    /// Connects to `addr` with Nagle's algorithm off (frames are small and
    /// latency matters).
    fn connect(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Self::Stream>> + Send;
}

impl NetRuntime for Smol {
    type Stream = smol::net::TcpStream;

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = smol::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl NetRuntime for AsyncStd {
    type Stream = async_std::net::TcpStream;

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = async_std::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl NetRuntime for Tokio {
    type Stream = TokioStream;

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(TokioStream(s))
    }
}

/// A tokio TCP stream seen through the `futures-io` traits.
#[derive(Debug)]
pub struct TokioStream(tokio::net::TcpStream);

impl AsyncRead for TokioStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut rb = tokio::io::ReadBuf::new(buf);
        match tokio::io::AsyncRead::poll_read(Pin::new(&mut self.0), cx, &mut rb) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(rb.filled().len())),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for TokioStream {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        tokio::io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        tokio::io::AsyncWrite::poll_shutdown(Pin::new(&mut self.0), cx)
    }
}
