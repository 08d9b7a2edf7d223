//! weir-mcp's HTTP client against a loopback server, on every runtime:
//! connections are kept per origin and reused, and a body dropped before
//! its end takes its connection out of the pool.

mod http_support;

use bytes::Bytes;
use http::StatusCode;
use http_support::{Reply, Server};
use weir_core::io::NetRuntime;
use weir_mcp::http::HttpClient;

fn post(url: &str) -> http::Request<Bytes> {
    http::Request::post(url)
        .body(Bytes::from_static(b"{}"))
        .unwrap()
}

async fn sequential_requests_share_one_connection<R: NetRuntime>(rt: R) {
    let server = Server::start(|_| Reply::Json(StatusCode::OK, vec![], "{\"ok\":true}".into()));
    let client = HttpClient::new(rt);
    for _ in 0..5 {
        let reply = client.send(post(&server.url)).await.unwrap();
        assert_eq!(reply.status(), StatusCode::OK);
        assert_eq!(
            &client.read_to_end(reply.into_body()).await.unwrap()[..],
            b"{\"ok\":true}"
        );
    }
    let stats = client.pool_stats(&server.url).unwrap();
    assert_eq!((stats.created, stats.size), (1, 1));
    let seen = server.next().await;
    assert_eq!(
        seen.header("host"),
        Some(
            server
                .url
                .trim_start_matches("http://")
                .trim_end_matches("/mcp")
        )
    );
}

async fn a_body_dropped_early_closes_its_connection<R: NetRuntime>(rt: R) {
    let (tx, rx) = async_channel::unbounded::<String>();
    let server = Server::start(move |seen| match seen.method.as_str() {
        "GET" => Reply::Sse(vec![], rx.clone()),
        _ => Reply::Json(StatusCode::OK, vec![], "{}".into()),
    });
    tx.try_send(": open\n\n".into()).unwrap();
    let client = HttpClient::new(rt);
    let stream = client
        .send(http::Request::get(&server.url).body(Bytes::new()).unwrap())
        .await
        .unwrap();
    assert_eq!(client.pool_stats(&server.url).unwrap().in_use, 1);
    drop(stream);
    // Detached, not returned: an HTTP/1.1 connection with half a body unread
    // cannot carry the next request.
    let stats = client.pool_stats(&server.url).unwrap();
    assert_eq!((stats.size, stats.idle, stats.in_use), (0, 0, 0));
    let reply = client.send(post(&server.url)).await.unwrap();
    client.read_to_end(reply.into_body()).await.unwrap();
    assert_eq!(client.pool_stats(&server.url).unwrap().created, 2);
}

on_every_net_runtime!(
    sequential_requests_share_one_connection,
    a_body_dropped_early_closes_its_connection
);
