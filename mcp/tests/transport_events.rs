//! What the session does with transport events and cancel actions: a lost
//! modern stream is re-issued under a new id, an expired legacy session is
//! initialised again once, a modern HTTP-like transport cancels by itself,
//! a dropped progress stream cancels, invalid header tools are dropped.

mod common;

use std::sync::Arc;

use futures_lite::StreamExt;
use parking_lot::Mutex;
use serde_json::{Value, json};
use weir_core::{Runtime, rt::JoinHandle, test_util::VirtualRuntime};
use weir_mcp::handler::ClientHandler;
use weir_mcp::protocol::Tool;
use weir_mcp::transport::{CancelAction, TransportError, TransportEvent};
use weir_mcp::{CallEvent, Client, McpError, ProtocolMode, memory};

use common::{Server, connector, text, token};

#[test]
fn a_lost_stream_is_reissued_under_a_new_id() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair_with(CancelAction::Done);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let ids = rt.spawn(async move {
        let first = srv.request().await.unwrap();
        srv.peer
            .send_event(TransportEvent::StreamLost {
                id: first.id.clone(),
            })
            .unwrap();
        let second = srv.request().await.unwrap();
        srv.reply(second.id.clone(), text("again"));
        (first, second)
    });
    assert_eq!(
        rt.block_on(client.call_tool("t", json!({"k": 1})))
            .unwrap()
            .text(),
        "again"
    );
    let (first, second) = rt.block_on(ids).unwrap();
    assert_ne!(first.id, second.id);
    assert_eq!(
        common::params(second.params.as_deref())["arguments"],
        json!({"k": 1})
    );
    assert_eq!(
        client.stats().cancels,
        0,
        "a lost stream is not a cancellation"
    );
}

#[test]
fn an_expired_session_is_initialised_again_once() {
    let rt = VirtualRuntime::new();
    let (t1, p1) = memory::pair();
    let (t2, p2) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t1, t2]));
    let (s1, s2) = (Server::new(p1), Server::new(p2));
    let srv = s1.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        srv.peer
            .send_event(TransportEvent::SessionExpired { id: Some(r.id) })
            .unwrap();
        let _ = srv.request().await;
    })
    .detach();
    let srv = s2.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        assert_eq!(r.method, "tools/call");
        srv.reply(r.id, text("new session"));
    })
    .detach();
    assert_eq!(
        rt.block_on(client.call_tool("t", json!({})))
            .unwrap()
            .text(),
        "new session"
    );
    assert_eq!(client.stats().connects, 2);
    assert_eq!(s1.peer.closes(), 1, "the expired connection was closed");
}

/// Like modern HTTP: the transport closes the stream, so no notification
/// goes out, but the transport hears the cancel exactly once.
#[test]
fn a_transport_that_cancels_itself_gets_no_notification() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair_with(CancelAction::Done);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let got = rt.spawn(async move { srv.request().await.unwrap() });
    rt.block_on(async {
        let mut call = Box::pin(client.call_tool("slow", json!({})));
        let req = futures_lite::future::or(
            async {
                let r = (&mut call).await;
                panic!("answered: {r:?}")
            },
            async { got.await.unwrap() },
        )
        .await;
        drop(call);
        rt.sleep(std::time::Duration::from_millis(1)).await;
        assert_eq!(server.peer.cancelled_ids(), vec![req.id]);
        assert!(
            server.peer.try_recv().is_none(),
            "no notifications/cancelled on the wire"
        );
    });
}

/// Dropping a progress stream before its result cancels the call once.
async fn dropping_a_progress_stream_cancels<R: Runtime>(rt: R) {
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    let after = rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        srv.progress(&token(&r), 1.0);
        srv.progress(&token(&r), 2.0);
        // The next message from the client, and the one after if any.
        let next = srv.next().await;
        (r, next)
    });
    let mut call = client.call_tool_with_progress("long", json!({}));
    let first = call.next().await.unwrap();
    assert!(
        matches!(first, CallEvent::Progress(ref p) if p.progress == 1.0),
        "{first:?}"
    );
    drop(call);
    let (req, next) = after.await.unwrap();
    let Some(weir_mcp::jsonrpc::Message::Notification(n)) = next else {
        panic!("{next:?}")
    };
    assert_eq!(n.method, "notifications/cancelled");
    let weir_mcp::jsonrpc::RequestId::Number(id) = req.id else {
        unreachable!()
    };
    assert_eq!(common::params(n.params.as_deref())["requestId"], json!(id));
    assert!(server.peer.try_recv().is_none(), "exactly one cancellation");
    assert_eq!(client.stats().cancels, 1);
}

on_every_runtime!(dropping_a_progress_stream_cancels);

#[derive(Default)]
struct Rejections(Arc<Mutex<Vec<String>>>);
impl ClientHandler for Rejections {
    fn on_tool_rejected(&self, tool: &Tool, reason: &str) {
        self.0.lock().push(format!("{}: {reason}", tool.name));
    }
}

