//! The seam between the session and the wire: whole JSON-RPC messages in
//! both directions.
//!
//! A [`Transport`] is one connection's lifetime (one child process, one HTTP
//! origin with its session). It splits into a [`MessageSink`], driven by the
//! session's writer task, and a [`MessageSource`], driven by its reader task;
//! the two run at once and neither is ever dropped mid-operation except at
//! shutdown, so neither has to be cancel-safe.
//!
//! Each outbound message comes as an [`Outbound`]: the encoded body plus what
//! an HTTP transport needs besides it (request or not, id, method, the name
//! for `Mcp-Name`, the protocol version, the lane). Inbound, the source yields
//! [`Inbound`] items: messages, and [`TransportEvent`]s the session acts on
//! (a malformed frame, a request that failed at the transport, a lost
//! modern-era stream, an expired legacy session).
//!
//! How each transport treats a cancelled request is its own:
//! [`MessageSink::cancel`] answers whether the session should send
//! `notifications/cancelled` (stdio; legacy HTTP, which posts it on its
//! control lane) or whether closing the request's stream already said it
//! (modern HTTP).
//!
//! A [`Connect`] makes transports: the client calls it for the first
//! connection and again after a transport died, so restarting a server is a
//! new transport and a new handshake.
//!
//! ```
//! use weir_mcp::transport::{Connect, Transport};
//! use weir_mcp::memory;
//!
//! // A connector is anything that makes transports on demand.
//! let connect = || async { Ok(memory::pair().0) };
//! fn is_connect<C: Connect>(_: &C) {}
//! is_connect(&connect);
//! ```

use core::fmt;
use core::future::Future;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::Duration;

use crate::framing::FrameError;
use crate::jsonrpc::{Message, RequestId};

/// The protocol family a server speaks.
///
/// ```
/// use weir_mcp::transport::Era;
/// assert_ne!(Era::Legacy, Era::Modern);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Era {
    /// 2025-11-25 and earlier: an `initialize` handshake opens a session.
    Legacy,
    /// 2026-07-28 and later: stateless, `_meta` on every request.
    Modern,
}

/// Which queue an outbound message waits in.
///
/// Control messages (`notifications/cancelled`, replies to the server's own
/// requests) never wait behind ordinary requests: no bulkhead, rate limit
/// or connection limit may hold them back. A transport with its own
/// concurrency limit (HTTP) keeps a slot for them.
///
/// ```
/// use weir_mcp::transport::Lane;
/// assert_ne!(Lane::Normal, Lane::Control);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Lane {
    /// Requests and ordinary notifications.
    Normal,
    /// Cancellations and replies to server requests.
    Control,
}

/// What kind of JSON-RPC message an [`Outbound`] carries.
///
/// ```
/// use weir_mcp::transport::MessageKind;
/// assert_ne!(MessageKind::Request, MessageKind::Response);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MessageKind {
    /// A request: a response with the same id is expected.
    Request,
    /// A notification: nothing comes back.
    Notification,
    /// A response (or error response) to a server's request.
    Response,
}

/// One outbound message and what a transport needs to know about it.
///
/// Built by the session; transports read it. `body` is one JSON-RPC message
/// with no trailing newline.
///
/// ```
/// use weir_mcp::jsonrpc::{Message, Request};
/// use weir_mcp::transport::{Lane, MessageKind, Outbound};
///
/// let out = Outbound::from_message(&Message::Request(Request::new(1, "ping", None))).unwrap();
/// assert_eq!(out.kind, MessageKind::Request);
/// assert_eq!(out.method.as_deref(), Some("ping"));
/// assert_eq!(out.lane, Lane::Normal);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Outbound {
    /// The encoded message.
    pub body: Vec<u8>,
    /// Request, notification or response.
    pub kind: MessageKind,
    /// The id of a request or response.
    pub id: Option<RequestId>,
    /// The method of a request or notification (for `Mcp-Method`).
    pub method: Option<Cow<'static, str>>,
    /// The tool name of `tools/call`, the URI of `resources/read`, the
    /// prompt name of `prompts/get` (for `Mcp-Name`).
    pub name: Option<String>,
    /// The protocol version this message is sent under (negotiated in the
    /// legacy era, declared in `_meta` in the modern one); `None` before the
    /// era is known.
    pub protocol_version: Option<&'static str>,
    /// The era, once known.
    pub era: Option<Era>,
    /// The lane this message travels in.
    pub lane: Lane,
    /// For `tools/call`: the tool's `inputSchema` as listed, when the client
    /// has listed it (an HTTP transport reads its `x-mcp-header`
    /// declarations to mirror arguments into `Mcp-Param-*` headers).
    pub tool_schema: Option<Arc<serde_json::Value>>,
}

