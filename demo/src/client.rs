//! One TCP connection carrying many concurrent calls: a writer task sends
//! frames, a reader task routes each response by id to the call waiting for
//! it.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use futures_lite::io::{AsyncWriteExt, BufReader};
use parking_lot::Mutex;
use serde_json::Value;
use weir::JoinHandle;

use crate::error::CallError;
use crate::frame::{Frame, read_frame};
use crate::net::NetRuntime;
use crate::protocol::{MAX_FRAME, Request, Response};

type Reply = Result<Value, CallError>;

/// Calls waiting for their response, by request id. `closed` is set once the
/// reader has stopped: no call may register after that, so none can wait
/// for an answer that will never be routed.
#[derive(Debug, Default)]
struct Pending {
    waiting: HashMap<u64, async_channel::Sender<Reply>>,
    closed: bool,
}

impl Pending {
    fn close(&mut self) {
        self.closed = true;
        for (_, tx) in self.waiting.drain() {
            let _ = tx.try_send(Err(CallError::Disconnected));
        }
    }
}

/// A multiplexed JSON-RPC connection to one tool server.
///
/// Dropping it closes the write side; the reader task ends when the server
/// closes its side.
#[derive(Debug)]
pub struct Connection {
    outgoing: async_channel::Sender<Vec<u8>>,
    pending: Arc<Mutex<Pending>>,
    next_id: AtomicU64,
}

/// Removes a call's entry if the call is dropped (timed out, cancelled)
/// before its answer arrives, so the table does not grow.
struct Registration<'a> {
    id: u64,
    pending: &'a Mutex<Pending>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        self.pending.lock().waiting.remove(&self.id);
    }
}

impl Connection {
    /// Connects to `addr` and starts the reader and writer tasks on `rt`.
    ///
    /// # Errors
    ///
    /// [`CallError::ConnectFailed`] when the TCP connection cannot be made.
    pub async fn connect<R: NetRuntime>(rt: &R, addr: SocketAddr) -> Result<Self, CallError> {
        let stream = rt
            .connect(addr)
            .await
            .map_err(|_| CallError::ConnectFailed)?;
        let (read_half, mut write_half) = futures_lite::io::split(stream);
        let pending = Arc::new(Mutex::new(Pending::default()));
        let (outgoing, frames) = async_channel::unbounded::<Vec<u8>>();

        let writer_pending = pending.clone();
        rt.spawn(async move {
            while let Ok(frame) = frames.recv().await {
                if write_half.write_all(&frame).await.is_err() {
                    writer_pending.lock().close();
                    return;
                }
            }
            let _ = write_half.close().await;
        })
        .detach();

        let reader_pending = pending.clone();
        rt.spawn(async move {
            let mut reader = BufReader::new(read_half);
            let mut buf = Vec::with_capacity(1024);
            while let Ok(Frame::Line) = read_frame(&mut reader, &mut buf, MAX_FRAME).await {
                let Ok(resp) = serde_json::from_slice::<Response>(&buf) else {
                    // A peer that sends garbage cannot be trusted to route
                    // anything else correctly either.
                    break;
                };
                let reply = match (resp.result, resp.error) {
                    (_, Some(e)) => Err(CallError::from_rpc(&e)),
                    (Some(v), None) => Ok(v),
                    (None, None) => Err(CallError::Protocol),
                };
                let waiter = resp
                    .id
                    .and_then(|id| reader_pending.lock().waiting.remove(&id));
                if let Some(tx) = waiter {
                    let _ = tx.try_send(reply);
                }
            }
            reader_pending.lock().close();
        })
        .detach();

        Ok(Connection {
            outgoing,
            pending,
            next_id: AtomicU64::new(1),
        })
    }

    /// Whether the connection has stopped (the server closed it or it broke);
    /// a closed connection fails every call with
    /// [`CallError::Disconnected`].
    pub fn is_closed(&self) -> bool {
        self.pending.lock().closed || self.outgoing.is_closed()
    }

    /// Calls `tool` with `arguments` and waits for its answer.
    ///
    /// # Errors
    ///
    /// The server's error mapped by [`CallError::from_rpc`], or
    /// [`CallError::Disconnected`] when the connection closes first.
    pub async fn call(&self, tool: &str, arguments: Value) -> Result<Value, CallError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut frame = serde_json::to_vec(&Request::tools_call(id, tool, arguments))
            .map_err(|_| CallError::Protocol)?;
        frame.push(b'\n');
        let (tx, rx) = async_channel::bounded(1);
        {
            let mut p = self.pending.lock();
            if p.closed {
                return Err(CallError::Disconnected);
            }
            p.waiting.insert(id, tx);
        }
        let _registration = Registration {
            id,
            pending: &self.pending,
        };
        if self.outgoing.send(frame).await.is_err() {
            return Err(CallError::Disconnected);
        }
        rx.recv().await.unwrap_or(Err(CallError::Disconnected))
    }
}
