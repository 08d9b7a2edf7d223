//! An in-process transport: a client end and a server end joined by
//! channels, for tests and for servers embedded in the same program.
//!
//! The server end ([`Peer`]) sees every [`Outbound`] the client sends,
//! with its metadata, and answers with [`Message`]s or
//! [`TransportEvent`]s. Cancellations the session reports through
//! [`MessageSink::cancel`] are counted on the peer, and the transport can
//! act as stdio does (the session then sends `notifications/cancelled`) or
//! as modern HTTP does (closing the stream is the cancel).
//!
//! ```
//! use weir_mcp::jsonrpc::{Message, Notification};
//! use weir_mcp::transport::{Inbound, MessageSource, Transport};
//!
//! let (client, peer) = weir_mcp::memory::pair();
//! let (_sink, mut source) = client.split();
//! peer.send(Message::Notification(Notification::new("hello", None))).unwrap();
//! let got = futures_lite::future::block_on(source.recv()).unwrap();
//! assert!(matches!(got, Inbound::Message(Message::Notification(n)) if n.method == "hello"));
//! ```

use core::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use weir_core::queue::{self, Receiver, Sender};

use crate::jsonrpc::{Message, RequestId};
use crate::transport::{
    CancelAction, Era, Inbound, MessageSink, MessageSource, Outbound, Transport, TransportError,
    TransportEvent,
};

/// A joined pair whose client end behaves like stdio on cancel.
///
/// ```
/// let (client, peer) = weir_mcp::memory::pair();
/// # drop((client, peer));
/// ```
pub fn pair() -> (MemoryTransport, Peer) {
    pair_with(CancelAction::Notify)
}

/// A joined pair whose client end answers [`MessageSink::cancel`] with
/// `on_cancel` ([`CancelAction::Done`] acts like modern HTTP).
///
/// ```
/// use weir_mcp::transport::CancelAction;
/// let (client, peer) = weir_mcp::memory::pair_with(CancelAction::Done);
/// # drop((client, peer));
/// ```
pub fn pair_with(on_cancel: CancelAction) -> (MemoryTransport, Peer) {
    let (to_server, from_client) = queue::unbounded();
    let (to_client, from_server) = queue::unbounded();
    let shared = Arc::new(Counters::default());
    (
        MemoryTransport {
            sink: MemorySink {
                tx: to_server,
                on_cancel,
                shared: shared.clone(),
            },
            source: MemorySource { rx: from_server },
        },
        Peer {
            rx: from_client,
            tx: to_client,
            shared,
        },
    )
}

#[derive(Debug, Default)]
struct Counters {
    cancels: AtomicUsize,
    closes: AtomicUsize,
    negotiated: parking_lot::Mutex<Option<(Era, &'static str)>>,
    cancelled_ids: parking_lot::Mutex<Vec<RequestId>>,
}

/// The client end; split it or hand it to a client.
///
/// ```
/// use weir_mcp::transport::Transport;
/// let (client_end, _peer) = weir_mcp::memory::pair();
/// let (_sink, _source) = client_end.split();
/// ```
#[derive(Debug)]
pub struct MemoryTransport {
    sink: MemorySink,
    source: MemorySource,
}

impl Transport for MemoryTransport {
    type Sink = MemorySink;
    type Source = MemorySource;
    fn split(self) -> (MemorySink, MemorySource) {
        (self.sink, self.source)
    }
}

/// The client end's writing half.
///
/// ```
/// use weir_mcp::jsonrpc::{Message, Notification};
/// use weir_mcp::transport::{MessageSink, Outbound, Transport};
/// let (client_end, peer) = weir_mcp::memory::pair();
/// let (mut sink, _source) = client_end.split();
/// let n = Outbound::from_message(&Message::Notification(Notification::new("x", None))).unwrap();
/// futures_lite::future::block_on(sink.send(n)).unwrap();
/// assert!(peer.try_recv().is_some());
/// ```
#[derive(Debug)]
pub struct MemorySink {
    tx: Sender<Outbound>,
    on_cancel: CancelAction,
    shared: Arc<Counters>,
}

impl MessageSink for MemorySink {
    async fn send(&mut self, msg: Outbound) -> Result<(), TransportError> {
        self.tx.try_send(msg).map_err(|_| TransportError::Closed)
    }

    fn cancel(&mut self, id: &RequestId) -> CancelAction {
        self.shared.cancels.fetch_add(1, Ordering::SeqCst);
        self.shared.cancelled_ids.lock().push(id.clone());
        self.on_cancel
    }

