//! Many servers behind one handle: named clients built from an
//! `mcpServers` configuration, calls routed by tool name, every tool
//! listed, stats per server.
//!
//! Transports are made by a [`TransportFactory`], so the stdio and HTTP
//! transports (or a test's in-memory pairs) plug in without the manager
//! knowing them. Each server gets its own client, and with it its own
//! policy, deadlines, era and connection.
//!
//! ```
//! # #[cfg(feature = "test-util")] {
//! use weir_core::test_util::VirtualRuntime;
//! use weir_mcp::config::{McpServers, ServerConfig};
//! use weir_mcp::manager::{BoxConnect, Manager};
//!
//! let cfg = McpServers::from_json(r#"{"mcpServers": {"a": {"command": "srv-a"}, "b": {"command": "srv-b"}}}"#).unwrap();
//! let factory = |_name: &str, _server: &ServerConfig| {
//!     Ok(BoxConnect::new(|| async { Ok(weir_mcp::memory::pair().0) }))
//! };
//! let rt = VirtualRuntime::new();
//! let manager = Manager::from_config(&cfg, &factory, |_name, b| b, rt).unwrap();
//! assert_eq!(manager.names().collect::<Vec<_>>(), ["a", "b"]);
//! # }
//! ```

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};
use std::collections::{BTreeMap, HashMap};

use parking_lot::Mutex;
use serde_json::Value;
use weir_core::Runtime;
use weir_core::policy::{Bare, Stage};

use crate::builder::ClientBuilder;
use crate::client::{Client, DynConnect};
use crate::config::{ConfigFileError, McpServers, ServerConfig};
use crate::error::McpError;
use crate::jsonrpc::RawValue;
use crate::protocol::{CallToolResult, Tool};
use crate::stats::Stats;
use crate::transport::Connect;

/// A connector with its transport type erased, so one manager holds
/// clients of stdio and HTTP servers alike.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// let c: weir_mcp::manager::BoxConnect<weir_core::test_util::VirtualRuntime> =
///     weir_mcp::manager::BoxConnect::new(|| async { Ok(weir_mcp::memory::pair().0) });
/// # drop(c);
/// # }
/// ```
pub struct BoxConnect<R: Runtime>(pub(crate) Box<dyn DynConnect<R>>);

impl<R: Runtime> BoxConnect<R> {
    /// Erases `connect`'s transport type.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let _ = weir_mcp::manager::BoxConnect::<weir_core::test_util::VirtualRuntime>::new(
    ///     || async { Ok(weir_mcp::memory::pair().0) });
    /// # }
    /// ```
    pub fn new(connect: impl Connect) -> Self {
        BoxConnect(Box::new(connect))
    }
}

impl<R: Runtime> fmt::Debug for BoxConnect<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BoxConnect")
    }
}

impl<R: Runtime, L> ClientBuilder<R, L> {
    /// [`build`](ClientBuilder::build) with an erased connector (from a
    /// [`TransportFactory`]).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use weir_mcp::manager::BoxConnect;
    /// let c = weir_mcp::Client::builder(weir_core::test_util::VirtualRuntime::new())
    ///     .build_boxed(BoxConnect::new(|| async { Ok(weir_mcp::memory::pair().0) }));
    /// # drop(c);
    /// # }
    /// ```
    pub fn build_boxed(self, connect: BoxConnect<R>) -> Client<R, L> {
        self.build_dyn(connect.0)
    }
}

/// Makes the connector of each configured server: the stdio transport for
/// [`ServerConfig::Stdio`], the HTTP one for [`ServerConfig::Http`].
///
/// Closures `Fn(&str, &ServerConfig) -> Result<BoxConnect<R>, ConfigFileError>`
/// are factories.
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// use weir_mcp::config::{ConfigFileError, ServerConfig};
/// use weir_mcp::manager::{BoxConnect, TransportFactory};
/// use weir_core::test_util::VirtualRuntime;
///
/// let f = |_: &str, _: &ServerConfig| -> Result<BoxConnect<VirtualRuntime>, ConfigFileError> {
///     Ok(BoxConnect::new(|| async { Ok(weir_mcp::memory::pair().0) }))
/// };
/// fn is_factory<F: TransportFactory<VirtualRuntime>>(_: &F) {}
/// is_factory(&f);
/// # }
/// ```
pub trait TransportFactory<R: Runtime> {
    /// The connector for server `name`.
    ///
    /// # Errors
    ///
    /// When the entry cannot be served (a transport this build lacks, a bad
    /// URL), naming the server and field.
    fn connector(
        &self,
        name: &str,
        server: &ServerConfig,
    ) -> Result<BoxConnect<R>, ConfigFileError>;
}

