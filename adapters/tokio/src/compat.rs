//! tokio's byte streams as `futures-io` streams.

use core::pin::Pin;
use core::task::{Context, Poll, ready};
use std::io;

use tokio::io::ReadBuf;

/// Wraps a tokio stream so it speaks `futures_io::AsyncRead`/`AsyncWrite`,
/// the vocabulary of weir's I/O seams (tokio's traits differ only in how
/// they pass the read buffer and in naming `poll_close` `poll_shutdown`).
///
/// ```
/// use futures_lite::AsyncReadExt;
/// use weir_tokio::Compat;
///
/// # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
/// let mut r = Compat::new(&b"hello"[..]);
/// let mut s = String::new();
/// r.read_to_string(&mut s).await.unwrap();
/// assert_eq!(s, "hello");
/// # });
/// ```
#[derive(Debug)]
pub struct Compat<T>(T);

impl<T> Compat<T> {
    /// Wraps `inner`.
    ///
    /// ```
    /// let c = weir_tokio::Compat::new(&b""[..]);
    /// # drop(c);
    /// ```
    pub fn new(inner: T) -> Self {
        Compat(inner)
    }

    /// The tokio stream inside.
    ///
    /// ```
    /// let c = weir_tokio::Compat::new(7);
    /// assert_eq!(*c.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    /// The tokio stream inside, mutably.
    ///
    /// ```
    /// let mut c = weir_tokio::Compat::new(7);
    /// *c.get_mut() += 1;
    /// assert_eq!(c.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.0
    }

    /// Unwraps the tokio stream.
    ///
    /// ```
    /// assert_eq!(weir_tokio::Compat::new("x").into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T: tokio::io::AsyncRead + Unpin> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read = ReadBuf::new(buf);
        ready!(Pin::new(&mut self.0).poll_read(cx, &mut read))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

impl<T: tokio::io::AsyncWrite + Unpin> futures_io::AsyncWrite for Compat<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}
