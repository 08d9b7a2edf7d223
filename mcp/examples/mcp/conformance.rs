//! Conformance mode: what the official MCP conformance suite asks of a
//! client, scenario by scenario, over weir-mcp's Streamable HTTP transport.
//!
//! The suite starts a scripted server per scenario, sets
//! `MCP_CONFORMANCE_SCENARIO` (and `MCP_CONFORMANCE_PROTOCOL_VERSION`, and
//! `MCP_CONFORMANCE_CONTEXT` with the tool calls to make), and runs this
//! program with the server URL last. The era follows the version: an
//! `initialize` handshake up to 2025-11-25, stateless requests with `_meta`
//! from 2026-07-28.
//!
//! The driver speaks JSON-RPC over the transport itself (a request, then
//! messages until its reply, answering the server's own requests on the
//! way), because the session core's `Client` is not in this branch yet;
//! once it is, this file shrinks to the scenario choices.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_lite::future;
use serde_json::{Map, Value, json};
use weir_core::io::NetRuntime;
use weir_mcp::http::{HttpSink, HttpSource, StreamableHttpBuilder, tool_headers_valid};
use weir_mcp::jsonrpc::{
    ErrorObject, ErrorResponse, Message, Request, RequestId, Response, to_raw,
};
use weir_mcp::transport::{
    Era, Inbound, Lane, MessageSink, MessageSource, Outbound, Transport, TransportEvent,
};

const MODERN: &str = "2026-07-28";
const LEGACY: &str = "2025-11-25";

/// Runs `scenario` against `url` on `rt`.
pub async fn run<R: NetRuntime>(rt: R, scenario: &str, url: &str) -> Result<(), String> {
    let version = match std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION")
        .ok()
        .as_deref()
    {
        Some(v) if v >= MODERN => MODERN,
        _ => LEGACY,
    };
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    let transport = StreamableHttpBuilder::new(url)
        .default_retry(Duration::from_millis(500))
        .build(rt.clone())
        .map_err(|e| e.to_string())?;
    let (sink, source) = transport.split();
    let mut peer = Peer {
        sink,
        source,
        next_id: 1,
        version,
        era: if version >= MODERN {
            Era::Modern
        } else {
            Era::Legacy
        },
        schemas: HashMap::new(),
        reinitialised: false,
    };
    // The suite kills a client after 30 s; give up first, with a reason.
    let work = async { peer.scenario(scenario, &context).await };
    let outcome = future::or(work, async {
        rt.sleep(Duration::from_secs(25)).await;
        Err("timed out after 25 s".to_owned())
    })
    .await;
    peer.sink.close().await;
    outcome
}

struct Peer<R: NetRuntime> {
    sink: HttpSink<R>,
    source: HttpSource,
    next_id: i64,
    version: &'static str,
    era: Era,
    /// Listed input schemas by tool, for the transport's `Mcp-Param-*` mirrors.
    schemas: HashMap<String, Arc<Value>>,
    reinitialised: bool,
}

impl<R: NetRuntime> Peer<R> {
    async fn scenario(&mut self, scenario: &str, context: &Value) -> Result<(), String> {
        if self.era == Era::Legacy {
            self.initialize().await?;
        } else {
            self.sink.negotiated(Era::Modern, self.version);
        }
        if scenario == "initialize" {
            return Ok(());
        }
        let tools = self.list_tools().await?;
        match scenario {
            // Listing is the whole exercise: the check is that no network
            // `$ref` in a schema was fetched.
            "json-schema-ref-no-deref" => return Ok(()),
            "json-schema-2020-12-preservation" => {
                let echo = "json_schema_echo";
                let focal = tools
                    .iter()
                    .find(|t| t["name"] != echo)
                    .ok_or("no tool to echo the schema of")?;
                let schema = focal["inputSchema"].clone();
                self.call_tool(echo, json!({ "schema": schema })).await?;
                return Ok(());
            }
            _ => {}
        }
        let calls: Vec<(String, Value)> = match context.get("toolCalls").and_then(Value::as_array) {
            Some(calls) => calls
                .iter()
                .map(|c| {
                    let name = c["name"].as_str().unwrap_or_default().to_owned();
                    (
                        name,
                        c.get("arguments").cloned().unwrap_or_else(|| json!({})),
                    )
                })
                .collect(),
            None => tools
                .iter()
                .map(|t| {
                    (
                        t["name"].as_str().unwrap_or_default().to_owned(),
                        arguments_for(&t["inputSchema"]),
                    )
                })
                .collect(),
        };
        for (name, args) in calls {
            if self.schemas.contains_key(&name) {
                self.call_tool(&name, args).await?;
            }
        }
        if scenario == "http-standard-headers" {
            let resources = self.request("resources/list", json!({})).await?;
            for r in resources["resources"]
                .as_array()
                .cloned()
                .unwrap_or_default()
            {
                self.request("resources/read", json!({ "uri": r["uri"] }))
                    .await?;
            }
            let prompts = self.request("prompts/list", json!({})).await?;
            for p in prompts["prompts"].as_array().cloned().unwrap_or_default() {
                let mut args = Map::new();
                for a in p["arguments"].as_array().cloned().unwrap_or_default() {
                    if let Some(n) = a["name"].as_str() {
                        args.insert(n.to_owned(), json!("test"));
                    }
                }
                self.request(
                    "prompts/get",
                    json!({ "name": p["name"], "arguments": args }),
                )
                .await?;
            }
        }
        Ok(())
    }