#[test]
fn tools_with_invalid_header_declarations_are_dropped() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .handler(Rejections(seen.clone()))
        .build(connector(vec![t]));
    let server = Server::new(peer);
    let srv = server.clone();
    rt.spawn(async move {
        srv.accept_initialize("2025-11-25").await;
        let r = srv.request().await.unwrap();
        let prop = |h: Value, ty: &str| json!({"type": "object", "properties": {"p": {"type": ty, "x-mcp-header": h}}});
        srv.reply(
            r.id,
            json!({"tools": [
                {"name": "good", "inputSchema": prop(json!("Region"), "string")},
                {"name": "space", "inputSchema": prop(json!("Bad Name"), "string")},
                {"name": "colon", "inputSchema": prop(json!("a:b"), "string")},
                {"name": "unicode", "inputSchema": prop(json!("Région"), "string")},
                {"name": "newline", "inputSchema": prop(json!("a\r\nb"), "string")},
                {"name": "number", "inputSchema": prop(json!("N"), "number")},
                {"name": "dup", "inputSchema": {"type": "object", "properties": {
                    "a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "string", "x-mcp-header": "x"}}}},
                {"name": "plain", "inputSchema": {"type": "object"}}
            ]}),
        );
    })
    .detach();
    let tools = rt.block_on(client.list_tools()).unwrap();
    let names: Vec<_> = tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["good", "plain"]);
    assert_eq!(seen.lock().len(), 6);
    let _ = (McpError::Closed, TransportError::Closed);
}

/// A call dropped before the writer sent its request takes the request
/// back: the server sees neither the request nor a cancellation.
#[test]
fn a_call_dropped_before_its_request_is_written_sends_nothing() {
    let rt = VirtualRuntime::new();
    let (t, peer) = memory::pair();
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .build(connector(vec![t]));
    let server = Server::new(peer);
    rt.block_on(async {
        // Connected, with nothing in flight.
        let srv = server.clone();
        let first = rt.spawn(async move {
            let r = srv.request().await.unwrap();
            srv.reply(r.id, text("one"));
        });
        client.call_tool("warm", json!({})).await.unwrap();
        first.await.unwrap();
        // One poll queues the request; the writer has not run yet.
        let mut call = Box::pin(client.call_tool("gone", json!({})));
        assert!(futures_lite::future::poll_once(&mut call).await.is_none());
        drop(call);
        rt.sleep(std::time::Duration::from_millis(1)).await;
    });
    assert!(
        server.peer.try_recv().is_none(),
        "nothing reached the server"
    );
    assert_eq!(client.stats().cancels, 0);
    assert_eq!(server.peer.cancels(), 0);
}

/// A transport whose peer stopped reading: every send waits forever.
struct Stuck {
    closed: Arc<std::sync::atomic::AtomicBool>,
}
struct StuckSink(Arc<std::sync::atomic::AtomicBool>);
struct Silent;

impl weir_mcp::transport::Transport for Stuck {
    type Sink = StuckSink;
    type Source = Silent;
    fn split(self) -> (StuckSink, Silent) {
        (StuckSink(self.closed), Silent)
    }
}

impl weir_mcp::transport::MessageSink for StuckSink {
    async fn send(&mut self, _msg: weir_mcp::transport::Outbound) -> Result<(), TransportError> {
        futures_lite::future::pending().await
    }
    async fn close(&mut self) {
        self.0.store(true, std::sync::atomic::Ordering::SeqCst);
    }
}

impl weir_mcp::transport::MessageSource for Silent {
    async fn recv(&mut self) -> Result<weir_mcp::transport::Inbound, TransportError> {
        futures_lite::future::pending().await
    }
}

/// Closing the client closes a transport even while the writer is stuck
/// in a send (h-mcp-stdio's server that stopped reading its stdin).
#[test]
fn close_reaches_a_transport_stuck_in_a_send() {
    let rt = VirtualRuntime::new();
    let closed = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let slot = Mutex::new(Some(Stuck {
        closed: closed.clone(),
    }));
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .build(move || std::future::ready(slot.lock().take().ok_or(TransportError::Closed)));
    let c = client.clone();
    let call = rt.spawn(async move { c.call_tool("t", json!({"big": "x".repeat(1 << 20)})).await });
    rt.block_on(async {
        rt.sleep(std::time::Duration::from_millis(1)).await;
        assert!(!closed.load(std::sync::atomic::Ordering::SeqCst));
        client.close();
        rt.sleep(std::time::Duration::from_millis(1)).await;
    });
    assert!(
        closed.load(std::sync::atomic::Ordering::SeqCst),
        "the sink was closed"
    );
    let out = rt.block_on(call).unwrap();
    assert!(matches!(out, Err(McpError::Closed)), "{out:?}");
}

/// An untyped header property is accepted (as the HTTP transport mirrors
/// it); a header declared inside `items` or `anyOf` makes the tool invalid.
#[test]
fn header_declarations_outside_properties_chains_are_invalid() {
    use weir_mcp::protocol::tool_headers_valid;
    let untyped = json!({"type": "object", "properties": {"p": {"x-mcp-header": "P"}}});
    assert!(tool_headers_valid(&untyped).is_ok());
    let nested = json!({"type": "object", "properties": {"o": {"type": "object", "properties": {
        "p": {"type": "integer", "x-mcp-header": "Deep"}}}}});
    assert!(tool_headers_valid(&nested).is_ok());
    let in_any_of = json!({"type": "object", "properties": {"p": {"anyOf": [{"type": "string", "x-mcp-header": "A"}]}}});
    assert!(tool_headers_valid(&in_any_of).is_err());
    let at_root = json!({"type": "object", "x-mcp-header": "Root"});
    assert!(tool_headers_valid(&at_root).is_err());
    let array_type =
        json!({"type": "object", "properties": {"p": {"type": "array", "x-mcp-header": "A"}}});
    assert!(tool_headers_valid(&array_type).is_err());
}