/// The factory for every kind of `mcpServers` entry: `command` entries
/// start supervised child processes through `spawner`
/// ([`stdio::factory`](crate::stdio::factory)), `url` entries connect over
/// Streamable HTTP ([`http::factory`](crate::http::factory)), both on `rt`.
///
/// ```
/// use weir_mcp::config::McpServers;
/// use weir_mcp::manager::{default_factory, Manager};
/// use weir_smol::{Smol, SmolProcess};
///
/// let cfg = McpServers::from_json(r#"{"mcpServers": {
///     "time": {"command": "uvx", "args": ["mcp-server-time"]},
///     "docs": {"url": "http://127.0.0.1:8000/mcp"}
/// }}"#).unwrap();
/// let manager = Manager::from_config(&cfg, &default_factory(SmolProcess, Smol), |_name, b| b, Smol).unwrap();
/// assert_eq!(manager.names().collect::<Vec<_>>(), ["docs", "time"]);
/// ```
pub fn default_factory<S, R>(
    spawner: S,
    rt: R,
) -> impl Fn(&str, &ServerConfig) -> Result<BoxConnect<R>, ConfigFileError>
where
    S: weir_core::io::ProcessSpawner + Clone,
    R: weir_core::io::NetRuntime,
{
    let stdio = crate::stdio::factory(spawner, rt.clone());
    move |name: &str, server: &ServerConfig| match server {
        ServerConfig::Http(config) => crate::http::factory::connector(name, config, rt.clone()),
        _ => stdio(name, server),
    }
}

impl<R, F> TransportFactory<R> for F
where
    R: Runtime,
    F: Fn(&str, &ServerConfig) -> Result<BoxConnect<R>, ConfigFileError>,
{
    fn connector(
        &self,
        name: &str,
        server: &ServerConfig,
    ) -> Result<BoxConnect<R>, ConfigFileError> {
        self(name, server)
    }
}

/// Named clients, one per server; see the [module docs](self).
///
/// ```
/// # #[cfg(feature = "test-util")] {
/// let rt = weir_core::test_util::VirtualRuntime::new();
/// let mut m = weir_mcp::manager::Manager::new();
/// m.insert("local", weir_mcp::Client::builder(rt).build(|| async { Ok(weir_mcp::memory::pair().0) }));
/// assert_eq!(m.names().collect::<Vec<_>>(), ["local"]);
/// # }
/// ```
pub struct Manager<R: Runtime, L = Bare> {
    clients: BTreeMap<String, Client<R, L>>,
    /// Tool name → server, from the last listing. A name offered by
    /// several servers goes to the first by server name.
    routes: Mutex<HashMap<String, String>>,
}

impl<R: Runtime, L> fmt::Debug for Manager<R, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Manager")
            .field("servers", &self.clients.keys().collect::<Vec<_>>())
            .field("routes", &self.routes.lock().len())
            .finish()
    }
}

impl<R: Runtime, L> Default for Manager<R, L> {
    fn default() -> Self {
        Manager {
            clients: BTreeMap::new(),
            routes: Mutex::new(HashMap::new()),
        }
    }
}

impl<R: Runtime, L> Manager<R, L> {
    /// An empty manager; add clients with [`insert`](Self::insert).
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// assert_eq!(m.names().count(), 0);
    /// # }
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// One client per configured server. `customize` sets each client's
    /// policy, deadlines and handler from a fresh builder (it gets the
    /// server's name).
    ///
    /// # Errors
    ///
    /// The factory's error for the first server it cannot serve.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// use std::time::Duration;
    /// use weir_mcp::config::{McpServers, ServerConfig};
    /// use weir_mcp::manager::{BoxConnect, Manager};
    /// let cfg = McpServers::from_json(r#"{"mcpServers": {"a": {"command": "a"}}}"#).unwrap();
    /// let factory = |_: &str, _: &ServerConfig| Ok(BoxConnect::new(|| async { Ok(weir_mcp::memory::pair().0) }));
    /// let m = Manager::from_config(&cfg, &factory,
    ///     |_name, b| b.one_at_a_time().timeout(Some(Duration::from_secs(20))),
    ///     weir_core::test_util::VirtualRuntime::new()).unwrap();
    /// assert!(m.client("a").is_some());
    /// # }
    /// ```
    pub fn from_config<F>(
        config: &McpServers,
        factory: &F,
        customize: impl Fn(&str, ClientBuilder<R>) -> ClientBuilder<R, L>,
        rt: R,
    ) -> Result<Self, ConfigFileError>
    where
        F: TransportFactory<R>,
    {
        let mut m = Manager::new();
        for (name, server) in &config.servers {
            let connect = factory.connector(name, server)?;
            let client = customize(name, Client::builder(rt.clone())).build_boxed(connect);
            m.clients.insert(name.clone(), client);
        }
        Ok(m)
    }

    /// Adds (or replaces) server `name`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let rt = weir_core::test_util::VirtualRuntime::new();
    /// let mut m = weir_mcp::manager::Manager::new();
    /// m.insert("x", weir_mcp::Client::builder(rt).build(|| async { Ok(weir_mcp::memory::pair().0) }));
    /// assert!(m.client("x").is_some());
    /// # }
    /// ```
    pub fn insert(&mut self, name: impl Into<String>, client: Client<R, L>) {
        let name = name.into();
        self.routes.lock().retain(|_, s| *s != name);
        self.clients.insert(name, client);
    }

