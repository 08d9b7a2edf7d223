//! tokio's TCP streams as weir's network I/O, through weir-tokio's
//! futures-io wrapper [`Compat`](crate::Compat).

use std::io;
use std::mem::MaybeUninit;

use socket2::SockRef;
use tokio::net::TcpStream;
use weir_core::io::NetRuntime;
use weir_core::pool::TcpConnector;

use crate::{Compat, Tokio};

/// tokio's TCP streams, wrapped to speak futures-io
/// ([`weir_core::io::AsyncRead`]/[`AsyncWrite`](weir_core::io::AsyncWrite)):
/// the connector [`Tokio`]'s [`NetRuntime`] names, and what
/// `weir_core::pool::TcpManager<TokioIoTcp>` pools for protocol clients
/// such as weir-mcp's HTTP transport. ([`TokioTcp`](crate::TokioTcp) pools
/// the bare tokio stream.)
///
/// ```no_run
/// use weir_core::pool::TcpConnector;
/// use weir_tokio::TokioIoTcp;
///
/// # async fn demo() -> std::io::Result<()> {
/// let stream = TokioIoTcp::connect("127.0.0.1:7000").await?; // futures_io::AsyncRead + AsyncWrite
/// # drop(stream);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct TokioIoTcp;

impl TcpConnector for TokioIoTcp {
    type Stream = Compat<TcpStream>;

    async fn connect(addr: &str) -> io::Result<Compat<TcpStream>> {
        Ok(Compat::new(TcpStream::connect(addr).await?))
    }

    fn set_nodelay(stream: &Compat<TcpStream>, on: bool) -> io::Result<()> {
        stream.get_ref().set_nodelay(on)
    }

    async fn peek_now(stream: &mut Compat<TcpStream>) -> Option<io::Result<usize>> {
        // As in TokioTcp: ask the socket, not tokio's cached readiness.
        let mut byte = [MaybeUninit::<u8>::uninit(); 1];
        match SockRef::from(stream.get_ref()).peek(&mut byte) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => None,
            other => Some(other),
        }
    }
}

impl NetRuntime for Tokio {
    type Tcp = TokioIoTcp;
}

#[cfg(test)]
mod tests {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    #[tokio::test]
    async fn a_stream_from_the_runtime_carries_bytes_both_ways() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let server = tokio::spawn(async move {
            let (s, _) = listener.accept().await.unwrap();
            let mut s = Compat::new(s);
            let mut buf = [0u8; 4];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let mut c = <<Tokio as NetRuntime>::Tcp as TcpConnector>::connect(&addr)
            .await
            .unwrap();
        c.write_all(b"ping").await.unwrap();
        let mut back = [0u8; 4];
        c.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"ping");
        server.await.unwrap();
        // The server dropped its end: the peek the pool's recycle check uses sees the FIN.
        assert!(matches!(TokioIoTcp::peek_now(&mut c).await, Some(Ok(0))));
    }
}
