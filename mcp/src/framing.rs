//! Newline-delimited JSON-RPC over any byte stream (`futures_io`
//! `AsyncRead`/`AsyncWrite`), as MCP's stdio transport frames it.
//!
//! One message per line, no embedded newlines (serde_json never writes
//! one). Reading is bounded: a line longer than the frame limit is skipped
//! to its end and reported as [`FrameError::TooLarge`]; a line that is not a
//! JSON-RPC message is reported as [`FrameError::Invalid`]. Both arrive as
//! [`TransportEvent::Malformed`] and the stream goes on; only end of
//! stream and I/O errors end it. Blank lines are skipped and a `\r` before
//! the newline is ignored.
//!
//! ```
//! use weir_mcp::framing::FrameReader;
//! use weir_mcp::transport::{Inbound, MessageSource, TransportEvent};
//!
//! let bytes: &[u8] = b"garbage\n{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n";
//! let mut reader = FrameReader::new(bytes);
//! futures_lite::future::block_on(async {
//!     assert!(matches!(reader.recv().await, Ok(Inbound::Event(TransportEvent::Malformed(_)))));
//!     assert!(matches!(reader.recv().await, Ok(Inbound::Message(_))));
//!     assert!(reader.recv().await.is_err()); // end of stream
//! });
//! ```

use core::fmt;

use futures_io::{AsyncRead, AsyncWrite};
use futures_lite::{AsyncReadExt, AsyncWriteExt};

use crate::jsonrpc::{DecodeError, Message};
use crate::transport::{
    Inbound, MessageSink, MessageSource, Outbound, Transport, TransportError, TransportEvent,
};

/// The default frame limit: 16 MiB, room for large tool results while
/// bounding what one line can make the client hold.
///
/// ```
/// assert_eq!(weir_mcp::framing::DEFAULT_MAX_FRAME, 16 << 20);
/// ```
pub const DEFAULT_MAX_FRAME: usize = 16 * 1024 * 1024;

/// How much a line quoted in an [`FrameError::Invalid`] keeps.
const QUOTE: usize = 160;

/// A frame that could not be used; the stream goes on after it.
///
/// ```
/// use weir_mcp::framing::FrameError;
/// let e = FrameError::TooLarge { limit: 10 };
/// assert_eq!(e.to_string(), "frame longer than the 10-byte limit, skipped");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameError {
    /// A line longer than the frame limit; skipped to its end.
    TooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// A line that is not a JSON-RPC message.
    Invalid {
        /// Why.
        error: DecodeError,
        /// The start of the line (lossy UTF-8), for the log.
        line: String,
    },
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::TooLarge { limit } => {
                write!(f, "frame longer than the {limit}-byte limit, skipped")
            }
            FrameError::Invalid { error, line } => write!(f, "{error} in line {line:?}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Reads newline-delimited messages from a byte stream.
///
/// ```
/// use weir_mcp::framing::FrameReader;
/// let reader = FrameReader::new(&b""[..]).max_frame(1024);
/// # drop(reader);
/// ```
pub struct FrameReader<R> {
    inner: R,
    buf: Vec<u8>,
    /// Start of the unread part of `buf`.
    start: usize,
    /// Where the newline search resumes: bytes before it hold no newline.
    scan: usize,
    max: usize,
    /// Inside a line already reported as too large: drop bytes to its end.
    skipping: bool,
    eof: bool,
}

impl<R> fmt::Debug for FrameReader<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameReader")
            .field("buffered", &(self.buf.len() - self.start))
            .field("max_frame", &self.max)
            .finish()
    }
}

impl<R: AsyncRead + Unpin> FrameReader<R> {
    /// A reader with the [`DEFAULT_MAX_FRAME`] limit.
    ///
    /// ```
    /// let _ = weir_mcp::framing::FrameReader::new(&b""[..]);
    /// ```
    pub fn new(inner: R) -> Self {
        FrameReader {
            inner,
            buf: Vec::with_capacity(8 * 1024),
            start: 0,
            scan: 0,
            max: DEFAULT_MAX_FRAME,
            skipping: false,
            eof: false,
        }
    }

    /// Sets the frame limit in bytes (the newline excluded); at least 1.
    ///
    /// ```
    /// let r = weir_mcp::framing::FrameReader::new(&b""[..]).max_frame(64);
    /// # drop(r);
    /// ```
    pub fn max_frame(mut self, max: usize) -> Self {
        self.max = max.max(1);
        self
    }

