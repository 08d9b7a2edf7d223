//! weir-mcp's `Client` over Streamable HTTP against loopback servers, on
//! every runtime: a dropped call's `notifications/cancelled` goes out on the
//! control lane while the bulkhead and every request connection are taken.

mod http_support;

use std::sync::Arc;
use std::time::Duration;

use futures_lite::future::poll_once;
use http::StatusCode;
use http_support::{Reply, Server, result};
use parking_lot::Mutex;
use serde_json::json;
use weir_core::Bulkhead;
use weir_core::io::NetRuntime;
use weir_mcp::http::StreamableHttpBuilder;
use weir_mcp::transport::TransportError;
use weir_mcp::{Client, ProtocolMode};

async fn a_dropped_call_is_cancelled_past_a_full_bulkhead<R: NetRuntime>(rt: R) {
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = streams.clone();
    let server = Server::start(move |seen| {
        match (seen.rpc_method(), seen.body["params"]["name"].as_str()) {
        (Some("initialize"), _) => Reply::Json(
            StatusCode::OK,
            vec![("mcp-session-id", "s-9".into())],
            result(&seen.body["id"], json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "t", "version": "1"}})).to_string(),
        ),
        (Some("tools/call"), Some("slow")) => {
            let (tx, rx) = async_channel::unbounded();
            held.lock().push(tx);
            Reply::Sse(vec![], rx)
        }
        (Some("tools/call"), _) => {
            Reply::Json(StatusCode::OK, vec![], result(&seen.body["id"], json!({"content": []})).to_string())
        }
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    }
    });
    // Two request connections and a bulkhead of two: two slow calls take
    // both, a third call waits in the bulkhead's queue.
    let transport = StreamableHttpBuilder::new(&server.url)
        .max_connections(2)
        .get_stream(false);
    let connect_rt = rt.clone();
    let connector = move || {
        let transport = transport.clone();
        let rt = connect_rt.clone();
        async move {
            transport
                .build(rt)
                .map_err(|e| TransportError::Connect(Arc::new(e)))
        }
    };
    let bulkhead = Bulkhead::builder()
        .max_concurrent(2)
        .max_queued(8)
        .build(rt.clone())
        .unwrap();
    let client = Client::builder(rt)
        .protocol(ProtocolMode::Legacy)
        .bulkhead(bulkhead)
        .timeout(Some(Duration::from_secs(30)))
        .build(connector);
    client.connect().await.unwrap();
    assert_eq!(server.next().await.rpc_method(), Some("initialize"));
    assert_eq!(
        server.next().await.rpc_method(),
        Some("notifications/initialized")
    );

    let mut first = Box::pin(client.call_tool("slow", json!({})));
    assert!(poll_once(&mut first).await.is_none());
    let first_id = server.next().await.body["id"].clone();
    let mut second = Box::pin(client.call_tool("slow", json!({})));
    assert!(poll_once(&mut second).await.is_none());
    server.next().await;
    let mut third = Box::pin(client.call_tool("fast", json!({})));
    assert!(poll_once(&mut third).await.is_none());

    drop(first);
    // Nothing else can reach the server now: both request connections
    // carry open streams. The cancellation does, on the control lane.
    let cancel = server.next().await;
    assert_eq!(cancel.rpc_method(), Some("notifications/cancelled"));
    assert_eq!(cancel.body["params"]["requestId"], first_id);
    assert_eq!(cancel.header("mcp-session-id"), Some("s-9"));

    // Ending the slow streams frees a connection: the queued call completes.
    streams.lock().clear();
    drop(second);
    assert!(third.await.is_ok());
    client.close();
}

on_every_net_runtime!(a_dropped_call_is_cancelled_past_a_full_bulkhead);