impl Outbound {
    /// Encodes `message` with the metadata read from it; the session fills
    /// in the rest.
    ///
    /// # Errors
    ///
    /// When the message cannot be serialized.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{Message, Notification};
    /// let out = weir_mcp::transport::Outbound::from_message(
    ///     &Message::Notification(Notification::new("notifications/initialized", None))).unwrap();
    /// assert!(out.id.is_none());
    /// ```
    pub fn from_message(message: &Message) -> Result<Outbound, serde_json::Error> {
        let kind = match message {
            Message::Request(_) => MessageKind::Request,
            Message::Notification(_) => MessageKind::Notification,
            Message::Response(_) | Message::Error(_) => MessageKind::Response,
        };
        Ok(Outbound {
            body: message.encode()?,
            kind,
            id: message.id().cloned(),
            method: message.method().map(|m| Cow::Owned(m.to_owned())),
            name: None,
            protocol_version: None,
            era: None,
            lane: if kind == MessageKind::Response {
                Lane::Control
            } else {
                Lane::Normal
            },
            tool_schema: None,
        })
    }
}

/// One item from a [`MessageSource`].
///
/// ```
/// use weir_mcp::jsonrpc::{Message, Notification};
/// use weir_mcp::transport::Inbound;
/// let i = Inbound::Message(Message::Notification(Notification::new("x", None)));
/// assert!(matches!(i, Inbound::Message(_)));
/// ```
#[derive(Debug)]
pub enum Inbound {
    /// A message from the server.
    Message(Message),
    /// Something the transport saw that the session must act on.
    Event(TransportEvent),
}

/// A transport-level event; none of them ends the connection.
///
/// ```
/// use weir_mcp::transport::TransportEvent;
/// let e = TransportEvent::StreamLost { id: 3.into() };
/// assert!(matches!(e, TransportEvent::StreamLost { .. }));
/// ```
#[derive(Debug)]
#[non_exhaustive]
pub enum TransportEvent {
    /// A frame that is not a JSON-RPC message: logged and counted, and the
    /// connection lives on.
    Malformed(FrameError),
    /// The request `id` failed at the transport (an HTTP status, a refused
    /// POST): that call ends with `error`; the rest go on.
    RequestFailed {
        /// The request.
        id: RequestId,
        /// Why.
        error: TransportError,
    },
    /// Modern era: the response stream of request `id` broke before its
    /// response. The session re-issues the request under a new id (never a
    /// resume).
    StreamLost {
        /// The request whose stream broke.
        id: RequestId,
    },
    /// Legacy HTTP: the server forgot the session (HTTP 404). The session
    /// initialises again, once, and re-sends request `id` (if any) under a
    /// new id; a second expiry in a row fails the call.
    SessionExpired {
        /// The request that met the 404.
        id: Option<RequestId>,
    },
}

/// What the session does after [`MessageSink::cancel`].
///
/// ```
/// use weir_mcp::transport::CancelAction;
/// assert_ne!(CancelAction::Notify, CancelAction::Done);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CancelAction {
    /// Send `notifications/cancelled` for the request (stdio, legacy HTTP).
    Notify,
    /// The transport has told the server already (modern HTTP closed the
    /// request's stream); send nothing.
    Done,
}

/// Why a transport failed. Cheap to clone: one failure ends every call in
/// flight on the connection, and each gets a copy.
///
/// ```
/// use weir_mcp::transport::TransportError;
/// let e = TransportError::Closed;
/// assert!(e.is_fatal());
/// assert!(!TransportError::Overloaded { retry_after: None }.is_fatal());
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum TransportError {
    /// The connection closed (end of stream, transport shut down).
    Closed,
    /// An I/O error on the connection.
    Io(Arc<std::io::Error>),
    /// The server process exited; `status` is its description
    /// (`exit status: 1`, `signal: 9`).
    Exited {
        /// How it ended.
        status: String,
    },
    /// The server could not be started or reached.
    Connect(Arc<dyn std::error::Error + Send + Sync>),
    /// An HTTP status that is not success, with the start of the body.
    Http {
        /// The status code.
        status: u16,
        /// The first bytes of the body, for the message.
        body: String,
    },
    /// The server asked us to slow down (HTTP 429 or 503), with its
    /// `Retry-After` when it sent one; becomes weir's `RateLimited`.
    Overloaded {
        /// The wait the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// The transport broke its own protocol (an HTTP reply that is neither
    /// JSON nor SSE, an SSE event too large).
    Protocol(String),
}

impl TransportError {
    /// Whether the connection is gone: every call in flight fails and the
    /// client connects again on the next call. Per-request failures
    /// (`Http`, `Overloaded`, reported through
    /// [`TransportEvent::RequestFailed`]) are not fatal.
    ///
    /// ```
    /// use weir_mcp::transport::TransportError;
    /// assert!(TransportError::Exited { status: "exit status: 1".into() }.is_fatal());
    /// ```
    pub fn is_fatal(&self) -> bool {
        !matches!(
            self,
            TransportError::Http { .. }
                | TransportError::Overloaded { .. }
                | TransportError::Protocol(_)
        )
    }

    /// An I/O error, shared.
    ///
    /// ```
    /// let e = weir_mcp::transport::TransportError::io(std::io::ErrorKind::BrokenPipe.into());
    /// assert!(e.is_fatal());
    /// ```
    pub fn io(e: std::io::Error) -> Self {
        TransportError::Io(Arc::new(e))
    }
}

impl fmt::Display for TransportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransportError::Closed => f.write_str("connection closed"),
            TransportError::Io(e) => write!(f, "I/O error: {e}"),
            TransportError::Exited { status } => write!(f, "server exited ({status})"),
            TransportError::Connect(e) => write!(f, "could not connect: {e}"),
            TransportError::Http { status, body } => write!(f, "HTTP {status}: {body}"),
            TransportError::Overloaded {
                retry_after: Some(d),
            } => {
                write!(f, "server overloaded; retry after {d:?}")
            }
            TransportError::Overloaded { retry_after: None } => f.write_str("server overloaded"),
            TransportError::Protocol(m) => write!(f, "transport protocol error: {m}"),
        }
    }
}