    /// The stream, back.
    ///
    /// ```
    /// let bytes: &[u8] = b"";
    /// assert!(weir_mcp::framing::FrameReader::new(bytes).into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> R {
        self.inner
    }

    /// The next message or malformed frame.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] at end of stream (after any last line
    /// without a newline), [`TransportError::Io`] on a read error.
    pub async fn next(&mut self) -> Result<Inbound, TransportError> {
        loop {
            if let Some(off) = self.buf[self.scan..].iter().position(|&b| b == b'\n') {
                let end = self.scan + off;
                let line_start = self.start;
                self.start = end + 1;
                self.scan = self.start;
                if self.skipping {
                    self.skipping = false;
                    continue;
                }
                // A whole line can arrive in one read: the limit holds for
                // it too, not only for a line still growing.
                if end - line_start > self.max {
                    return Ok(Inbound::Event(TransportEvent::Malformed(
                        FrameError::TooLarge { limit: self.max },
                    )));
                }
                if let Some(item) = decode_line(&self.buf[line_start..end]) {
                    return Ok(item);
                }
                continue;
            }
            self.scan = self.buf.len();
            if !self.skipping && self.buf.len() - self.start > self.max {
                // Report at once and drop what is held; the rest of the
                // line is dropped as it arrives.
                self.skipping = true;
                self.buf.clear();
                self.start = 0;
                self.scan = 0;
                return Ok(Inbound::Event(TransportEvent::Malformed(
                    FrameError::TooLarge { limit: self.max },
                )));
            }
            if self.skipping {
                self.buf.clear();
                self.start = 0;
                self.scan = 0;
            }
            if self.eof {
                if self.start < self.buf.len() && !self.skipping {
                    let line_start = self.start;
                    self.start = self.buf.len();
                    self.scan = self.start;
                    if let Some(item) = decode_line(&self.buf[line_start..]) {
                        return Ok(item);
                    }
                }
                return Err(TransportError::Closed);
            }
            self.fill().await?;
        }
    }

    async fn fill(&mut self) -> Result<(), TransportError> {
        if self.start > 0 {
            self.buf.drain(..self.start);
            self.scan -= self.start;
            self.start = 0;
        }
        let len = self.buf.len();
        let want = (self.buf.capacity() - len).max(8 * 1024);
        self.buf.resize(len + want, 0);
        let n = match self.inner.read(&mut self.buf[len..]).await {
            Ok(n) => n,
            Err(e) => {
                self.buf.truncate(len);
                return Err(TransportError::io(e));
            }
        };
        self.buf.truncate(len + n);
        if n == 0 {
            self.eof = true;
        }
        Ok(())
    }
}

/// `None` for a blank line.
fn decode_line(line: &[u8]) -> Option<Inbound> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.iter().all(u8::is_ascii_whitespace) {
        return None;
    }
    Some(match Message::decode(line) {
        Ok(m) => Inbound::Message(m),
        Err(error) => {
            let quoted = &line[..line.len().min(QUOTE)];
            Inbound::Event(TransportEvent::Malformed(FrameError::Invalid {
                error,
                line: String::from_utf8_lossy(quoted).into_owned(),
            }))
        }
    })
}

impl<R: AsyncRead + Unpin + Send + 'static> MessageSource for FrameReader<R> {
    async fn recv(&mut self) -> Result<Inbound, TransportError> {
        self.next().await
    }
}

/// Writes newline-delimited messages to a byte stream, batching until
/// [`flush`](MessageSink::flush).
///
/// ```
/// use weir_mcp::framing::FrameWriter;
/// use weir_mcp::jsonrpc::{Message, Notification};
/// use weir_mcp::transport::{MessageSink, Outbound};
///
/// let mut w = FrameWriter::new(Vec::<u8>::new());
/// futures_lite::future::block_on(async {
///     let n = Outbound::from_message(&Message::Notification(Notification::new("x", None))).unwrap();
///     w.send(n).await.unwrap();
///     w.flush().await.unwrap();
/// });
/// assert_eq!(w.into_inner(), b"{\"jsonrpc\":\"2.0\",\"method\":\"x\"}\n");
/// ```
pub struct FrameWriter<W> {
    inner: W,
    buf: Vec<u8>,
}

impl<W> fmt::Debug for FrameWriter<W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameWriter")
            .field("buffered", &self.buf.len())
            .finish()
    }
}

/// Above this many buffered bytes, `send` writes through without waiting
/// for `flush`.
const WRITE_THROUGH: usize = 64 * 1024;

