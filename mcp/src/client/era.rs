//! Settling the era with a server: the `server/discover` probe and its
//! fallback to `initialize`, as the 2026-07-28 versioning page says
//! (never keyed to one error code), and the modern `_meta` envelope.

use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::borrow::Cow;
use weir_core::{Runtime, rt::deadline_after};

use super::{Client, ProtocolMode};
use crate::error::{McpError, TimeoutKind};
use crate::jsonrpc::{ErrorObject, to_raw};
use crate::protocol::{self, Implementation, ServerInfo, meta};
use crate::session::{Outcome, RequestSpec, Session, WaitSpec};
use crate::transport::Era;

impl<R: Runtime, L> Client<R, L> {
    fn client_info(&self) -> Value {
        serde_json::to_value(&self.inner.config.client_info).unwrap_or(Value::Null)
    }

    pub(super) fn modern_meta(&self, version: &'static str) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert(meta::PROTOCOL_VERSION.into(), Value::String(version.into()));
        m.insert(
            meta::CLIENT_CAPABILITIES.into(),
            self.inner.capabilities.clone(),
        );
        m.insert(meta::CLIENT_INFO.into(), self.client_info());
        m
    }

    pub(super) async fn handshake(&self, s: &Session<R>) -> Result<(), McpError> {
        let cached = *self.inner.era.lock();
        match (cached, self.inner.config.protocol) {
            (Some((Era::Modern, v)), _) => {
                s.set_era(Era::Modern, v);
                Ok(())
            }
            (_, ProtocolMode::Legacy) => self.initialize(s).await,
            // Found legacy by an earlier probe: if the server now refuses
            // `initialize`, the assumption failed (the server was replaced
            // by a modern one): probe again, once.
            (Some((Era::Legacy, _)), _) => match self.initialize(s).await {
                Err(McpError::Server(_)) => {
                    *self.inner.era.lock() = None;
                    self.probe(s).await
                }
                r => r,
            },
            (None, _) => self.probe(s).await,
        }
    }

    async fn probe(&self, s: &Session<R>) -> Result<(), McpError> {
        match self.discover(s, protocol::MODERN_VERSION).await? {
            Some(v) => {
                s.set_era(Era::Modern, v);
                *self.inner.era.lock() = Some((Era::Modern, v));
                Ok(())
            }
            None => self.initialize(s).await,
        }
    }

