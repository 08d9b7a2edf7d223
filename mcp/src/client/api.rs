//! The calls a user makes: tools, resources, prompts, completion.

use std::sync::Arc;

use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use weir_core::Runtime;
use weir_core::policy::Stage;

use super::{Call, CallOptions, Client, ProgressCall, ToolMeta};
use crate::error::McpError;
use crate::jsonrpc::RawValue;
use crate::progress::ProgressQueue;
use crate::protocol::{
    self, CallToolResult, CompleteResult, GetPromptResult, Page, Prompt, ReadResourceResult,
    Resource, ResourceTemplate, Tool,
};

impl<R: Runtime, L> Client<R, L>
where
    L: Stage<R, Box<RawValue>, McpError> + Send + Sync + 'static,
{
    async fn list_all<T: DeserializeOwned>(
        &self,
        method: &'static str,
    ) -> Result<Vec<T>, McpError> {
        let opts = CallOptions::default();
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        // Bounded: a server that hands out cursors forever cannot loop us.
        for _ in 0..self.inner.config.max_pages {
            let params = match &cursor {
                Some(c) => json!({"cursor": c}),
                None => json!({}),
            };
            let page: Page<T> = self.typed(self.call(method, params, &opts)).await?;
            items.extend(page.items);
            match page.next_cursor {
                Some(c) if !c.is_empty() => cursor = Some(c),
                _ => return Ok(items),
            }
        }
        Err(McpError::Protocol(format!(
            "{method}: more than {} pages",
            self.inner.config.max_pages
        )))
    }

    /// Every tool the server offers, all pages, less those whose
    /// `x-mcp-header` declarations break the rules
    /// ([`tool_headers_valid`](protocol::tool_headers_valid); the handler
    /// hears of each). Remembers each tool's annotations and schema for
    /// later calls.
    ///
    /// # Errors
    ///
    /// As for any call: transport, timeout, server error, policy outcome.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// for tool in c.list_tools().await? {
    ///     println!("{}", tool.name);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn list_tools(&self) -> Result<Vec<Tool>, McpError> {
        // Cleared before listing: a change announced during the listing
        // stays announced.
        let flag = &self.inner.counters.tools_changed;
        let was = flag.swap(false, std::sync::atomic::Ordering::SeqCst);
        let mut tools: Vec<Tool> = match self.list_all("tools/list").await {
            Ok(t) => t,
            Err(e) => {
                if was {
                    flag.store(true, std::sync::atomic::Ordering::SeqCst);
                }
                return Err(e);
            }
        };
        tools.retain(|t| match protocol::tool_headers_valid(&t.input_schema) {
            Ok(()) => true,
            Err(reason) => {
                self.inner.handler.on_tool_rejected(t, &reason);
                false
            }
        });
        let mut known = self.inner.tools.lock();
        for t in &tools {
            known.insert(
                t.name.clone(),
                ToolMeta {
                    annotations: t.annotations.clone(),
                    schema: Arc::new(t.input_schema.clone()),
                },
            );
        }
        Ok(tools)
    }

    fn tool_call<'a>(&self, name: &str, arguments: Value, opts: &'a CallOptions) -> Call<'a> {
        let schema = self.inner.tools.lock().get(name).map(|t| t.schema.clone());
        Call {
            method: "tools/call",
            // `name` and `arguments` are written from the call itself: no
            // map to build per call.
            params: Map::new(),
            arguments: Some(arguments),
            meta: None,
            name: Some(name.to_owned()),
            tool_schema: schema,
            idempotent: self.tool_is_idempotent(name),
            progress: None,
            opts,
        }
    }

    /// Calls tool `name` with `arguments` (a JSON object).
    ///
    /// Not retried unless the tool is idempotent by the client's rule (see
    /// [`ClientBuilder::idempotent_if`](crate::ClientBuilder::idempotent_if)
    /// and [`trust_annotations`](crate::ClientBuilder::trust_annotations)).
    /// A tool's own failure is `Ok` with
    /// [`is_error`](CallToolResult::is_error) set.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let reply = c.call_tool("echo", serde_json::json!({"message": "hi"})).await?;
    /// println!("{}", reply.text());
    /// # Ok(()) }
    /// ```
    pub async fn call_tool(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<CallToolResult, McpError> {
        self.call_tool_with(name, arguments, &CallOptions::default())
            .await
    }

    /// [`call_tool`](Self::call_tool) with per-call options (a
    /// cancellation token, other deadlines).
    ///
    /// # Errors
    ///
    /// As for any call; [`McpError::Cancelled`] when the token fires.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// let token = weir_core::CancellationToken::new();
    /// let opts = weir_mcp::CallOptions::new().token(token.clone());
    /// let _ = c.call_tool_with("slow", serde_json::json!({}), &opts).await;
    /// # }
    /// ```
    pub async fn call_tool_with(
        &self,
        name: &str,
        arguments: Value,
        opts: &CallOptions,
    ) -> Result<CallToolResult, McpError> {
        self.typed(self.tool_call(name, arguments, opts)).await
    }

    /// Calls tool `name`; the stream yields its progress reports, then
    /// [`CallEvent::Done`](crate::CallEvent::Done) with the result, then ends. Dropping the stream
    /// before the end cancels the call at the server.
    ///
    /// Reports beyond the client's progress capacity drop the oldest.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// use futures_lite::StreamExt;
    /// use weir_mcp::CallEvent;
    /// let mut call = c.call_tool_with_progress("long", serde_json::json!({}));
    /// while let Some(ev) = call.next().await {
    ///     match ev {
    ///         CallEvent::Progress(p) => println!("{} of {:?}", p.progress, p.total),
    ///         CallEvent::Done(result) => println!("{result:?}"),
    ///     }
    /// }
    /// # }
    /// ```
    pub fn call_tool_with_progress(&self, name: &str, arguments: Value) -> ProgressCall
    where
        L: 'static,
    {
        self.call_tool_with_progress_opts(name, arguments, CallOptions::default())
    }

    /// [`call_tool_with_progress`](Self::call_tool_with_progress) with
    /// per-call options.
    ///
    /// ```
    /// # fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) {
    /// let call = c.call_tool_with_progress_opts("long", serde_json::json!({}), weir_mcp::CallOptions::new());
    /// drop(call); // nothing was sent yet: nothing to cancel
    /// # }
    /// ```
    pub fn call_tool_with_progress_opts(
        &self,
        name: &str,
        arguments: Value,
        opts: CallOptions,
    ) -> ProgressCall
    where
        L: 'static,
    {
        let queue = Arc::new(ProgressQueue::new(self.inner.config.progress_capacity));
        let client = self.clone();
        let name = name.to_owned();
        let q = queue.clone();
        let fut = async move {
            let mut call = client.tool_call(&name, arguments, &opts);
            call.progress = Some(q);
            client.typed::<CallToolResult>(call).await
        };
        ProgressCall::new(queue, Box::pin(fut))
    }

    /// Every resource the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let resources = c.list_resources().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_resources(&self) -> Result<Vec<Resource>, McpError> {
        self.list_all("resources/list").await
    }

    /// Every resource template the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let templates = c.list_resource_templates().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_resource_templates(&self) -> Result<Vec<ResourceTemplate>, McpError> {
        self.list_all("resources/templates/list").await
    }

    /// Reads the resource at `uri`.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let r = c.read_resource("file:///etc/motd").await?;
    /// # Ok(()) }
    /// ```
    pub async fn read_resource(&self, uri: &str) -> Result<ReadResourceResult, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call("resources/read", json!({"uri": uri}), &opts);
        call.name = Some(uri.to_owned());
        self.typed(call).await
    }

    /// Every prompt the server lists, all pages.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let prompts = c.list_prompts().await?;
    /// # Ok(()) }
    /// ```
    pub async fn list_prompts(&self) -> Result<Vec<Prompt>, McpError> {
        self.list_all("prompts/list").await
    }

    /// Gets prompt `name` with `arguments` (a JSON object of strings).
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let p = c.get_prompt("greet", serde_json::json!({"who": "you"})).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_prompt(
        &self,
        name: &str,
        arguments: Value,
    ) -> Result<GetPromptResult, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call(
            "prompts/get",
            json!({"name": name, "arguments": arguments}),
            &opts,
        );
        call.name = Some(name.to_owned());
        self.typed(call).await
    }

    /// Completion suggestions for argument `argument` (now `value`) of
    /// `reference` (`{"type":"ref/prompt","name":..}` or
    /// `{"type":"ref/resource","uri":..}`).
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let r = c.complete(serde_json::json!({"type": "ref/prompt", "name": "greet"}), "who", "yo").await?;
    /// println!("{:?}", r.values());
    /// # Ok(()) }
    /// ```
    pub async fn complete(
        &self,
        reference: Value,
        argument: &str,
        value: &str,
    ) -> Result<CompleteResult, McpError> {
        let opts = CallOptions::default();
        let params = json!({"ref": reference, "argument": {"name": argument, "value": value}});
        self.typed(self.call("completion/complete", params, &opts))
            .await
    }

    /// Sends any request and returns its raw result: for methods this
    /// client has no call for. Retried when `idempotent` says so.
    ///
    /// # Errors
    ///
    /// As for any call.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// let raw = c.request("logging/setLevel", serde_json::json!({"level": "info"}), false).await?;
    /// # Ok(()) }
    /// ```
    pub async fn request(
        &self,
        method: &'static str,
        params: Value,
        idempotent: bool,
    ) -> Result<Value, McpError> {
        let opts = CallOptions::default();
        let mut call = self.call(method, params, &opts);
        call.idempotent = idempotent;
        self.typed(call).await
    }

    /// Connects now (and settles the era) instead of on the first call.
    ///
    /// # Errors
    ///
    /// When the server cannot be reached or the handshake fails.
    ///
    /// ```
    /// # async fn f(c: weir_mcp::Client<weir_core::test_util::VirtualRuntime>) -> Result<(), weir_mcp::McpError> {
    /// c.connect().await?;
    /// # Ok(()) }
    /// ```
    pub async fn connect(&self) -> Result<(), McpError> {
        self.session().await.map(drop)
    }
}