    fn negotiated(&mut self, era: Era, protocol_version: &'static str) {
        *self.shared.negotiated.lock() = Some((era, protocol_version));
    }

    async fn close(&mut self) {
        self.shared.closes.fetch_add(1, Ordering::SeqCst);
        self.tx.close();
    }
}

/// The client end's reading half.
///
/// ```
/// use weir_mcp::transport::{MessageSource, Transport};
/// let (client_end, peer) = weir_mcp::memory::pair();
/// let (_sink, mut source) = client_end.split();
/// drop(peer);
/// assert!(futures_lite::future::block_on(source.recv()).is_err());
/// ```
#[derive(Debug)]
pub struct MemorySource {
    rx: Receiver<Inbound>,
}

impl MessageSource for MemorySource {
    async fn recv(&mut self) -> Result<Inbound, TransportError> {
        self.rx.recv().await.map_err(|_| TransportError::Closed)
    }
}

/// The server end of a [`pair`].
///
/// Dropping it (or [`close`](Peer::close)) closes the connection: the
/// client's reader sees [`TransportError::Closed`].
///
/// ```
/// let (_client_end, peer) = weir_mcp::memory::pair();
/// assert_eq!(peer.cancels(), 0);
/// ```
pub struct Peer {
    rx: Receiver<Outbound>,
    tx: Sender<Inbound>,
    shared: Arc<Counters>,
}

impl fmt::Debug for Peer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Peer")
            .field("pending", &self.rx.len())
            .field("cancels", &self.cancels())
            .finish()
    }
}

impl Peer {
    /// The next message the client sent; `None` once the client end is
    /// closed or dropped.
    ///
    /// ```
    /// let (client, peer) = weir_mcp::memory::pair();
    /// drop(client);
    /// assert!(futures_lite::future::block_on(peer.recv()).is_none());
    /// ```
    pub async fn recv(&self) -> Option<Outbound> {
        self.rx.recv().await.ok()
    }

    /// The next message if one is waiting.
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// assert!(peer.try_recv().is_none());
    /// ```
    pub fn try_recv(&self) -> Option<Outbound> {
        self.rx.try_recv().ok()
    }

    /// Sends `msg` to the client.
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the client end is gone.
    ///
    /// ```
    /// use weir_mcp::jsonrpc::{Message, Notification};
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// peer.send(Message::Notification(Notification::new("x", None))).unwrap();
    /// ```
    pub fn send(&self, msg: Message) -> Result<(), TransportError> {
        self.tx
            .try_send(Inbound::Message(msg))
            .map_err(|_| TransportError::Closed)
    }

    /// Delivers a transport event to the client, as a real transport would
    /// (a malformed frame, a failed request, a lost stream).
    ///
    /// # Errors
    ///
    /// [`TransportError::Closed`] when the client end is gone.
    ///
    /// ```
    /// use weir_mcp::transport::TransportEvent;
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// peer.send_event(TransportEvent::StreamLost { id: 1.into() }).unwrap();
    /// ```
    pub fn send_event(&self, event: TransportEvent) -> Result<(), TransportError> {
        self.tx
            .try_send(Inbound::Event(event))
            .map_err(|_| TransportError::Closed)
    }

    /// Closes the connection from the server's side.
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// peer.close();
    /// ```
    pub fn close(&self) {
        self.tx.close();
        self.rx.close();
    }

    /// How many times the session called [`MessageSink::cancel`].
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// assert_eq!(peer.cancels(), 0);
    /// ```
    pub fn cancels(&self) -> usize {
        self.shared.cancels.load(Ordering::SeqCst)
    }

    /// The ids passed to [`MessageSink::cancel`], in order.
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// assert!(peer.cancelled_ids().is_empty());
    /// ```
    pub fn cancelled_ids(&self) -> Vec<RequestId> {
        self.shared.cancelled_ids.lock().clone()
    }

    /// How many times the session closed its sink.
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// assert_eq!(peer.closes(), 0);
    /// ```
    pub fn closes(&self) -> usize {
        self.shared.closes.load(Ordering::SeqCst)
    }

    /// What the session reported through [`MessageSink::negotiated`].
    ///
    /// ```
    /// let (_client, peer) = weir_mcp::memory::pair();
    /// assert!(peer.negotiated().is_none());
    /// ```
    pub fn negotiated(&self) -> Option<(Era, &'static str)> {
        *self.shared.negotiated.lock()
    }
}
