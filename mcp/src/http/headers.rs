//! The headers Streamable HTTP derives from a message: `Mcp-Method`,
//! `Mcp-Name`, and the `Mcp-Param-*` mirrors of tool arguments a tool's
//! schema asks for with `x-mcp-header` (2026-07-28, SEP-2243); and the
//! `Retry-After` an overloaded server sends.

use std::time::{Duration, SystemTime};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

/// The schema keyword naming the header a tool argument is mirrored into.
pub const X_MCP_HEADER: &str = "x-mcp-header";

/// Whether a tool's `x-mcp-header` declarations keep the rules: each names
/// a non-empty header of visible ASCII without `:` (an HTTP token), no two
/// names equal ignoring case, and only on arguments of type string,
/// integer or boolean (not number: a float has no one text form a server
/// could compare against the body). A client drops a tool that breaks
/// them instead of calling it with headers it cannot form.
///
/// ```
/// use serde_json::json;
/// use weir_mcp::http::tool_headers_valid;
///
/// let good = json!({"type": "object", "properties": {"region": {"type": "string", "x-mcp-header": "Region"}}});
/// assert!(tool_headers_valid(&good));
/// let spaced = json!({"type": "object", "properties": {"r": {"type": "string", "x-mcp-header": "My Region"}}});
/// assert!(!tool_headers_valid(&spaced));
/// ```
pub fn tool_headers_valid(input_schema: &Value) -> bool {
    let Some(props) = input_schema.get("properties").and_then(Value::as_object) else {
        return true;
    };
    let mut seen: Vec<String> = Vec::new();
    for prop in props.values() {
        let Some(decl) = prop.get(X_MCP_HEADER) else {
            continue;
        };
        let Some(name) = decl.as_str() else {
            return false;
        };
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return false;
        }
        let lower = name.to_ascii_lowercase();
        if seen.contains(&lower) {
            return false;
        }
        seen.push(lower);
        let primitive = match prop.get("type") {
            Some(Value::String(t)) => matches!(t.as_str(), "string" | "integer" | "boolean"),
            None => true,
            _ => false,
        };
        if !primitive {
            return false;
        }
    }
    true
}

/// RFC 9110 token characters.
fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Adds `Mcp-Param-{Name}` for each argument whose property in `schema`
/// declares `x-mcp-header: Name`. Null and missing arguments add nothing;
/// values that cannot travel as a plain header value (non-ASCII, control
/// characters, leading or trailing whitespace, or text that looks like the
/// encoded form) travel as `=?base64?…?=`.
pub(crate) fn mirror_params(schema: &Value, arguments: Option<&Value>, headers: &mut HeaderMap) {
    let (Some(props), Some(args)) = (
        schema.get("properties").and_then(Value::as_object),
        arguments.and_then(Value::as_object),
    ) else {
        return;
    };
    for (key, prop) in props {
        let Some(name) = prop.get(X_MCP_HEADER).and_then(Value::as_str) else {
            continue;
        };
        let text = match args.get(key) {
            None | Some(Value::Null) => continue,
            Some(Value::String(s)) => s.clone(),
            Some(Value::Bool(b)) => b.to_string(),
            Some(Value::Number(n)) => n.to_string(),
            Some(_) => continue,
        };
        let (Ok(name), Ok(value)) = (
            HeaderName::try_from(format!("mcp-param-{name}")),
            HeaderValue::try_from(encode_value(&text)),
        ) else {
            continue;
        };
        headers.insert(name, value);
    }
}

/// A header value for `text`: itself when it is plain visible ASCII
/// (inner spaces allowed), else the base64 form.
pub(crate) fn encode_value(text: &str) -> String {
    let plain = text.bytes().all(|b| (0x20..=0x7e).contains(&b))
        && text.trim() == text
        && !(text.starts_with("=?") && text.ends_with("?="));
    if plain {
        text.to_owned()
    } else {
        format!("=?base64?{}?=", STANDARD.encode(text))
    }
}

