//! The runtime-specific pieces of the client: opening a TCP stream and
//! spawning a server process, and the weir-mcp connectors built on them.
//!
//! Everything else is written once against [`weir::Runtime`] and the
//! `futures-io` traits. smol and async-std streams implement those traits
//! already; tokio's gets a thin wrapper.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use futures_lite::io::{AsyncRead, AsyncWrite};
use weir::io::ProcessSpawner;
use weir::mcp::framing::Framed;
use weir::mcp::manager::BoxConnect;
use weir::mcp::stdio::Stdio;
use weir::mcp::transport::TransportError;
use weir::{AsyncStd, ConfigError, Runtime, Smol, Tokio};

/// A [`Runtime`] that can also open TCP streams and spawn processes.
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

    /// The runtime's process spawner, for servers run with `--server`.
    type Spawner: ProcessSpawner + Clone + Send + Sync + 'static;

    /// The spawner.
    fn spawner(&self) -> Self::Spawner;
}

/// A weir-mcp connector to the MCP server at `addr`: each connection is a
/// new TCP stream framed as newline-delimited JSON-RPC (MCP's stdio
/// framing).
///
/// ```
/// let c = weir_demo::net::tcp(weir::Smol, "127.0.0.1:9".parse().unwrap());
/// # drop(c);
/// ```
pub fn tcp<R: NetRuntime>(rt: R, addr: SocketAddr) -> BoxConnect<R> {
    BoxConnect::new(move || {
        let rt = rt.clone();
        async move {
            let stream = rt
                .connect(addr)
                .await
                .map_err(|e| TransportError::Connect(Arc::new(e)))?;
            let (r, w) = futures_lite::io::split(stream);
            Ok(Framed::new(r, w))
        }
    })
}

/// A weir-mcp connector that runs `command_line` as a child process and
/// speaks MCP over its stdin and stdout (weir-mcp's supervised stdio
/// transport).
///
/// ```
/// assert!(weir_demo::net::stdio(weir::Smol, "npx -y @modelcontextprotocol/server-everything").is_ok());
/// assert!(weir_demo::net::stdio(weir::Smol, "").is_err());
/// ```
///
/// # Errors
///
/// When the command line is empty or cannot be split into words.
pub fn stdio<R: NetRuntime>(rt: R, command_line: &str) -> Result<BoxConnect<R>, ConfigError> {
    let spawner = rt.spawner();
    Stdio::command_line(spawner, rt, command_line).map(BoxConnect::new)
}

impl NetRuntime for Smol {
    type Stream = smol::net::TcpStream;
    type Spawner = weir::smol::SmolProcess;

    fn spawner(&self) -> Self::Spawner {
        weir::smol::SmolProcess
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = smol::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl NetRuntime for AsyncStd {
    type Stream = async_std::net::TcpStream;
    type Spawner = weir::async_std::AsyncStdProcess;

    fn spawner(&self) -> Self::Spawner {
        weir::async_std::AsyncStdProcess
    }

    async fn connect(&self, addr: SocketAddr) -> io::Result<Self::Stream> {
        let s = async_std::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        Ok(s)
    }
}

impl NetRuntime for Tokio {
    type Stream = TokioStream;
    type Spawner = weir::tokio::TokioProcess;

    fn spawner(&self) -> Self::Spawner {
        weir::tokio::TokioProcess
    }

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
