//! weir-mcp's `Client` over Streamable HTTP against loopback servers, on
//! every runtime: a dropped call's `notifications/cancelled` goes out on the
//! control lane while the bulkhead and every request connection are taken.

mod http_support;

use std::sync::Arc;
use std::time::Duration;
use weir_core::Quota;

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
        .queue_capacity(8)
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

/// What a connector closure returns: a boxed future of a fresh transport.
type Connecting<R> = std::pin::Pin<
    Box<
        dyn std::future::Future<Output = Result<weir_mcp::http::StreamableHttp<R>, TransportError>>
            + Send,
    >,
>;

fn connector<R: NetRuntime>(
    rt: R,
    transport: StreamableHttpBuilder,
) -> impl Fn() -> Connecting<R> + Send + Sync + 'static {
    move || {
        let transport = transport.clone();
        let rt = rt.clone();
        Box::pin(async move {
            transport
                .build(rt)
                .map_err(|e| TransportError::Connect(Arc::new(e)))
        })
    }
}

fn legacy_init(seen: &http_support::Seen, session: &str) -> Reply {
    Reply::Json(
        StatusCode::OK,
        vec![("mcp-session-id", session.to_owned())],
        result(&seen.body["id"], json!({"protocolVersion": "2025-11-25", "capabilities": {"tools": {}}, "serverInfo": {"name": "t", "version": "1"}})).to_string(),
    )
}

async fn an_expired_session_is_initialised_again_once<R: NetRuntime>(rt: R) {
    // Sessions s-1 and s-2 expire at their first tools/list; s-3 lives.
    let inits = Arc::new(Mutex::new(0u32));
    let expired: Arc<Mutex<Vec<String>>> = Arc::default();
    let (i, e) = (inits.clone(), expired.clone());
    let server = Server::start(move |seen| {
        let session = seen.header("mcp-session-id").map(str::to_owned);
        match (seen.rpc_method(), session) {
            (Some("initialize"), _) => {
                let mut n = i.lock();
                *n += 1;
                legacy_init(seen, &format!("s-{n}"))
            }
            (Some("tools/list"), Some(s)) if s != "s-3" && !e.lock().contains(&s) => {
                e.lock().push(s);
                Reply::Status(StatusCode::NOT_FOUND, vec![])
            }
            (Some("tools/list"), _) => Reply::Json(
                StatusCode::OK,
                vec![],
                result(&seen.body["id"], json!({"tools": []})).to_string(),
            ),
            _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
        }
    });
    let transport = StreamableHttpBuilder::new(&server.url).get_stream(false);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(rt, transport));
    // s-1 expires: one re-initialisation (s-2), which expires too: the call fails.
    assert!(client.list_tools().await.is_err());
    assert_eq!(*inits.lock(), 2);
    // The next call initialises s-3 and succeeds.
    assert!(client.list_tools().await.unwrap().is_empty());
    assert_eq!(*inits.lock(), 3);
    client.close();
}

async fn overload_becomes_rate_limited<R: NetRuntime>(rt: R) {
    let server = Server::start(|seen| match seen.rpc_method() {
        Some("initialize") => legacy_init(seen, "s-1"),
        Some("tools/call") => Reply::Status(
            StatusCode::TOO_MANY_REQUESTS,
            vec![("retry-after", "9".into())],
        ),
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    });
    let transport = StreamableHttpBuilder::new(&server.url).get_stream(false);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .build(connector(rt, transport));
    match client.call_tool("t", json!({})).await {
        Err(weir_mcp::McpError::RateLimited { retry_after }) => {
            assert_eq!(retry_after, Duration::from_secs(9))
        }
        other => panic!("expected RateLimited, got {other:?}"),
    }
    client.close();
}

async fn a_dropped_modern_call_closes_its_stream_and_posts_nothing<R: NetRuntime>(rt: R) {
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = streams.clone();
    let server = Server::start(move |_| {
        let (tx, rx) = async_channel::bounded(1);
        held.lock().push(tx);
        Reply::Sse(vec![], rx)
    });
    let transport = StreamableHttpBuilder::new(&server.url);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Modern)
        .build(connector(rt, transport));
    let mut call = Box::pin(client.call_tool("slow", json!({})));
    assert!(poll_once(&mut call).await.is_none());
    let seen = server.next().await;
    assert_eq!(seen.header("mcp-method"), Some("tools/call"));
    let tx = streams.lock().pop().unwrap();
    drop(call);
    for _ in 0..10_000 {
        if tx.send(": working\n\n".into()).await.is_err() {
            break;
        }
    }
    assert!(tx.is_closed(), "the dropped call's stream stayed open");
    client.close();
    assert!(server.try_next().is_none(), "a modern cancel posts nothing");
}

async fn a_dropped_call_is_cancelled_past_a_spent_rate_limit<R: NetRuntime>(rt: R) {
    let streams: Arc<Mutex<Vec<async_channel::Sender<String>>>> = Arc::default();
    let held = streams.clone();
    let server = Server::start(move |seen| match seen.rpc_method() {
        Some("initialize") => legacy_init(seen, "s-r"),
        Some("tools/call") => {
            let (tx, rx) = async_channel::unbounded();
            held.lock().push(tx);
            Reply::Sse(vec![], rx)
        }
        _ => Reply::Status(StatusCode::ACCEPTED, vec![]),
    });
    // One call per hour: the slow call spends it; nothing else may pass.
    let rate = weir_core::RateLimiter::builder()
        .quota(Quota::new(1, Duration::from_secs(3600)).burst(1))
        .build(rt.clone())
        .unwrap();
    let transport = StreamableHttpBuilder::new(&server.url).get_stream(false);
    let client = Client::builder(rt.clone())
        .protocol(ProtocolMode::Legacy)
        .rate_limit(rate)
        .build(connector(rt, transport));
    client.connect().await.unwrap();
    server.next().await;
    server.next().await;
    let mut slow = Box::pin(client.call_tool("slow", json!({})));
    assert!(poll_once(&mut slow).await.is_none());
    let slow_id = server.next().await.body["id"].clone();
    drop(slow);
    let cancel = server.next().await;
    assert_eq!(cancel.rpc_method(), Some("notifications/cancelled"));
    assert_eq!(cancel.body["params"]["requestId"], slow_id);
    streams.lock().clear();
    client.close();
}

on_every_net_runtime!(
    a_dropped_call_is_cancelled_past_a_full_bulkhead,
    a_dropped_call_is_cancelled_past_a_spent_rate_limit,
    an_expired_session_is_initialised_again_once,
    overload_becomes_rate_limited,
    a_dropped_modern_call_closes_its_stream_and_posts_nothing,
);
