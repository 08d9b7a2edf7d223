//! Pooled TCP connections: the manager the adapters instantiate.

use core::fmt;
use core::future::Future;
use core::marker::PhantomData;
use std::io;

use super::Manager;

/// What an adapter supplies so that [`TcpManager`] can open and check its
/// executor's TCP streams. Implemented by `weir_smol::SmolTcp`,
/// `weir_tokio::TokioTcp` and `weir_async_std::AsyncStdTcp`; each adapter
/// names `TcpManager<ItsConnector>` simply `TcpManager`.
///
/// ```
/// use std::io;
/// use weir_core::pool::TcpConnector;
///
/// /// A connector whose streams are never reached (a test double).
/// struct Nowhere;
///
/// impl TcpConnector for Nowhere {
///     type Stream = ();
///     async fn connect(_addr: &str) -> io::Result<()> {
///         Err(io::ErrorKind::ConnectionRefused.into())
///     }
///     fn set_nodelay(_: &(), _: bool) -> io::Result<()> { Ok(()) }
///     async fn peek_now(_: &mut ()) -> Option<io::Result<usize>> { None }
/// }
/// ```
pub trait TcpConnector: Send + Sync + 'static {
    /// The executor's TCP stream.
    type Stream: Send + 'static;

    /// Opens a connection to `addr` (`host:port`).
    fn connect(addr: &str) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Sets `TCP_NODELAY`.
    fn set_nodelay(stream: &Self::Stream, on: bool) -> io::Result<()>;

    /// Peeks one byte without waiting: `None` when the read would block.
    fn peek_now(
        stream: &mut Self::Stream,
    ) -> impl Future<Output = Option<io::Result<usize>>> + Send;
}

/// Opens and checks TCP connections for a
/// [`ResourcePool`](crate::ResourcePool); the adapters export it for their
/// executor as `TcpManager`.
///
/// Before a connection is handed out again it is checked without waiting
/// (see [`idle_stream_verdict`]): a peer that closed it, an error on it, or
/// bytes nobody asked for each discard it, and the pool opens a fresh one.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::io;
/// use weir_core::{ResourcePool, pool::{PoolError, TcpConnector, TcpManager}};
/// use weir_core::test_util::VirtualRuntime;
///
/// // The adapters supply real connectors (weir_smol::TcpManager is
/// // TcpManager<SmolTcp>); this one is always refused.
/// struct Refused;
/// impl TcpConnector for Refused {
///     type Stream = ();
///     async fn connect(_: &str) -> io::Result<()> { Err(io::ErrorKind::ConnectionRefused.into()) }
///     fn set_nodelay(_: &(), _: bool) -> io::Result<()> { Ok(()) }
///     async fn peek_now(_: &mut ()) -> Option<io::Result<usize>> { None }
/// }
///
/// let rt = VirtualRuntime::new();
/// let pool = ResourcePool::builder(TcpManager::<Refused>::new("127.0.0.1:9")).max_size(8).build(rt.clone()).unwrap();
/// assert!(matches!(rt.block_on(pool.get()), Err(PoolError::Create(_))));
/// # }
/// ```
pub struct TcpManager<C> {
    addr: String,
    nodelay: bool,
    connector: PhantomData<fn() -> C>,
}

impl<C> TcpManager<C> {
    /// Connections to `addr` (anything `host:port`-like), with `TCP_NODELAY`
    /// on, as request/response protocols want.
    ///
    /// ```
    /// # struct C;
    /// let m = weir_core::pool::TcpManager::<C>::new("127.0.0.1:7000");
    /// assert_eq!(m.addr(), "127.0.0.1:7000");
    /// ```
    pub fn new(addr: impl ToString) -> Self {
        TcpManager {
            addr: addr.to_string(),
            nodelay: true,
            connector: PhantomData,
        }
    }

    /// Sets `TCP_NODELAY` on new connections (default on).
    ///
    /// ```
    /// # struct C;
    /// let m = weir_core::pool::TcpManager::<C>::new("127.0.0.1:7000").nodelay(false);
    /// # drop(m);
    /// ```
    pub fn nodelay(mut self, on: bool) -> Self {
        self.nodelay = on;
        self
    }

    /// The address connections go to.
    ///
    /// ```
    /// # struct C;
    /// assert_eq!(weir_core::pool::TcpManager::<C>::new("db:5432").addr(), "db:5432");
    /// ```
    pub fn addr(&self) -> &str {
        &self.addr
    }
}

impl<C> Clone for TcpManager<C> {
    fn clone(&self) -> Self {
        TcpManager {
            addr: self.addr.clone(),
            nodelay: self.nodelay,
            connector: PhantomData,
        }
    }
}

impl<C> fmt::Debug for TcpManager<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TcpManager")
            .field("addr", &self.addr)
            .field("nodelay", &self.nodelay)
            .finish()
    }
}

impl<C: TcpConnector> Manager for TcpManager<C> {
    type Resource = C::Stream;
    type Error = io::Error;

    async fn create(&self) -> io::Result<C::Stream> {
        let stream = C::connect(&self.addr).await?;
        C::set_nodelay(&stream, self.nodelay)?;
        Ok(stream)
    }

    async fn recycle(&self, stream: &mut C::Stream) -> io::Result<()> {
        idle_stream_verdict(C::peek_now(stream).await)
    }
}

/// Judges an idle connection from a non-blocking peek of one byte:
/// `None` (the peek would wait: nothing to read, peer still there) means
/// reusable; end of stream, an error, or unread bytes on a connection that
/// should be silent (a request/response stream out of step) mean discard it.
///
/// ```
/// use std::io;
/// use weir_core::pool::idle_stream_verdict;
///
/// assert!(idle_stream_verdict(None).is_ok());
/// assert_eq!(idle_stream_verdict(Some(Ok(0))).unwrap_err().kind(), io::ErrorKind::ConnectionAborted);
/// assert_eq!(idle_stream_verdict(Some(Ok(1))).unwrap_err().kind(), io::ErrorKind::InvalidData);
/// ```
pub fn idle_stream_verdict(peeked: Option<io::Result<usize>>) -> io::Result<()> {
    match peeked {
        None => Ok(()),
        Some(Ok(0)) => Err(io::Error::new(
            io::ErrorKind::ConnectionAborted,
            "peer closed the connection",
        )),
        Some(Ok(_)) => Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "unread bytes on an idle connection",
        )),
        Some(Err(e)) => Err(e),
    }
}
