//! Building a [`Client`]: its policy, deadlines, handler and era.

use core::fmt;
use std::sync::Arc;
use std::time::Duration;

use weir_core::Runtime;
use weir_core::limit::Clock;
use weir_core::{Bulkhead, RateLimiter};
use weir_core::{CircuitBreaker, Retry};
use weir_core::{
    Policy,
    policy::{Bare, BreakerStage, BulkheadStage, Chain, RateLimitStage},
};

use crate::client::{Client, DynConnect, IdempotentRule, ProtocolMode};
use crate::handler::{ClientHandler, NoHandler};
use crate::jsonrpc::ErrorObject;
use crate::progress::DEFAULT_PROGRESS_CAPACITY;
use crate::protocol::Implementation;
use crate::transport::Connect;

/// The default idle timeout: 60 s without a response or a progress report.
///
/// ```
/// assert_eq!(weir_mcp::DEFAULT_IDLE_TIMEOUT.as_secs(), 60);
/// ```
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(60);
/// The default hard total of a call: 5 minutes, retries and rounds included.
///
/// ```
/// assert_eq!(weir_mcp::DEFAULT_TOTAL_TIMEOUT.as_secs(), 300);
/// ```
pub const DEFAULT_TOTAL_TIMEOUT: Duration = Duration::from_secs(300);
/// The default wait for an answer to the `server/discover` probe before
/// falling back to `initialize`: 5 s.
///
/// ```
/// assert_eq!(weir_mcp::DEFAULT_PROBE_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(5);
/// The default wait for `initialize`: 30 s.
///
/// ```
/// assert_eq!(weir_mcp::DEFAULT_HANDSHAKE_TIMEOUT.as_secs(), 30);
/// ```
pub const DEFAULT_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(30);

/// `Some(wait hint)` for a server error worth retrying.
type ServerErrorFn = dyn Fn(&ErrorObject) -> Option<Option<Duration>> + Send + Sync;

/// The user's rule for which JSON-RPC errors of the server are transient
/// (and how long they ask to wait).
#[derive(Clone)]
pub(crate) struct ServerErrorRule(pub Arc<ServerErrorFn>);

impl fmt::Debug for ServerErrorRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ServerErrorRule")
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub idle_timeout: Option<Duration>,
    pub total_timeout: Option<Duration>,
    pub probe_timeout: Duration,
    pub handshake_timeout: Duration,
    pub max_input_rounds: u32,
    pub max_reissues: u32,
    pub max_pages: u32,
    pub progress_capacity: usize,
    pub protocol: ProtocolMode,
    pub client_info: Implementation,
    pub trust_annotations: bool,
    pub max_restarts: Option<u32>,
    pub token: Option<weir_core::CancellationToken>,
    pub server_error_rule: Option<ServerErrorRule>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            total_timeout: Some(DEFAULT_TOTAL_TIMEOUT),
            probe_timeout: DEFAULT_PROBE_TIMEOUT,
            handshake_timeout: DEFAULT_HANDSHAKE_TIMEOUT,
            max_input_rounds: 10,
            max_reissues: 3,
            max_pages: 10_000,
            progress_capacity: DEFAULT_PROGRESS_CAPACITY,
            protocol: ProtocolMode::Auto,
            client_info: Implementation::new("weir-mcp", env!("CARGO_PKG_VERSION")),
            trust_annotations: false,
            max_restarts: None,
            token: None,
            server_error_rule: None,
        }
    }
}

/// Builds a [`Client`]. Policy stages are added in the order written, the
/// first outermost, as with [`Policy`]; they wrap each attempt of a call.
/// Retries are the client's own (see [`retry`](Self::retry)), so that a
/// tool call that is not idempotent is never repeated.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use std::time::Duration;
/// use weir_core::RateLimiter;
/// use weir_core::{CircuitBreaker, Retry};
/// use weir_core::test_util::VirtualRuntime;
/// use weir_mcp::Client;
///
/// let rt = VirtualRuntime::new();
/// let rate = RateLimiter::builder().quota(weir_core::Quota::new(50, Duration::from_secs(1))).build(rt.clone()).unwrap();
/// let breaker = CircuitBreaker::builder().build(rt.clone()).unwrap();
/// let client = Client::builder(rt.clone())
///     .rate_limit(rate)
///     .breaker(breaker)
///     .one_at_a_time()
///     .retry(Retry::exponential(Duration::from_millis(100)).max_attempts(3).build().unwrap())
///     .idle_timeout(Some(Duration::from_secs(10)))
///     .timeout(Some(Duration::from_secs(30)))
///     .build(|| async { Ok(weir_mcp::memory::pair().0) });
/// # drop(client);
/// # }
/// ```
#[must_use = "a builder does nothing itself: call .build() or .connect()"]
pub struct ClientBuilder<R: Runtime, L = Bare> {
    rt: R,
    policy: Policy<R, L>,
    retry: Option<Retry>,
    handler: Arc<dyn ClientHandler>,
    config: Config,
    idempotent: Option<IdempotentRule>,
}