impl std::error::Error for TransportError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            TransportError::Io(e) => Some(&**e),
            TransportError::Connect(e) => Some(&**e),
            _ => None,
        }
    }
}

impl From<std::io::Error> for TransportError {
    fn from(e: std::io::Error) -> Self {
        TransportError::io(e)
    }
}

/// The writing half of a transport, driven by one task.
///
/// The session calls [`send`](MessageSink::send) for each queued message,
/// then [`flush`](MessageSink::flush) once the queue is empty, so a byte
/// stream can batch writes. Control-lane messages are handed over before
/// normal ones.
///
/// ```
/// use weir_mcp::transport::{MessageSink, Outbound, TransportError};
///
/// /// A sink that forgets everything (a test double).
/// struct Drain;
/// impl MessageSink for Drain {
///     async fn send(&mut self, _msg: Outbound) -> Result<(), TransportError> { Ok(()) }
/// }
/// ```
pub trait MessageSink: Send + 'static {
    /// Writes (or hands off) one message. An HTTP transport starts the POST
    /// and returns without waiting for its reply; the reply comes through
    /// the source.
    ///
    /// An error here is fatal for the connection.
    fn send(&mut self, msg: Outbound) -> impl Future<Output = Result<(), TransportError>> + Send;

    /// Pushes out what `send` buffered. Called when the writer's queue is
    /// empty.
    fn flush(&mut self) -> impl Future<Output = Result<(), TransportError>> + Send {
        async { Ok(()) }
    }

    /// The request `id` was abandoned before its response (its future or
    /// stream was dropped, its deadline passed, its token fired). Must not
    /// block. Returns whether the session should send
    /// `notifications/cancelled` itself.
    fn cancel(&mut self, id: &RequestId) -> CancelAction {
        let _ = id;
        CancelAction::Notify
    }

    /// The session tells the transport the era and version it settled on
    /// (after `initialize` or `server/discover`), before any further send.
    fn negotiated(&mut self, era: Era, protocol_version: &'static str) {
        let _ = (era, protocol_version);
    }

    /// Ends the connection: the session is closing. Bounded by the
    /// transport (a child process is stopped within its grace periods).
    fn close(&mut self) -> impl Future<Output = ()> + Send {
        async {}
    }
}

/// The reading half of a transport, driven by one task.
///
/// ```
/// use weir_mcp::transport::{Inbound, MessageSource, TransportError};
///
/// /// A source that is closed at once (a test double).
/// struct Empty;
/// impl MessageSource for Empty {
///     async fn recv(&mut self) -> Result<Inbound, TransportError> { Err(TransportError::Closed) }
/// }
/// ```
pub trait MessageSource: Send + 'static {
    /// The next message or event. An error is fatal: the session fails
    /// every call in flight with it and stops reading.
    fn recv(&mut self) -> impl Future<Output = Result<Inbound, TransportError>> + Send;
}

/// One connection, split into its two halves.
///
/// ```
/// use weir_mcp::transport::Transport;
/// let (client_end, _server_end) = weir_mcp::memory::pair();
/// let (_sink, _source) = client_end.split();
/// ```
pub trait Transport: Send + 'static {
    /// The writing half.
    type Sink: MessageSink;
    /// The reading half.
    type Source: MessageSource;
    /// Splits into the halves the session's writer and reader drive.
    fn split(self) -> (Self::Sink, Self::Source);
}

/// Makes transports: the first connection, and a new one after a
/// transport died (a restarted server process).
///
/// Closures returning a future of a transport are connectors.
///
/// ```
/// use weir_mcp::transport::Connect;
/// let connect = || async { Ok(weir_mcp::memory::pair().0) };
/// # fn is_connect<C: Connect>(_: &C) {}
/// # is_connect(&connect);
/// ```
pub trait Connect: Send + Sync + 'static {
    /// The transport made.
    type Transport: Transport;
    /// Opens a new connection.
    fn connect(&self) -> impl Future<Output = Result<Self::Transport, TransportError>> + Send;
}

impl<F, Fut, T> Connect for F
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<T, TransportError>> + Send,
    T: Transport,
{
    type Transport = T;
    fn connect(&self) -> impl Future<Output = Result<T, TransportError>> + Send {
        self()
    }
}