/// The wait a 429 or 503 asks for: `Retry-After` in seconds or as an HTTP
/// date, bounded by `max` (a server's hour-long hint must not park a client
/// for an hour); `None` without a readable header.
pub(crate) fn retry_after(headers: &HeaderMap, now: SystemTime, max: Duration) -> Option<Duration> {
    let raw = headers
        .get(http::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    let wait = match raw.parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => httpdate::parse_http_date(raw)
            .ok()?
            .duration_since(now)
            .unwrap_or(Duration::ZERO),
    };
    Some(wait.min(max))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn values_that_cannot_be_plain_headers_are_base64() {
        assert_eq!(encode_value("us-west1"), "us-west1");
        assert_eq!(encode_value("us west 1"), "us west 1");
        assert_eq!(encode_value(""), "");
        assert_eq!(
            encode_value("Hello, 世界"),
            format!("=?base64?{}?=", STANDARD.encode("Hello, 世界"))
        );
        assert_eq!(
            encode_value(" padded "),
            format!("=?base64?{}?=", STANDARD.encode(" padded "))
        );
        assert_eq!(
            encode_value("a\r\nb"),
            format!("=?base64?{}?=", STANDARD.encode("a\r\nb"))
        );
        assert_eq!(
            encode_value("\tx"),
            format!("=?base64?{}?=", STANDARD.encode("\tx"))
        );
        assert_eq!(
            encode_value("=?base64?x?="),
            format!("=?base64?{}?=", STANDARD.encode("=?base64?x?="))
        );
    }

    #[test]
    fn declared_arguments_are_mirrored_and_nulls_omitted() {
        let schema = json!({"properties": {
            "region": {"type": "string", "x-mcp-header": "Region"},
            "priority": {"type": "integer", "x-mcp-header": "Priority"},
            "verbose": {"type": "boolean", "x-mcp-header": "Verbose"},
            "query": {"type": "string"}
        }});
        let mut h = HeaderMap::new();
        mirror_params(
            &schema,
            Some(&json!({"region": "eu", "priority": 42, "verbose": null, "query": "q"})),
            &mut h,
        );
        assert_eq!(h.get("mcp-param-region").unwrap(), "eu");
        assert_eq!(h.get("mcp-param-priority").unwrap(), "42");
        assert!(h.get("mcp-param-verbose").is_none());
        assert_eq!(h.len(), 2);
    }

    #[test]
    fn broken_declarations_condemn_the_tool() {
        let with = |decl: Value, ty: &str| json!({"properties": {"a": {"type": ty, "x-mcp-header": decl}}});
        assert!(tool_headers_valid(&with(json!("Ok-Name"), "string")));
        for bad in ["", "a b", "a:b", "é", "a\u{1}b"] {
            assert!(!tool_headers_valid(&with(json!(bad), "string")), "{bad:?}");
        }
        assert!(!tool_headers_valid(&with(json!("X"), "object")));
        assert!(!tool_headers_valid(&with(json!("X"), "number")));
        assert!(tool_headers_valid(&with(json!("X"), "integer")));
        assert!(!tool_headers_valid(&with(json!("X"), "array")));
        assert!(!tool_headers_valid(&with(json!("X"), "null")));
        let dup = json!({"properties": {"a": {"type": "string", "x-mcp-header": "X"}, "b": {"type": "string", "x-mcp-header": "x"}}});
        assert!(!tool_headers_valid(&dup));
    }

    #[test]
    fn retry_after_reads_seconds_and_dates_and_is_bounded() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        let max = Duration::from_secs(60);
        let mut h = HeaderMap::new();
        assert_eq!(retry_after(&h, now, max), None);
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(retry_after(&h, now, max), Some(Duration::from_secs(7)));
        h.insert(http::header::RETRY_AFTER, HeaderValue::from_static("3600"));
        assert_eq!(retry_after(&h, now, max), Some(max));
        let date = httpdate::fmt_http_date(now + Duration::from_secs(12));
        h.insert(
            http::header::RETRY_AFTER,
            HeaderValue::from_str(&date).unwrap(),
        );
        assert_eq!(retry_after(&h, now, max), Some(Duration::from_secs(12)));
    }
}
