//! Conformance mode: what the official MCP conformance suite asks of a
//! client, scenario by scenario, through weir-mcp's [`Client`] over its
//! Streamable HTTP transport.
//!
//! The suite starts a scripted server per scenario, sets
//! `MCP_CONFORMANCE_SCENARIO` (and `MCP_CONFORMANCE_PROTOCOL_VERSION`, and
//! `MCP_CONFORMANCE_CONTEXT` with the tool calls to make), and runs this
//! program with the server URL last. The era follows the version: the
//! `initialize` handshake up to 2025-11-25, stateless requests with `_meta`
//! from 2026-07-28 (no probe: some scenario servers answer nothing but the
//! methods they test).

use std::process::ExitCode;
use std::time::Duration;

use serde_json::{Map, Value, json};
use weir_core::io::NetRuntime;
use weir_mcp::handler::{BoxFuture, ClientHandler};
use weir_mcp::http::{StreamableHttpBuilder, tool_headers_valid};
use weir_mcp::jsonrpc::ErrorObject;
use weir_mcp::{Client, ProtocolMode};

/// Conformance mode, when the suite asked for it: with
/// `MCP_CONFORMANCE_SCENARIO` set, runs that scenario against the URL given
/// as the last argument on the runtime `--runtime` names (smol by default)
/// and returns the exit code; without it, `None` (the CLI's own
/// subcommands run).
pub fn main_if_requested() -> Option<ExitCode> {
    let scenario = std::env::var("MCP_CONFORMANCE_SCENARIO").ok()?;
    let args: Vec<String> = std::env::args().skip(1).collect();
    let runtime = args
        .windows(2)
        .find(|w| w[0] == "--runtime")
        .map_or("smol", |w| w[1].as_str());
    let Some(url) = args.last().filter(|a| a.starts_with("http")) else {
        eprintln!("mcp: conformance mode needs the server URL as the last argument");
        return Some(ExitCode::from(2));
    };
    let outcome = match runtime {
        "smol" => smol::block_on(run(weir_smol::Smol, &scenario, url)),
        "tokio" => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())
            .and_then(|rt| rt.block_on(run(weir_tokio::Tokio, &scenario, url))),
        "async-std" => async_std::task::block_on(run(weir_async_std::AsyncStd, &scenario, url)),
        other => Err(format!(
            "unknown runtime `{other}` (smol, tokio, async-std)"
        )),
    };
    Some(match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("mcp: scenario {scenario}: {e}");
            ExitCode::FAILURE
        }
    })
}

/// Runs `scenario` against `url` on `rt`.
pub async fn run<R: NetRuntime>(rt: R, scenario: &str, url: &str) -> Result<(), String> {
    let modern =
        std::env::var("MCP_CONFORMANCE_PROTOCOL_VERSION").is_ok_and(|v| v.as_str() >= "2026-07-28");
    let context: Value = std::env::var("MCP_CONFORMANCE_CONTEXT")
        .ok()
        .and_then(|c| serde_json::from_str(&c).ok())
        .unwrap_or(Value::Null);
    // The server's SSE `retry` wins when it sends one (sse-retry does).
    let transport = StreamableHttpBuilder::new(url).default_retry(Duration::from_millis(500));
    let client = Client::builder(rt.clone())
        .protocol(if modern {
            ProtocolMode::Modern
        } else {
            ProtocolMode::Legacy
        })
        .client_info("weir-mcp", env!("CARGO_PKG_VERSION"))
        .timeout(Some(Duration::from_secs(20)))
        .handler(Answers)
        .build(transport.connector(rt));
    let outcome = drive(&client, scenario, &context)
        .await
        .map_err(|e| e.to_string());
    client.close();
    outcome
}

async fn drive<R: NetRuntime>(
    client: &Client<R>,
    scenario: &str,
    context: &Value,
) -> Result<(), weir_mcp::McpError> {
    client.connect().await?;
    if scenario == "initialize" {
        return Ok(());
    }
    // Tools whose x-mcp-header declarations break SEP-2243 are dropped,
    // never called.
    let tools: Vec<_> = client
        .list_tools()
        .await?
        .into_iter()
        .filter(|t| tool_headers_valid(&t.input_schema))
        .collect();
    match scenario {
        // Listing is the exercise: no network `$ref` may be fetched.
        "json-schema-ref-no-deref" => return Ok(()),
        "json-schema-2020-12-preservation" => {
            let echo = "json_schema_echo";
            if let Some(focal) = tools.iter().find(|t| t.name != echo) {
                client
                    .call_tool(echo, json!({ "schema": focal.input_schema }))
                    .await?;
            }
            return Ok(());
        }
        _ => {}
    }
    let calls: Vec<(String, Value)> = match context.get("toolCalls").and_then(Value::as_array) {
        Some(calls) => calls
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap_or_default().to_owned(),
                    c.get("arguments").cloned().unwrap_or(json!({})),
                )
            })
            .collect(),
        None => tools
            .iter()
            .map(|t| (t.name.clone(), arguments_for(&t.input_schema)))
            .collect(),
    };
    for (name, args) in calls {
        if tools.iter().any(|t| t.name == name) {
            client.call_tool(&name, args).await?;
        }
    }
    if scenario == "http-standard-headers" {
        for r in client.list_resources().await? {
            client.read_resource(&r.uri).await?;
        }
        for p in client.list_prompts().await? {
            let mut args = Map::new();
            for a in p
                .extra
                .get("arguments")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
            {
                if let Some(n) = a["name"].as_str() {
                    args.insert(n.to_owned(), json!("test"));
                }
            }
            client.get_prompt(&p.name, Value::Object(args)).await?;
        }
    }
    Ok(())
}

/// What the client answers the server: elicitations accepted (the client
/// fills omitted fields from the schema's defaults), a canned sampling
/// reply, no roots.
struct Answers;

impl ClientHandler for Answers {
    fn sampling(&self) -> bool {
        true
    }

    fn elicitation(&self) -> bool {
        true
    }

    fn roots(&self) -> bool {
        true
    }

    fn create_message(&self, _params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async {
            Ok(json!({
                "role": "assistant",
                "content": { "type": "text", "text": "ok" },
                "model": "weir-conformance",
                "stopReason": "endTurn"
            }))
        })
    }

    fn elicit(&self, params: Value) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async move {
            // Fields without a default get a value of their type.
            let mut content = Map::new();
            for (name, prop) in params["requestedSchema"]["properties"]
                .as_object()
                .cloned()
                .unwrap_or_default()
            {
                if prop.get("default").is_none() {
                    content.insert(name, sample(&prop));
                }
            }
            Ok(json!({ "action": "accept", "content": content }))
        })
    }

    fn list_roots(&self) -> BoxFuture<'_, Result<Value, ErrorObject>> {
        Box::pin(async { Ok(json!({ "roots": [] })) })
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
