//! `Client::stdio(program, args)…connect(rt)`: a client of one server
//! process in one expression, the runtime named last (DESIGN.md's
//! spelling). The policy layers, deadlines and settings are written before
//! the runtime value exists, so they are kept as one deferred step applied
//! to a [`ClientBuilder`] once [`connect`](StdioClientBuilder::connect)
//! has the runtime.

use core::fmt;
use std::ffi::OsStr;
use std::time::Duration;

use weir_core::io::{Command, ProcessRuntime};
use weir_core::limit::Clock;
use weir_core::policy::{Bare, BreakerStage, BulkheadStage, Chain, RateLimitStage, Stage};
use weir_core::{Bulkhead, CircuitBreaker, RateLimiter, Retry, Runtime};

use super::{Stdio, StdioHandle};
use crate::builder::ClientBuilder;
use crate::client::{Client, ProtocolMode};
use crate::error::McpError;
use crate::handler::ClientHandler;
use crate::jsonrpc::RawValue;

/// What the user asked of the [`ClientBuilder`], applied at connect time.
type Deferred<R, L> = Box<dyn FnOnce(ClientBuilder<R>) -> ClientBuilder<R, L> + Send>;

/// A client of a server process, configured before its runtime is chosen:
/// what [`Client::stdio`] returns. Each method is the [`ClientBuilder`]
/// method of the same name; [`configure`](Self::configure) reaches the
/// rest.
#[must_use = "nothing starts until .connect(rt).await"]
pub struct StdioClientBuilder<R: Runtime, L = Bare> {
    command: Command,
    deferred: Deferred<R, L>,
}

impl<R: Runtime, L> fmt::Debug for StdioClientBuilder<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StdioClientBuilder")
            .field("command", &self.command)
            .finish_non_exhaustive()
    }
}

impl<R: Runtime> Client<R> {
    /// A client of the server started as `program args…` (over its stdin
    /// and stdout, in its own process group), on the runtime given to
    /// [`connect`](StdioClientBuilder::connect).
    ///
    /// ```no_run
    /// use std::time::Duration;
    /// use serde_json::json;
    /// use weir_core::{CircuitBreaker, RateLimiter};
    ///
    /// # async fn f() -> Result<(), Box<dyn std::error::Error>> {
    /// let rt = weir_tokio::Tokio;
    /// let rate = RateLimiter::builder().quota(weir_core::Quota::per_second(50).burst(10)).build(rt)?;
    /// let breaker = CircuitBreaker::builder().build(rt)?;
    /// let server = weir_mcp::Client::stdio("npx", ["-y", "@modelcontextprotocol/server-everything"])
    ///     .rate_limit(rate)
    ///     .breaker(breaker)
    ///     .timeout(Duration::from_secs(30))
    ///     .connect(weir_tokio::Tokio)
    ///     .await?;
    /// let tools = server.list_tools().await?;
    /// let reply = server.call_tool("echo", json!({"message": "hi"})).await?;
    /// # drop((tools, reply));
    /// # Ok(()) }
    /// ```
    pub fn stdio<I, S>(program: impl AsRef<OsStr>, args: I) -> StdioClientBuilder<R>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        StdioClientBuilder {
            command: Command::new(program).args(args),
            deferred: Box::new(|b| b),
        }
    }
}

