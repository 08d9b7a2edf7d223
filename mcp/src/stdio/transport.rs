//! One server process as a [`Transport`]: its stdin and stdout framed as
//! newline-delimited JSON, its stderr drained into the log.

use core::fmt;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::io;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use event_listener::EventListener;
use futures_io::AsyncRead;
use futures_lite::{AsyncReadExt, FutureExt, future};
use weir_core::io::ProcessSpawner;
use weir_core::{Runtime, rt::JoinHandle};

use super::handle::Registry;
use super::supervisor::{Exit, Guard, Supervisor};
use crate::framing::{FrameReader, FrameWriter};
use crate::transport::{Inbound, MessageSink, MessageSource, Outbound, Transport, TransportError};

/// The longest stderr line kept whole; the rest of a longer one is cut.
const MAX_STDERR_LINE: usize = 4096;

/// A running server process as a [`Transport`] (made by
/// [`Stdio`](super::Stdio)'s `connect`).
///
/// Its sink writes requests to the child's stdin, and its `close` is the
/// bounded stop (stdin closed, wait, SIGTERM to the group, wait, SIGKILL to
/// the group). Its source reads the child's stdout and, when the child
/// exits, fails with [`TransportError::Exited`] naming the status.
/// Dropping both halves without a close kills the group at once.
pub struct StdioTransport<S: ProcessSpawner, R: Runtime> {
    sink: StdioSink<S, R>,
    source: StdioSource<S, R>,
}

impl<S: ProcessSpawner, R: Runtime> fmt::Debug for StdioTransport<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioTransport")
            .field("pid", &self.sink.sup.0.pid)
            .finish_non_exhaustive()
    }
}

impl<S: ProcessSpawner, R: Runtime> StdioTransport<S, R> {
    pub(crate) fn start(
        rt: R,
        spawned: weir_core::io::Spawned<S>,
        waits: super::supervisor::Waits,
        max_frame: usize,
        registry: Arc<Registry>,
    ) -> Self {
        let sup = Supervisor::watch(
            rt.clone(),
            spawned.child,
            spawned.group,
            waits,
            registry.clone(),
        );
        rt.spawn(drain_stderr(spawned.stderr, registry)).detach();
        let guard = Arc::new(Guard(sup.clone()));
        let stdout = ExitAware {
            inner: spawned.stdout,
            exit: sup.exit.clone(),
            listener: None,
            grace: None,
            rt: rt.clone(),
            waits,
        };
        StdioTransport {
            sink: StdioSink {
                writer: Some(FrameWriter::new(spawned.stdin)),
                sup: guard.clone(),
            },
            source: StdioSource {
                reader: FrameReader::new(stdout).max_frame(max_frame),
                sup: guard,
                done: None,
            },
        }
    }

    /// The server's pid (also its process group's id).
    ///
    /// ```no_run
    /// # async fn f(t: weir_mcp::stdio::StdioTransport<weir_smol::SmolProcess, weir_smol::Smol>) {
    /// println!("server runs as {}", t.pid());
    /// # }
    /// ```
    pub fn pid(&self) -> u32 {
        self.sink.sup.0.pid
    }
}

impl<S: ProcessSpawner, R: Runtime> Transport for StdioTransport<S, R> {
    type Sink = StdioSink<S, R>;
    type Source = StdioSource<S, R>;

    fn split(self) -> (Self::Sink, Self::Source) {
        (self.sink, self.source)
    }
}

/// The writing half of a [`StdioTransport`]: the child's stdin.
pub struct StdioSink<S: ProcessSpawner, R: Runtime> {
    /// `None` once closed: dropping it is what closes the pipe (closing an
    /// async pipe only flushes it on some reactors).
    writer: Option<FrameWriter<S::Stdin>>,
    sup: Arc<Guard<R>>,
}

impl<S: ProcessSpawner, R: Runtime> fmt::Debug for StdioSink<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioSink")
            .field("pid", &self.sup.0.pid)
            .field("open", &self.writer.is_some())
            .finish()
    }
}

/// Ends a write that waits on a server that stopped reading its stdin (a
/// full pipe) once the session is ending, so the writer reaches `close`
/// and the bounded stop instead of waiting forever. A line cut short does
/// not matter on a connection being closed.
async fn session_ended<R: Runtime>(sup: &Supervisor<R>) -> Result<(), TransportError> {
    sup.reader_gone().await;
    Err(TransportError::Closed)
}

/// A write failed: if the server is exiting, say so (the typed cause)
/// rather than the broken pipe it left behind.
async fn write_failed<R: Runtime>(sup: &Supervisor<R>, error: TransportError) -> TransportError {
    if sup.is_reader_gone() {
        // The session is ending: no one will read the cause.
        return error;
    }
    match sup.exit_within(sup.waits.stdin).await {
        Some(status) => TransportError::Exited { status },
        None => error,
    }
}