    async fn initialize(&mut self) -> Result<(), String> {
        let params = json!({
            "protocolVersion": self.version,
            "capabilities": capabilities(),
            "clientInfo": client_info(),
        });
        let reply = self.exchange("initialize", params).await?;
        let agreed = reply["protocolVersion"].as_str().unwrap_or(LEGACY);
        self.version = [LEGACY, "2025-06-18", "2025-03-26"]
            .into_iter()
            .find(|v| *v == agreed)
            .unwrap_or(LEGACY);
        self.sink.negotiated(Era::Legacy, self.version);
        let note = Message::Notification(weir_mcp::jsonrpc::Notification::new(
            "notifications/initialized",
            None,
        ));
        self.send(&note, Lane::Normal).await
    }

    /// The tools whose header declarations keep SEP-2243's rules; the rest
    /// are dropped, never called.
    async fn list_tools(&mut self) -> Result<Vec<Value>, String> {
        let listed = self.request("tools/list", json!({})).await?;
        let tools: Vec<Value> = listed["tools"]
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|t| tool_headers_valid(&t["inputSchema"]))
            .collect();
        for t in &tools {
            if let Some(name) = t["name"].as_str() {
                self.schemas
                    .insert(name.to_owned(), Arc::new(t["inputSchema"].clone()));
            }
        }
        Ok(tools)
    }

    async fn call_tool(&mut self, name: &str, arguments: Value) -> Result<Value, String> {
        self.request(
            "tools/call",
            json!({ "name": name, "arguments": arguments }),
        )
        .await
    }

    /// A request in the current era: `_meta` in the modern one, and the
    /// input-required rounds (SEP-2322) answered until the result is complete.
    async fn request(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let mut params = params;
        for _ in 0..10 {
            let result = self.exchange(method, params.clone()).await?;
            if result["resultType"] != "input_required" {
                return Ok(result);
            }
            let mut responses = Map::new();
            for (key, input) in result["inputRequests"]
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                let method = input["method"].as_str().unwrap_or_default();
                responses.insert(key, answer(method, &input["params"]));
            }
            let p = params.as_object_mut().ok_or("params must be an object")?;
            p.insert("inputResponses".into(), Value::Object(responses));
            // The state is echoed byte for byte, or left out when none came.
            match result.get("requestState") {
                Some(state) => p.insert("requestState".into(), state.clone()),
                None => p.remove("requestState"),
            };
        }
        Err(format!("{method}: more than 10 input-required rounds"))
    }

    /// One JSON-RPC exchange: a new id each time it is (re)sent.
    async fn exchange(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let mut version_retried = false;
        let mut attempts = 0;
        loop {
            attempts += 1;
            if attempts > 5 {
                return Err(format!("{method}: gave up after {attempts} attempts"));
            }
            let mut params = params.clone();
            if self.era == Era::Modern {
                let meta = params
                    .as_object_mut()
                    .ok_or("params must be an object")?
                    .entry("_meta")
                    .or_insert_with(|| json!({}));
                meta["io.modelcontextprotocol/protocolVersion"] = json!(self.version);
                meta["io.modelcontextprotocol/clientCapabilities"] = capabilities();
                meta["io.modelcontextprotocol/clientInfo"] = client_info();
            }
            let id = RequestId::from(self.next_id);
            self.next_id += 1;
            let raw = to_raw(&params).map_err(|e| e.to_string())?;
            let msg = Message::Request(Request::new(id.clone(), method.to_owned(), Some(raw)));
            self.send(&msg, Lane::Normal).await?;
            match self.await_reply(&id).await? {
                Reply::Result(v) => return Ok(v),
                Reply::Error(e)
                    if e.code == ErrorObject::UNSUPPORTED_PROTOCOL_VERSION && !version_retried =>
                {
                    version_retried = true;
                    let supported = e
                        .data
                        .as_ref()
                        .and_then(|d| d["supported"].as_array().cloned())
                        .unwrap_or_default();
                    self.version = if supported.iter().any(|v| v == MODERN) {
                        MODERN
                    } else {
                        LEGACY
                    };
                }
                Reply::Error(e) => {
                    return Err(format!("{method}: error {}: {}", e.code, e.message));
                }
                Reply::Again => {}
                Reply::Reinitialise if !self.reinitialised && method != "initialize" => {
                    self.reinitialised = true;
                    Box::pin(self.initialize()).await?;
                }
                Reply::Reinitialise => return Err(format!("{method}: the session expired twice")),
                Reply::Failed(why) => return Err(format!("{method}: {why}")),
            }
        }
    }

    async fn send(&mut self, msg: &Message, lane: Lane) -> Result<(), String> {
        let mut out = Outbound::from_message(msg).map_err(|e| e.to_string())?;
        out.era = Some(self.era);
        out.protocol_version = (self.era == Era::Modern).then_some(self.version);
        out.lane = lane;
        if let Message::Request(r) = msg
            && r.method == "tools/call"
        {
            let params: Value = r
                .params
                .as_ref()
                .and_then(|p| serde_json::from_str(p.get()).ok())
                .unwrap_or(Value::Null);
            if let Some(name) = params["name"].as_str() {
                out.name = Some(name.to_owned());
                out.tool_schema = self.schemas.get(name).cloned();
            }
        }
        self.sink.send(out).await.map_err(|e| e.to_string())
    }

    /// Messages until the reply to `id`, answering the server's requests.
    async fn await_reply(&mut self, id: &RequestId) -> Result<Reply, String> {
        loop {
            match self.source.recv().await.map_err(|e| e.to_string())? {
                Inbound::Message(Message::Response(r)) if &r.id == id => {
                    return serde_json::from_str(r.result.get())
                        .map(Reply::Result)
                        .map_err(|e| e.to_string());
                }
                Inbound::Message(Message::Error(e)) if e.id.as_ref().is_none_or(|i| i == id) => {
                    return Ok(Reply::Error(e.error));
                }
                Inbound::Message(Message::Request(req)) => {
                    let params: Value = req
                        .params
                        .as_ref()
                        .and_then(|p| serde_json::from_str(p.get()).ok())
                        .unwrap_or(Value::Null);
                    let result = answer(&req.method, &params);
                    let reply = match to_raw(&result) {
                        Ok(raw) => Message::Response(Response::new(req.id, raw)),
                        Err(e) => Message::Error(ErrorResponse {
                            id: Some(req.id),
                            error: ErrorObject::new(ErrorObject::INTERNAL_ERROR, e.to_string()),
                        }),
                    };
                    self.send(&reply, Lane::Control).await?;
                }
                Inbound::Event(TransportEvent::RequestFailed { id: failed, error })
                    if &failed == id =>
                {
                    return Ok(Reply::Failed(error.to_string()));
                }
                Inbound::Event(TransportEvent::StreamLost { id: lost }) if &lost == id => {
                    return Ok(Reply::Again);
                }
                Inbound::Event(TransportEvent::SessionExpired { .. }) => {
                    return Ok(Reply::Reinitialise);
                }
                _ => {}
            }
        }
    }
}

