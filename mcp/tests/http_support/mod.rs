//! Loopback HTTP servers for the Streamable HTTP tests, and the runtimes
//! every test runs on.
//!
//! A server runs on a thread of its own with its own smol executor, so the
//! client under test sees the same server whatever runtime it runs on. Each
//! request is recorded, then answered by the test's handler: a JSON body, a
//! bare status, or an SSE stream the test feeds (and ends by dropping its
//! sender).

#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use bytes::Bytes;
use futures_lite::{AsyncRead, AsyncWrite, StreamExt};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::Value;

/// A request the server saw.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The JSON-RPC method of a POST.
    pub fn rpc_method(&self) -> Option<&str> {
        self.body.get("method").and_then(Value::as_str)
    }
}

/// How the server answers.
pub enum Reply {
    /// A status and headers with a JSON body.
    Json(StatusCode, Vec<(&'static str, String)>, String),
    /// A status and headers, no body.
    Status(StatusCode, Vec<(&'static str, String)>),
    /// 200 `text/event-stream`; each received chunk is written as is; the
    /// stream ends when every sender is dropped.
    Sse(Vec<(&'static str, String)>, async_channel::Receiver<String>),
}

pub type Handler = Arc<dyn Fn(&Seen) -> Reply + Send + Sync>;

pub struct Server {
    pub url: String,
    seen: async_channel::Receiver<Seen>,
}

impl Server {
    /// A server on 127.0.0.1 at an ephemeral port, endpoint `/mcp`.
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> Server {
        let handler: Handler = Arc::new(handler);
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let url = format!("http://{}/mcp", listener.local_addr().unwrap());
        let (tx, rx) = async_channel::unbounded();
        std::thread::spawn(move || {
            let ex = Arc::new(smol::Executor::new());
            let listener = smol::Async::new(listener).expect("async listener");
            smol::block_on(ex.run(async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let handler = handler.clone();
                    let tx = tx.clone();
                    ex.spawn(async move {
                        let service = hyper::service::service_fn(move |req| {
                            serve(req, handler.clone(), tx.clone())
                        });
                        let _ = hyper::server::conn::http1::Builder::new()
                            .serve_connection(Io(stream), service)
                            .await;
                    })
                    .detach();
                }
            }));
        });
        Server { url, seen: rx }
    }

    /// The next request the server saw (waits for it).
    pub async fn next(&self) -> Seen {
        self.seen.recv().await.expect("server thread alive")
    }

    /// The next request, if one was seen already.
    pub fn try_next(&self) -> Option<Seen> {
        self.seen.try_recv().ok()
    }
}

async fn serve(
    req: Request<Incoming>,
    handler: Handler,
    seen: async_channel::Sender<Seen>,
) -> Result<Response<BoxBody<Bytes, Infallible>>, Infallible> {
    let (parts, body) = req.into_parts();
    let bytes = body
        .collect()
        .await
        .map(|c| c.to_bytes())
        .unwrap_or_default();
    let record = Seen {
        method: parts.method,
        headers: parts.headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    let reply = handler(&record);
    let _ = seen.send(record).await;
    let mut builder = Response::builder();
    let body = match reply {
        Reply::Json(status, headers, body) => {
            builder = builder
                .status(status)
                .header("content-type", "application/json");
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            Full::new(Bytes::from(body)).boxed()
        }
        Reply::Status(status, headers) => {
            builder = builder.status(status);
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            Full::new(Bytes::new()).boxed()
        }
        Reply::Sse(headers, chunks) => {
            builder = builder
                .status(200)
                .header("content-type", "text/event-stream");
            for (k, v) in headers {
                builder = builder.header(k, v);
            }
            let frames = chunks.map(|c| Ok::<_, Infallible>(Frame::data(Bytes::from(c))));
            BodyExt::boxed(StreamBody::new(frames))
        }
    };
    Ok(builder.body(body).expect("valid response"))
}

/// futures-io to hyper's I/O traits, for the server side.
pub struct Io<S>(pub S);

impl<S: AsyncRead + Unpin> hyper::rt::Read for Io<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        let mut scratch = [0u8; 8192];
        let want = buf.remaining().min(scratch.len());
        let n = ready!(Pin::new(&mut self.0).poll_read(cx, &mut scratch[..want]))?;
        buf.put_slice(&scratch[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncWrite + Unpin> hyper::rt::Write for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }
    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }
    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

/// An SSE event carrying one JSON-RPC message.
pub fn sse_message(id: Option<&str>, message: &Value) -> String {
    match id {
        Some(id) => format!("id: {id}\ndata: {message}\n\n"),
        None => format!("data: {message}\n\n"),
    }
}

/// A JSON-RPC result for request `id`.
pub fn result(id: &Value, result: Value) -> Value {
    serde_json::json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn smol<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

pub fn tokio_current<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(f)
}

pub fn tokio_multi<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
        .block_on(f)
}

pub fn async_std<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}

/// Instantiates each `async fn name<R: NetRuntime>(rt: R)` on smol, tokio
/// (current-thread and multi-thread) and async-std. (No virtual time: these
/// tests speak real loopback TCP.)
#[macro_export]
macro_rules! on_every_net_runtime {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn smol() {
                $crate::http_support::smol(super::$name(weir_smol::Smol))
            }
            #[test]
            fn tokio_current_thread() {
                $crate::http_support::tokio_current(super::$name(weir_tokio::Tokio))
            }
            #[test]
            fn tokio_multi_thread() {
                $crate::http_support::tokio_multi(super::$name(weir_tokio::Tokio))
            }
            #[test]
            fn async_std() {
                $crate::http_support::async_std(super::$name(weir_async_std::AsyncStd))
            }
        }
    )+};
}