impl<R: Runtime, L: fmt::Debug> fmt::Debug for ClientBuilder<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("policy", &self.policy)
            .field("retry", &self.retry.is_some())
            .field("config", &self.config)
            .finish()
    }
}

impl<R: Runtime> Client<R> {
    /// A builder on `rt`, with the defaults: no policy stages, no retries,
    /// the deadlines above, era by probe, sampling and elicitation refused.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new());
    /// # drop(b);
    /// # }
    /// ```
    pub fn builder(rt: R) -> ClientBuilder<R> {
        ClientBuilder {
            policy: Policy::new(rt.clone()),
            rt,
            retry: None,
            handler: Arc::new(NoHandler),
            config: Config::default(),
            idempotent: None,
        }
    }
}

impl<R: Runtime, L> ClientBuilder<R, L> {
    fn with_policy<N>(self, policy: Policy<R, N>) -> ClientBuilder<R, N> {
        ClientBuilder {
            rt: self.rt,
            policy,
            retry: self.retry,
            handler: self.handler,
            config: self.config,
            idempotent: self.idempotent,
        }
    }

    /// Replaces the policy stages with `policy` (it must run on the same
    /// runtime). Put retries in [`retry`](Self::retry), not in the policy:
    /// a policy's retry layer would repeat tool calls that are not
    /// idempotent.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let b = weir_mcp::Client::builder(rt.clone()).policy(weir_core::Policy::new(rt));
    /// # drop(b);
    /// # }
    /// ```
    pub fn policy<N>(self, policy: Policy<R, N>) -> ClientBuilder<R, N> {
        self.with_policy(policy)
    }

    fn map_policy<N>(self, f: impl FnOnce(Policy<R, L>) -> Policy<R, N>) -> ClientBuilder<R, N> {
        ClientBuilder {
            rt: self.rt,
            policy: f(self.policy),
            retry: self.retry,
            handler: self.handler,
            config: self.config,
            idempotent: self.idempotent,
        }
    }

    /// Adds a rate limit: each attempt waits for its slot.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let l = weir_core::RateLimiter::builder().quota(weir_core::Quota::new(5, Duration::from_secs(1))).build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::builder(rt).rate_limit(l);
    /// # drop(b);
    /// # }
    /// ```
    pub fn rate_limit<C: Clock>(
        self,
        limiter: RateLimiter<R, C>,
    ) -> ClientBuilder<R, Chain<L, RateLimitStage<R, C>>> {
        self.map_policy(|p| p.rate_limit(limiter))
    }

    /// Adds a circuit breaker. Transport failures and timeouts count as
    /// failures; tool results with `isError` are successes (the server
    /// worked). The breaker's classifier decides about server JSON-RPC
    /// errors (by default, every error counts).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let br = weir_core::CircuitBreaker::builder().build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::builder(rt).breaker(br);
    /// # drop(b);
    /// # }
    /// ```
    pub fn breaker<C>(
        self,
        breaker: CircuitBreaker<R, C>,
    ) -> ClientBuilder<R, Chain<L, BreakerStage<R, C>>> {
        self.map_policy(|p| p.breaker(breaker))
    }

    /// Adds a bulkhead: at most its permits of attempts in flight.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let bh = weir_core::Bulkhead::builder().max_concurrent(4).queue_capacity(64).build(rt.clone()).unwrap();
    /// let b = weir_mcp::Client::builder(rt).bulkhead(bh);
    /// # drop(b);
    /// # }
    /// ```
    pub fn bulkhead(self, bulkhead: Bulkhead<R>) -> ClientBuilder<R, Chain<L, BulkheadStage<R>>> {
        self.map_policy(|p| p.bulkhead(bulkhead))
    }

