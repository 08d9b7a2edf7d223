//! A server's state and its answers: the quota, the handshake, the tool
//! list, and what an accepted `tools/call` will do.

use super::*;

#[derive(Debug, Default)]
pub(super) struct Counters {
    pub(super) requests: AtomicU64,
    pub(super) tool_calls: AtomicU64,
    pub(super) rate_limited: AtomicU64,
    pub(super) transient: AtomicU64,
    pub(super) dropped: AtomicU64,
    pub(super) progress: AtomicU64,
    pub(super) cancel_notices: AtomicU64,
    pub(super) cancelled: AtomicU64,
}

pub(super) fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// The server's own quota: a GCRA that refuses (never waits).
#[derive(Debug)]
pub(super) struct Quota {
    pub(super) interval: Duration,
    pub(super) tolerance: Duration,
    pub(super) tat: Instant,
}

impl Quota {
    pub(super) fn new(spec: &ServerSpec, start: Instant) -> Self {
        let interval = Duration::from_secs(1) / spec.quota_per_sec.max(1);
        Quota {
            interval,
            tolerance: interval * spec.burst.saturating_sub(1),
            tat: start,
        }
    }

    /// `Ok` when the call fits the quota, else how long until one would.
    pub(super) fn check(&mut self, now: Instant) -> Result<(), Duration> {
        let allowed_at = self.tat.checked_sub(self.tolerance).unwrap_or(now);
        if now < allowed_at {
            return Err(allowed_at - now);
        }
        self.tat = self.tat.max(now) + self.interval;
        Ok(())
    }
}

#[derive(Debug)]
pub(super) struct State {
    pub(super) spec: ServerSpec,
    pub(super) start: Instant,
    pub(super) quota: Mutex<Quota>,
    pub(super) rng: Mutex<fastrand::Rng>,
    pub(super) counters: Counters,
}

/// A `tools/call` the server accepted: how long it works, how it ends.
pub(super) struct Work {
    pub(super) latency: Duration,
    pub(super) outcome: Result<Value, ErrorObject>,
}

/// The parts of a request's params the server reads.
#[derive(Deserialize, Default)]
pub(super) struct Params {
    #[serde(default)]
    pub(super) name: Option<String>,
    #[serde(default, rename = "protocolVersion")]
    pub(super) protocol_version: Option<String>,
    #[serde(default, rename = "_meta")]
    pub(super) meta: Option<MetaIn>,
}

#[derive(Deserialize, Default)]
pub(super) struct MetaIn {
    #[serde(default, rename = "progressToken")]
    pub(super) progress_token: Option<Value>,
}

#[derive(Deserialize)]
pub(super) struct Cancelled {
    #[serde(rename = "requestId")]
    pub(super) request_id: RequestId,
}

pub(super) fn error(id: RequestId, code: i64, message: &str) -> Message {
    Message::Error(ErrorResponse {
        id: Some(id),
        error: ErrorObject::new(code, message),
    })
}

pub(super) fn result(id: RequestId, value: &Value) -> Message {
    match to_raw(value) {
        Ok(raw) => Message::Response(Response::new(id, raw)),
        Err(_) => error(id, ErrorObject::INTERNAL_ERROR, "unencodable result"),
    }
}

impl State {
    pub(super) fn is_down(&self, now: Instant) -> bool {
        self.spec.down.is_some_and(|(from, len)| {
            let t = now.saturating_duration_since(self.start);
            t >= from && t < from + len
        })
    }

    pub(super) fn server_info(&self) -> Value {
        json!({ "name": format!("weir-demo-{}", self.spec.name), "version": env!("CARGO_PKG_VERSION") })
    }

    pub(super) fn initialize(&self, params: &Params) -> Value {
        // The client's version when we speak it, else our newest.
        let version = params
            .protocol_version
            .as_deref()
            .and_then(|v| LEGACY_VERSIONS.iter().find(|l| **l == v))
            .copied()
            .unwrap_or(LEGACY_VERSIONS[0]);
        json!({
            "protocolVersion": version,
            "capabilities": { "tools": {} },
            "serverInfo": self.server_info(),
        })
    }

    pub(super) fn discover(&self) -> Value {
        let mut versions = vec![MODERN_VERSION];
        versions.extend(LEGACY_VERSIONS);
        json!({
            "supportedVersions": versions,
            "capabilities": { "tools": {} },
            "_meta": { (meta::SERVER_INFO): self.server_info() },
        })
    }

    pub(super) fn tools(&self) -> Value {
        let schema = match self.spec.name {
            "search" => {
                json!({"type": "object", "properties": {"query": {"type": "string"}}, "required": ["query"]})
            }
            "fetch" => {
                json!({"type": "object", "properties": {"url": {"type": "string"}}, "required": ["url"]})
            }
            _ => {
                json!({"type": "object", "properties": {"language": {"type": "string"}, "source": {"type": "string"}}})
            }
        };
        json!({ "tools": [{
            "name": self.spec.name,
            "description": format!("the demo's {} tool", self.spec.name),
            "inputSchema": schema,
            "annotations": { "readOnlyHint": true },
        }]})
    }

    /// Quota, then the call's draws: latency, tail, transient failure.
    pub(super) fn accept(&self, id: &RequestId, params: &Params) -> Result<Work, ErrorObject> {
        if params.name.as_deref() != Some(self.spec.name) {
            return Err(ErrorObject::new(
                ErrorObject::INVALID_PARAMS,
                "unknown tool",
            ));
        }
        if let Err(wait) = self.quota.lock().check(Instant::now()) {
            bump(&self.counters.rate_limited);
            let mut e = ErrorObject::new(RATE_LIMITED, "rate limit exceeded");
            // Round up so a client that waits exactly this long fits.
            e.data = Some(json!({ "retry_after_ms": wait.as_millis() as u64 + 1 }));
            return Err(e);
        }
        let mut rng = self.rng.lock();
        let (lo, hi) = self.spec.latency;
        let base = lo + (hi.saturating_sub(lo)).mul_f64(rng.f64());
        let slow = rng.f64() < self.spec.slow_share;
        let transient = rng.f64() < self.spec.transient_share;
        let latency = if slow { self.spec.slow } else { base };
        if transient {
            bump(&self.counters.transient);
            return Ok(Work {
                latency: latency / 2,
                outcome: Err(ErrorObject::new(TRANSIENT, "transient failure, try again")),
            });
        }
        let text = format!("{} result for call {id}", self.spec.name);
        Ok(Work {
            latency,
            outcome: Ok(json!({ "content": [{ "type": "text", "text": text }], "isError": false })),
        })
    }
}