impl<S: ProcessSpawner, R: Runtime> MessageSink for StdioSink<S, R> {
    async fn send(&mut self, msg: Outbound) -> Result<(), TransportError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(TransportError::Closed);
        };
        let sup = &self.sup.0;
        match writer.write_line(&msg.body).or(session_ended(sup)).await {
            Ok(()) => Ok(()),
            Err(e) => Err(write_failed(sup, e).await),
        }
    }

    async fn flush(&mut self) -> Result<(), TransportError> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(TransportError::Closed);
        };
        let sup = &self.sup.0;
        match writer.flush_lines().or(session_ended(sup)).await {
            Ok(()) => Ok(()),
            Err(e) => Err(write_failed(sup, e).await),
        }
    }

    async fn close(&mut self) {
        let sup = &self.sup.0;
        sup.closing.store(true, Ordering::Release);
        if let Some(mut writer) = self.writer.take() {
            // What was queued (cancellations included) goes out, unless the
            // server stopped reading: then the flush gives up with the
            // first wait.
            let rt = sup.rt.clone();
            let wait = sup.waits.stdin;
            let _ = writer
                .shutdown()
                .or(async move {
                    rt.sleep(wait).await;
                    Ok(())
                })
                .await;
            drop(writer);
        }
        sup.stop().await;
    }
}

/// The reading half of a [`StdioTransport`]: the child's stdout.
pub struct StdioSource<S: ProcessSpawner, R: Runtime> {
    reader: FrameReader<ExitAware<S::Stdout, R>>,
    sup: Arc<Guard<R>>,
    /// The error already returned (returned again if asked again).
    done: Option<TransportError>,
}

impl<S: ProcessSpawner, R: Runtime> fmt::Debug for StdioSource<S, R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioSource")
            .field("pid", &self.sup.0.pid)
            .field("done", &self.done)
            .finish()
    }
}

impl<S: ProcessSpawner, R: Runtime> MessageSource for StdioSource<S, R> {
    async fn recv(&mut self) -> Result<Inbound, TransportError> {
        if let Some(e) = &self.done {
            return Err(e.clone());
        }
        let error = match self.reader.next().await {
            Ok(item) => return Ok(item),
            Err(TransportError::Closed) => {
                // stdout ended: the server exited, or closed its output and
                // can no longer answer; either way it is finished.
                let sup = &self.sup.0;
                let status = sup.stop().await;
                if sup.closing.load(Ordering::Acquire) {
                    TransportError::Closed
                } else {
                    TransportError::Exited { status }
                }
            }
            Err(e) => e,
        };
        self.done = Some(error.clone());
        Err(error)
    }
}

impl<S: ProcessSpawner, R: Runtime> Drop for StdioSource<S, R> {
    fn drop(&mut self) {
        self.sup.0.reader_dropped();
    }
}

/// The child's stdout, which also ends once the child has exited and the
/// pipe has stayed silent for the kill wait: a process outside the group
/// (one that called `setsid`) may hold the pipe open forever, and the
/// transport must still see the end.
struct ExitAware<T, R: Runtime> {
    inner: T,
    exit: Arc<Exit>,
    listener: Option<EventListener>,
    grace: Option<Pin<Box<R::Sleep>>>,
    rt: R,
    waits: super::supervisor::Waits,
}

// Nothing inside is ever pinned in place (the sleep is boxed), so moving
// the wrapper is fine whatever the runtime type is.
impl<T: Unpin, R: Runtime> Unpin for ExitAware<T, R> {}

impl<T: AsyncRead + Unpin, R: Runtime> AsyncRead for ExitAware<T, R> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if let Poll::Ready(r) = Pin::new(&mut this.inner).poll_read(cx, buf) {
            return Poll::Ready(r);
        }
        loop {
            if this.exit.get().is_some() {
                // The exit is known; real EOF normally follows at once (the
                // group was killed, closing every end of the pipe). The
                // grace only ends a pipe someone outside the group holds.
                let grace = this
                    .grace
                    .get_or_insert_with(|| Box::pin(this.rt.sleep(this.waits.kill)));
                return match grace.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Ok(0)),
                    Poll::Pending => Poll::Pending,
                };
            }
            match &mut this.listener {
                None => this.listener = Some(this.exit.event().listen()),
                Some(l) => match Pin::new(l).poll(cx) {
                    Poll::Ready(()) => this.listener = None,
                    Poll::Pending => return Poll::Pending,
                },
            }
        }
    }
}

/// Reads stderr to its end so the server never blocks on a full pipe,
/// handing each line to the registry (a bounded ring and the callback).
async fn drain_stderr<E: AsyncRead + Unpin>(mut stderr: E, registry: Arc<Registry>) {
    let mut chunk = vec![0u8; 8 * 1024];
    let mut line: Vec<u8> = Vec::new();
    let mut cut = false;
    loop {
        let n = match stderr.read(&mut chunk).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &chunk[..n] {
            if b == b'\n' {
                emit(&registry, &mut line, cut);
                cut = false;
            } else if line.len() < MAX_STDERR_LINE {
                line.push(b);
            } else {
                cut = true;
            }
        }
        future::yield_now().await;
    }
    if !line.is_empty() {
        emit(&registry, &mut line, cut);
    }
}

fn emit(registry: &Registry, line: &mut Vec<u8>, cut: bool) {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    let mut text = String::from_utf8_lossy(line).into_owned();
    if cut {
        text.push_str(" [...]");
    }
    registry.stderr_line(&text);
    line.clear();
}