impl<W: AsyncWrite + Unpin> FrameWriter<W> {
    /// A writer over `inner`.
    ///
    /// ```
    /// let _ = weir_mcp::framing::FrameWriter::new(Vec::<u8>::new());
    /// ```
    pub fn new(inner: W) -> Self {
        FrameWriter {
            inner,
            buf: Vec::with_capacity(8 * 1024),
        }
    }

    /// The stream, back (unflushed bytes are dropped).
    ///
    /// ```
    /// assert!(weir_mcp::framing::FrameWriter::new(Vec::<u8>::new()).into_inner().is_empty());
    /// ```
    pub fn into_inner(self) -> W {
        self.inner
    }

    /// Queues one line.
    ///
    /// # Errors
    ///
    /// When writing through a full buffer fails.
    pub async fn write_line(&mut self, body: &[u8]) -> Result<(), TransportError> {
        self.buf.extend_from_slice(body);
        self.buf.push(b'\n');
        if self.buf.len() >= WRITE_THROUGH {
            self.write_out().await?;
        }
        Ok(())
    }

    async fn write_out(&mut self) -> Result<(), TransportError> {
        let r = self.inner.write_all(&self.buf).await;
        self.buf.clear();
        r.map_err(TransportError::io)
    }

    /// Writes everything queued and flushes the stream.
    ///
    /// # Errors
    ///
    /// On a write error.
    pub async fn flush_lines(&mut self) -> Result<(), TransportError> {
        if !self.buf.is_empty() {
            self.write_out().await?;
        }
        self.inner.flush().await.map_err(TransportError::io)
    }

    /// Flushes, then closes the stream (end of stdin for a child).
    ///
    /// # Errors
    ///
    /// On a write error.
    pub async fn shutdown(&mut self) -> Result<(), TransportError> {
        self.flush_lines().await?;
        self.inner.close().await.map_err(TransportError::io)
    }
}

impl<W: AsyncWrite + Unpin + Send + 'static> MessageSink for FrameWriter<W> {
    async fn send(&mut self, msg: Outbound) -> Result<(), TransportError> {
        self.write_line(&msg.body).await
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        self.flush_lines().await
    }

    async fn close(&mut self) {
        let _ = self.shutdown().await;
    }
}

/// A transport over a reading and a writing byte stream (a child's stdout
/// and stdin, a socket's halves, a pipe in a test).
///
/// ```
/// use weir_mcp::framing::Framed;
/// use weir_mcp::transport::Transport;
/// let (r, _w) = piper::pipe(1024);
/// let (_r2, w2) = piper::pipe(1024);
/// let (_sink, _source) = Framed::new(r, w2).split();
/// ```
pub struct Framed<R, W> {
    reader: FrameReader<R>,
    writer: FrameWriter<W>,
}

impl<R, W> fmt::Debug for Framed<R, W> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Framed")
            .field("reader", &self.reader)
            .field("writer", &self.writer)
            .finish()
    }
}

impl<R: AsyncRead + Unpin, W: AsyncWrite + Unpin> Framed<R, W> {
    /// Frames `reader` and `writer` with the default frame limit.
    ///
    /// ```
    /// let t = weir_mcp::framing::Framed::new(&b""[..], Vec::<u8>::new());
    /// # drop(t);
    /// ```
    pub fn new(reader: R, writer: W) -> Self {
        Framed {
            reader: FrameReader::new(reader),
            writer: FrameWriter::new(writer),
        }
    }

    /// Sets the inbound frame limit in bytes.
    ///
    /// ```
    /// let t = weir_mcp::framing::Framed::new(&b""[..], Vec::<u8>::new()).max_frame(4096);
    /// # drop(t);
    /// ```
    pub fn max_frame(mut self, max: usize) -> Self {
        self.reader = self.reader.max_frame(max);
        self
    }

    /// The two halves.
    ///
    /// ```
    /// let (r, w) = weir_mcp::framing::Framed::new(&b""[..], Vec::<u8>::new()).into_parts();
    /// # drop((r, w));
    /// ```
    pub fn into_parts(self) -> (FrameReader<R>, FrameWriter<W>) {
        (self.reader, self.writer)
    }
}

impl<R, W> Transport for Framed<R, W>
where
    R: AsyncRead + Unpin + Send + 'static,
    W: AsyncWrite + Unpin + Send + 'static,
{
    type Sink = FrameWriter<W>;
    type Source = FrameReader<R>;
    fn split(self) -> (FrameWriter<W>, FrameReader<R>) {
        (self.writer, self.reader)
    }
}
