//! A response body that gives its connection back when it ends and closes
//! it when dropped early.

use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use hyper::body::Incoming;
use weir_core::io::NetRuntime;
use weir_core::pool::Pooled;

use super::conn::OriginManager;

/// The body of a response from [`HttpClient`](super::HttpClient).
///
/// Read to its end, it returns its connection to the origin's pool. Dropped
/// before that, the connection is closed instead: an HTTP/1.1 connection
/// with half a body unread cannot carry another request, and for a
/// Streamable HTTP response stream the close is what tells the server the
/// client gave up (the 2026-07-28 cancel).
pub struct ResponseBody<R: NetRuntime> {
    incoming: Incoming,
    conn: Option<Pooled<OriginManager<R>>>,
}

impl<R: NetRuntime> ResponseBody<R> {
    pub(crate) fn new(incoming: Incoming, conn: Pooled<OriginManager<R>>) -> Self {
        let mut body = ResponseBody {
            incoming,
            conn: Some(conn),
        };
        if body.incoming.is_end_stream() {
            body.conn = None;
        }
        body
    }
}

impl<R: NetRuntime> Body for ResponseBody<R> {
    type Data = Bytes;
    type Error = hyper::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, hyper::Error>>> {
        let frame = ready!(Pin::new(&mut self.incoming).poll_frame(cx));
        match &frame {
            // The whole body is in: the connection can serve the next request.
            None => self.conn = None,
            Some(Err(_)) => {
                if let Some(conn) = self.conn.take() {
                    drop(conn.detach());
                }
            }
            Some(Ok(_)) if self.incoming.is_end_stream() => self.conn = None,
            Some(Ok(_)) => {}
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.incoming.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.incoming.size_hint()
    }
}

impl<R: NetRuntime> Drop for ResponseBody<R> {
    fn drop(&mut self) {
        // Unread bytes left: take the connection out of the pool and drop
        // it, which closes the socket once hyper's driver sees both ends gone.
        if let Some(conn) = self.conn.take() {
            drop(conn.detach());
        }
    }
}

impl<R: NetRuntime> fmt::Debug for ResponseBody<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseBody")
            .field("holds_connection", &self.conn.is_some())
            .finish()
    }
}
