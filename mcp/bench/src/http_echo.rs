//! The Streamable HTTP echo server (legacy transport, 2025-03-26 to
//! 2025-11-25): every POST carries one message and is answered with one
//! JSON body (`application/json`, which the specification lets a server
//! choose instead of an event stream); notifications get 202; the GET
//! stream is refused with 405 (the server never speaks first); DELETE ends
//! the session.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use crate::echo::{Outcome, answer};

/// The session header of the Streamable HTTP transport.
pub const SESSION_HEADER: &str = "mcp-session-id";

/// Largest request body accepted.
const MAX_BODY: usize = 1 << 20;

/// Serves `listener` until the process ends: one task per connection,
/// keep-alive on.
pub async fn serve(listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let sessions = Arc::new(AtomicU64::new(0));
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let sessions = sessions.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(req, sessions.clone()));
            // A connection that breaks is the client's business.
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                .await;
        });
    }
}

async fn handle(
    req: Request<Incoming>,
    sessions: Arc<AtomicU64>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(match *req.method() {
        Method::POST => post(req, &sessions).await,
        Method::DELETE => status(StatusCode::OK),
        _ => status(StatusCode::METHOD_NOT_ALLOWED),
    })
}

async fn post(req: Request<Incoming>, sessions: &AtomicU64) -> Response<Full<Bytes>> {
    let body = match http_body_util::Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
    {
        Ok(b) => b.to_bytes(),
        Err(_) => return status(StatusCode::PAYLOAD_TOO_LARGE),
    };
    let mut out = Vec::with_capacity(256);
    let outcome = answer(&body, &mut out);
    if outcome == Outcome::Nothing {
        return status(StatusCode::ACCEPTED);
    }
    let mut response = Response::new(Full::new(Bytes::from(out)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if outcome == Outcome::Initialized {
        let id = sessions.fetch_add(1, Ordering::Relaxed) + 1;
        if let Ok(v) = HeaderValue::from_str(&format!("weir-bench-{id}")) {
            headers.insert(SESSION_HEADER, v);
        }
    }
    response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = code;
    r
}