impl<R: Runtime, L: 'static> StdioClientBuilder<R, L> {
    /// Any [`ClientBuilder`] setting: `f` runs on the builder at connect
    /// time, after the settings written before it.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::test_util::VirtualRuntime;
    /// let b = weir_mcp::Client::<VirtualRuntime>::stdio("my-server", ["--quiet"])
    ///     .configure(|b| b.max_restarts(Some(3)).trust_annotations(true));
    /// # drop(b);
    /// # }
    /// ```
    pub fn configure<N>(
        self,
        f: impl FnOnce(ClientBuilder<R, L>) -> ClientBuilder<R, N> + Send + 'static,
    ) -> StdioClientBuilder<R, N> {
        let before = self.deferred;
        StdioClientBuilder {
            command: self.command,
            deferred: Box::new(move |b| f(before(b))),
        }
    }

    /// Sets an environment variable of the server process.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0])
    ///     .env("LOG_LEVEL", "warn");
    /// # drop(b);
    /// # }
    /// ```
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command = self.command.env(key, value);
        self
    }

    /// Adds a rate limit ([`ClientBuilder::rate_limit`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::stdio("my-server", [""; 0]).rate_limit(l);
    /// # drop(b);
    /// # }
    /// ```
    pub fn rate_limit<C: Clock + Send + Sync + 'static>(
        self,
        limiter: RateLimiter<R, C>,
    ) -> StdioClientBuilder<R, Chain<L, RateLimitStage<R, C>>> {
        self.configure(move |b| b.rate_limit(limiter))
    }

    /// Adds a circuit breaker ([`ClientBuilder::breaker`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let br = weir_core::CircuitBreaker::builder().build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::stdio("my-server", [""; 0]).breaker(br);
    /// # drop(b);
    /// # }
    /// ```
    pub fn breaker<C: Send + Sync + 'static>(
        self,
        breaker: CircuitBreaker<R, C>,
    ) -> StdioClientBuilder<R, Chain<L, BreakerStage<R, C>>> {
        self.configure(move |b| b.breaker(breaker))
    }

    /// Adds a bulkhead ([`ClientBuilder::bulkhead`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let bh = weir_core::Bulkhead::builder().max_concurrent(4).queue_capacity(64).build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::stdio("my-server", [""; 0]).bulkhead(bh);
    /// # drop(b);
    /// # }
    /// ```
    pub fn bulkhead(
        self,
        bulkhead: Bulkhead<R>,
    ) -> StdioClientBuilder<R, Chain<L, BulkheadStage<R>>> {
        self.configure(move |b| b.bulkhead(bulkhead))
    }

    /// One request at a time ([`ClientBuilder::one_at_a_time`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0]).one_at_a_time();
    /// # drop(b);
    /// # }
    /// ```
    pub fn one_at_a_time(self) -> StdioClientBuilder<R, Chain<L, BulkheadStage<R>>> {
        self.configure(ClientBuilder::one_at_a_time)
    }

    /// Retries transient failures of idempotent requests ([`ClientBuilder::retry`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let r = weir_core::Retry::exponential(Duration::from_millis(50)).max_attempts(4).build().unwrap();
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0]).retry(r);
    /// # drop(b);
    /// # }
    /// ```
    pub fn retry(self, retry: Retry) -> Self {
        self.configure(move |b| b.retry(retry))
    }

    /// The hard total of a call ([`ClientBuilder::timeout`]): a `Duration`,
    /// or `None` for none.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0])
    ///     .timeout(Duration::from_secs(30));
    /// # drop(b);
    /// # }
    /// ```
    pub fn timeout(self, total: impl Into<Option<Duration>>) -> Self {
        let total = total.into();
        self.configure(move |b| b.timeout(total))
    }

    /// The idle timeout ([`ClientBuilder::idle_timeout`]): a `Duration`,
    /// or `None` for none.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0])
    ///     .idle_timeout(Duration::from_secs(10));
    /// # drop(b);
    /// # }
    /// ```
    pub fn idle_timeout(self, idle: impl Into<Option<Duration>>) -> Self {
        let idle = idle.into();
        self.configure(move |b| b.idle_timeout(idle))
    }

    /// Which era to speak ([`ClientBuilder::protocol`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0])
    ///     .protocol(weir_mcp::ProtocolMode::Legacy);
    /// # drop(b);
    /// # }
    /// ```
    pub fn protocol(self, mode: ProtocolMode) -> Self {
        self.configure(move |b| b.protocol(mode))
    }

    /// Answers the server's requests ([`ClientBuilder::handler`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::<weir_core::test_util::VirtualRuntime>::stdio("my-server", [""; 0])
    ///     .handler(weir_mcp::handler::NoHandler);
    /// # drop(b);
    /// # }
    /// ```
    pub fn handler(self, handler: impl ClientHandler) -> Self {
        self.configure(move |b| b.handler(handler))
    }
}

impl<R: ProcessRuntime, L> StdioClientBuilder<R, L>
where
    L: Stage<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    /// Starts the server with `rt`'s process spawner and connects (the
    /// handshake included), so a server that cannot start or does not
    /// speak MCP is an error here rather than on the first call.
    ///
    /// # Errors
    ///
    /// As [`Client::connect`]: the process could not start, or the
    /// handshake failed or ran out of time.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), weir_mcp::McpError> {
    /// let client = weir_mcp::Client::stdio("uvx", ["mcp-server-time"]).connect(weir_smol::Smol).await?;
    /// client.close();
    /// # Ok(()) }
    /// ```
    pub async fn connect(self, rt: R) -> Result<Client<R, L>, McpError> {
        self.connect_with_handle(rt).await.map(|(client, _)| client)
    }

    /// [`connect`](Self::connect), and the [`StdioHandle`] of the server
    /// process: its pid, its stderr tail, and a wait until its process
    /// group is gone after [`Client::close`].
    ///
    /// # Errors
    ///
    /// As [`connect`](Self::connect).
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), weir_mcp::McpError> {
    /// use std::time::Duration;
    /// let rt = weir_smol::Smol;
    /// let (client, handle) = weir_mcp::Client::stdio("uvx", ["mcp-server-time"])
    ///     .connect_with_handle(rt)
    ///     .await?;
    /// println!("server pid {:?}", handle.pid());
    /// client.close();
    /// assert!(handle.wait_all_gone(&rt, Duration::from_secs(10)).await);
    /// # Ok(()) }
    /// ```
    pub async fn connect_with_handle(self, rt: R) -> Result<(Client<R, L>, StdioHandle), McpError> {
        let stdio = Stdio::on(rt.clone(), self.command);
        let handle = stdio.handle();
        let client = (self.deferred)(Client::builder(rt)).build(stdio);
        match client.connect().await {
            Ok(()) => Ok((client, handle)),
            Err(e) => {
                client.close();
                Err(e)
            }
        }
    }
}