    /// The client of server `name`.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// assert!(m.client("nope").is_none());
    /// # }
    /// ```
    pub fn client(&self, name: &str) -> Option<&Client<R, L>> {
        self.clients.get(name)
    }

    /// The server names, sorted.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// assert!(m.names().next().is_none());
    /// # }
    /// ```
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.clients.keys().map(String::as_str)
    }

    /// Each server's counters.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// assert!(m.stats().is_empty());
    /// # }
    /// ```
    pub fn stats(&self) -> BTreeMap<String, Stats> {
        self.clients
            .iter()
            .map(|(n, c)| (n.clone(), c.stats()))
            .collect()
    }

    /// The server the last listing routes `tool` to.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// assert!(m.route("echo").is_none());
    /// # }
    /// ```
    pub fn route(&self, tool: &str) -> Option<String> {
        self.routes.lock().get(tool).cloned()
    }

    /// Closes every client.
    ///
    /// ```
    /// # #[cfg(feature = "test-util")] {
    /// let m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime> = weir_mcp::manager::Manager::new();
    /// m.close();
    /// # }
    /// ```
    pub fn close(&self) {
        for c in self.clients.values() {
            c.close();
        }
    }
}

impl<R: Runtime, L> Manager<R, L>
where
    L: Stage<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    /// Lists every server's tools at once, refreshes the routes, and
    /// returns each server's list (or why it failed): one server down does
    /// not hide the others.
    ///
    /// ```
    /// # async fn f(m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime>) {
    /// for (server, tools) in m.list_all_tools().await {
    ///     println!("{server}: {:?}", tools.map(|t| t.len()));
    /// }
    /// # }
    /// ```
    pub async fn list_all_tools(&self) -> BTreeMap<String, Result<Vec<Tool>, McpError>> {
        let names: Vec<&String> = self.clients.keys().collect();
        let futs: Vec<_> = self
            .clients
            .values()
            .map(|c| Box::pin(c.list_tools()))
            .collect();
        let results = JoinAll::new(futs).await;
        let mut routes = HashMap::new();
        let mut out = BTreeMap::new();
        for (name, result) in names.into_iter().zip(results) {
            if let Ok(tools) = &result {
                for t in tools {
                    routes.entry(t.name.clone()).or_insert_with(|| name.clone());
                }
            }
            out.insert(name.clone(), result);
        }
        *self.routes.lock() = routes;
        out
    }

    /// Calls `tool` on the server that offers it (listing every server's
    /// tools first if the tool is not routed yet).
    ///
    /// # Errors
    ///
    /// [`McpError::UnknownTool`] when no server offers it; otherwise the
    /// call's own error.
    ///
    /// ```
    /// # async fn f(m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let reply = m.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_tool(
        &self,
        tool: &str,
        arguments: Value,
    ) -> Result<CallToolResult, McpError> {
        // A server that announced a new tool list gets listed again first.
        let stale = self.clients.values().any(Client::tools_changed);
        let server = match self.route(tool).filter(|_| !stale) {
            Some(s) => s,
            None => {
                self.list_all_tools().await;
                self.route(tool)
                    .ok_or_else(|| McpError::UnknownTool(tool.to_owned()))?
            }
        };
        self.call_tool_on(&server, tool, arguments).await
    }

    /// Calls `tool` on server `server`.
    ///
    /// # Errors
    ///
    /// [`McpError::UnknownServer`] for a name not configured; otherwise the
    /// call's own error.
    ///
    /// ```
    /// # async fn f(m: weir_mcp::manager::Manager<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let reply = m.call_tool_on("everything", "echo", serde_json::json!({"message": "hi"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn call_tool_on(
        &self,
        server: &str,
        tool: &str,
        arguments: Value,
    ) -> Result<CallToolResult, McpError> {
        let client = self
            .clients
            .get(server)
            .ok_or_else(|| McpError::UnknownServer(server.to_owned()))?;
        client.call_tool(tool, arguments).await
    }
}

/// Polls every future to completion; outputs in input order.
struct JoinAll<F: Future> {
    futs: Vec<Option<Pin<Box<F>>>>,
    outs: Vec<Option<F::Output>>,
}

impl<F: Future> JoinAll<F> {
    fn new(futs: Vec<Pin<Box<F>>>) -> Self {
        let outs = futs.iter().map(|_| None).collect();
        JoinAll {
            futs: futs.into_iter().map(Some).collect(),
            outs,
        }
    }
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = &mut *self;
        let mut pending = false;
        for (slot, out) in this.futs.iter_mut().zip(this.outs.iter_mut()) {
            if let Some(f) = slot {
                match f.as_mut().poll(cx) {
                    Poll::Ready(v) => {
                        *out = Some(v);
                        *slot = None;
                    }
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            return Poll::Pending;
        }
        Poll::Ready(
            this.outs
                .iter_mut()
                .map(|o| o.take().expect("every future finished"))
                .collect(),
        )
    }
}

impl<F: Future> Unpin for JoinAll<F> {}