    /// For a server that takes one request at a time: a bulkhead of one
    /// permit whose queue holds up to a million waiters (bounded by the
    /// call deadlines).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).one_at_a_time();
    /// # drop(b);
    /// # }
    /// ```
    pub fn one_at_a_time(self) -> ClientBuilder<R, Chain<L, BulkheadStage<R>>> {
        let bulkhead = Bulkhead::builder()
            .max_concurrent(1)
            .queue_capacity(1 << 20)
            .build(self.rt.clone())
            .expect("one permit and a bounded queue are valid");
        self.bulkhead(bulkhead)
    }

    /// Adds any policy stage (a hedge, a fallback, your own).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_core::policy::Bare;
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).stage(Bare);
    /// # drop(b);
    /// # }
    /// ```
    pub fn stage<N>(self, stage: N) -> ClientBuilder<R, Chain<L, N>> {
        self.map_policy(|p| p.stage(stage))
    }

    /// Retries transient failures (transport errors, timeouts, overload,
    /// an open breaker, a full bulkhead) of idempotent requests with
    /// `retry`'s back-off, each attempt under a new id and within the
    /// call's total deadline. Lists, reads, prompts and completions are
    /// idempotent; a tool call only when [`idempotent_if`](Self::idempotent_if)
    /// says so, or its annotations do and [`trust_annotations`](Self::trust_annotations)
    /// is on. `retry`'s own `retry_if` is not consulted.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let r = weir_core::Retry::exponential(Duration::from_millis(50)).max_attempts(4).build().unwrap();
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).retry(r);
    /// # drop(b);
    /// # }
    /// ```
    pub fn retry(mut self, retry: Retry) -> Self {
        self.retry = Some(retry);
        self
    }

    /// The user's rule: tool `name` may be retried. Overrides annotations.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .idempotent_if(|tool| tool.starts_with("get_"));
    /// # drop(b);
    /// # }
    /// ```
    pub fn idempotent_if(mut self, rule: impl Fn(&str) -> bool + Send + Sync + 'static) -> Self {
        self.idempotent = Some(Arc::new(rule));
        self
    }

    /// Trust the server's tool annotations: a tool listed with
    /// `readOnlyHint` or `idempotentHint` may be retried. Off by default
    /// (the specification calls them untrusted hints).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).trust_annotations(true);
    /// # drop(b);
    /// # }
    /// ```
    pub fn trust_annotations(mut self, trust: bool) -> Self {
        self.config.trust_annotations = trust;
        self
    }

    /// The idle timeout: a call with no response and no progress for this
    /// long is cancelled. A `Duration` or `Some(..)` sets it, `None` turns it off. Default
    /// [`DEFAULT_IDLE_TIMEOUT`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .idle_timeout(Some(std::time::Duration::from_secs(5)));
    /// # drop(b);
    /// # }
    /// ```
    pub fn idle_timeout(mut self, idle: impl Into<Option<Duration>>) -> Self {
        self.config.idle_timeout = idle.into();
        self
    }

    /// The hard total of a call, retries and input rounds included. A
    /// `Duration` or `Some(..)` sets it, `None` turns it off. Default [`DEFAULT_TOTAL_TIMEOUT`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .timeout(Some(std::time::Duration::from_secs(30)));
    /// # drop(b);
    /// # }
    /// ```
    pub fn timeout(mut self, total: impl Into<Option<Duration>>) -> Self {
        self.config.total_timeout = total.into();
        self
    }

    /// How long the `server/discover` probe waits before the server is
    /// taken for a legacy one. Default [`DEFAULT_PROBE_TIMEOUT`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .probe_timeout(std::time::Duration::from_secs(2));
    /// # drop(b);
    /// # }
    /// ```
    pub fn probe_timeout(mut self, d: Duration) -> Self {
        self.config.probe_timeout = d;
        self
    }

    /// How long `initialize` may take. Default
    /// [`DEFAULT_HANDSHAKE_TIMEOUT`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .handshake_timeout(std::time::Duration::from_secs(10));
    /// # drop(b);
    /// # }
    /// ```
    pub fn handshake_timeout(mut self, d: Duration) -> Self {
        self.config.handshake_timeout = d;
        self
    }

    /// How many times the client connects again after its connection
    /// failed (a server process that exited, a connection lost): `None`
    /// (the default) without limit, `Some(0)` never. Every connection
    /// attempt after the first counts, failed ones included. A restart
    /// happens on the next call, not at once. Once the restarts are spent, calls fail
    /// with the error that ended the last connection.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).max_restarts(Some(3));
    /// # drop(b);
    /// # }
    /// ```
    pub fn max_restarts(mut self, max: Option<u32>) -> Self {
        self.config.max_restarts = max;
        self
    }

    /// Which of the server's JSON-RPC errors are transient: `rule` returns
    /// `Some(wait)` for an error worth retrying (`wait`: the server's own
    /// hint, if it gave one, such as a `data.retry_after_ms`), `None` for a
    /// final one (the default for every server error). Over stdio a server
    /// has no HTTP 429 to say "over quota"; this is how its error says it.
    /// Retries still happen only for idempotent requests, with
    /// [`retry`](Self::retry)'s back-off (the hint, when given, replaces it).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .server_error_is_transient(|e| (e.code == -32029).then(|| {
    ///         e.data.as_ref().and_then(|d| d["retry_after_ms"].as_u64()).map(Duration::from_millis)
    ///     }));
    /// # drop(b);
    /// # }
    /// ```
    pub fn server_error_is_transient(
        mut self,
        rule: impl Fn(&ErrorObject) -> Option<Option<Duration>> + Send + Sync + 'static,
    ) -> Self {
        self.config.server_error_rule = Some(ServerErrorRule(Arc::new(rule)));
        self
    }

    /// A token that ends every call of this client when it fires (each is
    /// cancelled at the server, as if dropped), on top of each call's own
    /// token. A fired token stays fired: later calls end at once with
    /// [`McpError::Cancelled`](crate::McpError::Cancelled).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let shutdown = weir_core::CancellationToken::new();
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).cancellation(shutdown.child_token());
    /// # drop(b);
    /// # }
    /// ```
    pub fn cancellation(mut self, token: weir_core::CancellationToken) -> Self {
        self.config.token = Some(token);
        self
    }

    /// How many `input_required` rounds one call may take. Default 10.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).max_input_rounds(3);
    /// # drop(b);
    /// # }
    /// ```
    pub fn max_input_rounds(mut self, n: u32) -> Self {
        self.config.max_input_rounds = n;
        self
    }

    /// How many progress reports a call keeps before dropping the oldest.
    /// Default [`DEFAULT_PROGRESS_CAPACITY`]; at least 1.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).progress_capacity(8);
    /// # drop(b);
    /// # }
    /// ```
    pub fn progress_capacity(mut self, n: usize) -> Self {
        self.config.progress_capacity = n.max(1);
        self
    }

    /// Which era to speak. Default [`ProtocolMode::Auto`].
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .protocol(weir_mcp::ProtocolMode::Legacy);
    /// # drop(b);
    /// # }
    /// ```
    pub fn protocol(mut self, mode: ProtocolMode) -> Self {
        self.config.protocol = mode;
        self
    }

    /// The name and version the client gives the server.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new()).client_info("my-agent", "1.2.0");
    /// # drop(b);
    /// # }
    /// ```
    pub fn client_info(mut self, name: impl Into<String>, version: impl Into<String>) -> Self {
        self.config.client_info = Implementation::new(name, version);
        self
    }

    /// Answers the server's requests (sampling, elicitation, roots) and
    /// sees its notifications.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let b = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .handler(weir_mcp::handler::NoHandler);
    /// # drop(b);
    /// # }
    /// ```
    pub fn handler(mut self, handler: impl ClientHandler) -> Self {
        self.handler = Arc::new(handler);
        self
    }

    /// The client, connecting through `connector` on its first call (and
    /// again after the connection failed).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let client = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .build(|| async { Ok(weir_mcp::memory::pair().0) });
    /// # drop(client);
    /// # }
    /// ```
    pub fn build(self, connector: impl Connect) -> Client<R, L> {
        self.build_dyn(Box::new(connector))
    }

    pub(crate) fn build_dyn(self, connector: Box<dyn DynConnect<R>>) -> Client<R, L> {
        Client::from_inner(Client::new_inner(
            self.rt,
            self.policy,
            self.retry,
            connector,
            self.handler,
            self.config,
            self.idempotent,
        ))
    }
}