    /// The `server/discover` probe. `Some(version)`: modern; `None`: fall
    /// back to `initialize`.
    async fn discover(
        &self,
        s: &Session<R>,
        preferred: &'static str,
    ) -> Result<Option<&'static str>, McpError> {
        // The probe travels as a modern request (HTTP headers included).
        s.set_era(Era::Modern, preferred);
        let mut version = preferred;
        for _ in 0..2 {
            let id = s.next_id();
            let params = json!({"_meta": self.modern_meta(version)});
            let wait = WaitSpec {
                deadline: Some(deadline_after(
                    self.inner.rt.now(),
                    self.inner.config.probe_timeout,
                )),
                deadline_kind: Some(TimeoutKind::Handshake),
                cancellable: false,
                ..WaitSpec::default()
            };
            let spec = RequestSpec {
                method: Cow::Borrowed("server/discover"),
                params: to_raw(&params).ok(),
                name: None,
                tool_schema: None,
            };
            let outcome = match s.request(id, spec, wait).await {
                Ok(o) => o,
                // Silence: a legacy server that ignores unknown methods.
                Err(McpError::Timeout(_)) => return Ok(None),
                Err(e) => return Err(e),
            };
            match outcome {
                Outcome::Result(raw) => {
                    #[derive(Deserialize)]
                    #[serde(rename_all = "camelCase")]
                    struct Discover {
                        #[serde(default)]
                        supported_versions: Vec<String>,
                        #[serde(default)]
                        capabilities: Value,
                        #[serde(default)]
                        instructions: Option<String>,
                        #[serde(default, rename = "_meta")]
                        meta: Map<String, Value>,
                    }
                    let d: Discover = serde_json::from_str(raw.get())
                        .map_err(|e| McpError::Decode(e.to_string()))?;
                    let chosen = pick(&d.supported_versions, &protocol::MODERN_VERSIONS);
                    *self.inner.server.lock() = Some(ServerInfo {
                        implementation: d
                            .meta
                            .get(meta::SERVER_INFO)
                            .and_then(|v| serde_json::from_value::<Implementation>(v.clone()).ok()),
                        capabilities: d.capabilities,
                        instructions: d.instructions,
                        versions: d.supported_versions.clone(),
                    });
                    return match chosen {
                        Some(v) => Ok(Some(v)),
                        // A server that lists only legacy versions: initialise.
                        None if pick(&d.supported_versions, &protocol::LEGACY_VERSIONS)
                            .is_some() =>
                        {
                            Ok(None)
                        }
                        None => Err(McpError::Protocol(format!(
                            "no common protocol version; server supports {:?}",
                            d.supported_versions
                        ))),
                    };
                }
                Outcome::Error(e) if is_modern_error(&e) => {
                    let supported = supported_list(&e);
                    match pick(&supported, &protocol::MODERN_VERSIONS) {
                        Some(v) if v != version => {
                            version = v;
                            s.set_era(Era::Modern, v);
                            continue;
                        }
                        Some(v) => return Ok(Some(v)),
                        None if pick(&supported, &protocol::LEGACY_VERSIONS).is_some() => {
                            return Ok(None);
                        }
                        None => return Err(McpError::Server(e)),
                    }
                }
                // Any other error, whatever its code: a legacy server.
                Outcome::Error(_) => return Ok(None),
                Outcome::Failed(e) if !e.is_fatal() => return Ok(None),
                Outcome::Failed(e) => return Err(McpError::from(e)),
                Outcome::StreamLost | Outcome::SessionExpired => return Ok(None),
            }
        }
        Ok(Some(version))
    }

    async fn initialize(&self, s: &Session<R>) -> Result<(), McpError> {
        let id = s.next_id();
        let params = json!({
            "protocolVersion": protocol::LEGACY_VERSIONS[0],
            "capabilities": self.inner.capabilities,
            "clientInfo": self.client_info(),
        });
        let wait = WaitSpec {
            deadline: Some(deadline_after(
                self.inner.rt.now(),
                self.inner.config.handshake_timeout,
            )),
            deadline_kind: Some(TimeoutKind::Handshake),
            // `initialize` is never cancelled.
            cancellable: false,
            ..WaitSpec::default()
        };
        let spec = RequestSpec {
            method: Cow::Borrowed("initialize"),
            params: to_raw(&params).ok(),
            name: None,
            tool_schema: None,
        };
        match s.request(id, spec, wait).await? {
            Outcome::Result(raw) => {
                #[derive(Deserialize)]
                #[serde(rename_all = "camelCase")]
                struct Init {
                    protocol_version: String,
                    #[serde(default)]
                    capabilities: Value,
                    #[serde(default)]
                    server_info: Option<Implementation>,
                    #[serde(default)]
                    instructions: Option<String>,
                }
                let init: Init =
                    serde_json::from_str(raw.get()).map_err(|e| McpError::Decode(e.to_string()))?;
                let Some(v) = protocol::LEGACY_VERSIONS
                    .iter()
                    .copied()
                    .find(|v| *v == init.protocol_version)
                else {
                    return Err(McpError::Protocol(format!(
                        "server chose protocol version {:?}, which this client does not speak",
                        init.protocol_version
                    )));
                };
                s.set_era(Era::Legacy, v);
                *self.inner.era.lock() = Some((Era::Legacy, v));
                *self.inner.server.lock() = Some(ServerInfo {
                    implementation: init.server_info,
                    capabilities: init.capabilities,
                    instructions: init.instructions,
                    versions: vec![init.protocol_version],
                });
                s.notify("notifications/initialized", None);
                Ok(())
            }
            // A modern server refusing `initialize` with the versions it
            // speaks (for example one that saw a probe we gave up on too
            // early): speak modern with it.
            Outcome::Error(e) => match pick(&supported_list(&e), &protocol::MODERN_VERSIONS) {
                Some(v) if self.inner.config.protocol != ProtocolMode::Legacy => {
                    s.set_era(Era::Modern, v);
                    *self.inner.era.lock() = Some((Era::Modern, v));
                    Ok(())
                }
                _ => Err(McpError::Server(e)),
            },
            Outcome::Failed(e) => Err(McpError::from(e)),
            Outcome::StreamLost | Outcome::SessionExpired => {
                Err(McpError::Protocol("initialize interrupted".into()))
            }
        }
    }
}

/// The newest of `ours` that `theirs` lists.
pub(super) fn pick(theirs: &[String], ours: &[&'static str]) -> Option<&'static str> {
    ours.iter().copied().find(|o| theirs.iter().any(|t| t == o))
}

/// The `supported` list of an `UnsupportedProtocolVersionError`.
pub(super) fn supported_list(e: &ErrorObject) -> Vec<String> {
    e.data
        .as_ref()
        .and_then(|d| d.get("supported"))
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Errors only a modern server sends: the codes the 2026-07-28 revision
/// allocated (-32020 onwards). Any other code, whatever it is, is no
/// evidence of a modern server.
fn is_modern_error(e: &ErrorObject) -> bool {
    matches!(
        e.code,
        ErrorObject::HEADER_MISMATCH
            | ErrorObject::MISSING_REQUIRED_CLIENT_CAPABILITY
            | ErrorObject::UNSUPPORTED_PROTOCOL_VERSION
    )
}