enum Reply {
    Result(Value),
    Error(ErrorObject),
    Again,
    Reinitialise,
    Failed(String),
}

fn capabilities() -> Value {
    json!({ "elicitation": {}, "sampling": {}, "roots": { "listChanged": false } })
}

fn client_info() -> Value {
    json!({ "name": "weir-mcp", "version": env!("CARGO_PKG_VERSION") })
}

/// What the client answers to a server's request (legacy) or input request
/// (modern): elicitations accepted with the schema's defaults, no roots, a
/// canned sampling reply.
fn answer(method: &str, params: &Value) -> Value {
    match method {
        "elicitation/create" => {
            let mut content = Map::new();
            let schema = &params["requestedSchema"];
            for (name, prop) in schema["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                let value = match prop.get("default") {
                    Some(d) => d.clone(),
                    None => sample(&prop),
                };
                content.insert(name, value);
            }
            json!({ "action": "accept", "content": content })
        }
        "roots/list" => json!({ "roots": [] }),
        "sampling/createMessage" => json!({
            "role": "assistant",
            "content": { "type": "text", "text": "ok" },
            "model": "weir-conformance",
            "stopReason": "endTurn"
        }),
        _ => json!({}),
    }
}

/// Arguments for a tool the context names no call for: every property
/// given a value of its type.
fn arguments_for(schema: &Value) -> Value {
    let mut args = Map::new();
    for (name, prop) in schema["properties"]
        .as_object()
        .cloned()
        .unwrap_or_default()
    {
        args.insert(name, sample(&prop));
    }
    Value::Object(args)
}

fn sample(prop: &Value) -> Value {
    match prop["type"].as_str() {
        Some("integer" | "number") => json!(1),
        Some("boolean") => json!(true),
        Some("array") => json!([]),
        Some("object") => json!({}),
        _ => match prop["enum"].as_array().and_then(|e| e.first()) {
            Some(first) => first.clone(),
            None => json!("test"),
        },
    }
}
