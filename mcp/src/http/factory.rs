//! Streamable HTTP entries of an `mcpServers` configuration as connectors.

use http::{HeaderName, HeaderValue};
use weir_core::io::NetRuntime;
use weir_core::{ConfigError, Rule};

use super::StreamableHttpBuilder;
use crate::config::{ConfigFileError, HttpConfig, ServerConfig};
use crate::manager::BoxConnect;

/// A [`TransportFactory`](crate::manager::TransportFactory) for the `url`
/// entries of an `mcpServers` configuration: each becomes a
/// [`StreamableHttp`](super::StreamableHttp) connector on `rt`, with the
/// entry's `headers` on every request. A stdio entry is refused, naming the
/// server; [`manager::default_factory`](crate::manager::default_factory)
/// serves both kinds.
///
/// ```
/// use weir_mcp::config::McpServers;
/// use weir_mcp::manager::Manager;
///
/// let cfg = McpServers::from_json(
///     r#"{"mcpServers": {"docs": {"url": "http://127.0.0.1:8000/mcp", "headers": {"Authorization": "Bearer t"}}}}"#,
/// ).unwrap();
/// let factory = weir_mcp::http::factory(weir_smol::Smol);
/// let manager = Manager::from_config(&cfg, &factory, |_name, b| b, weir_smol::Smol).unwrap();
/// assert_eq!(manager.names().collect::<Vec<_>>(), ["docs"]);
/// ```
pub fn factory<R: NetRuntime>(
    rt: R,
) -> impl Fn(&str, &ServerConfig) -> Result<BoxConnect<R>, ConfigFileError> {
    move |name: &str, server: &ServerConfig| match server {
        ServerConfig::Http(config) => connector(name, config, rt.clone()),
        _ => Err(ConfigFileError::Server {
            server: name.to_owned(),
            error: ConfigError::new(
                "mcpServers",
                "url",
                Rule::Other("this factory connects to HTTP servers only"),
            ),
        }),
    }
}

/// One entry's connector; a header that HTTP cannot carry is refused here,
/// at configuration time, not on the first call.
pub(crate) fn connector<R: NetRuntime>(
    name: &str,
    config: &HttpConfig,
    rt: R,
) -> Result<BoxConnect<R>, ConfigFileError> {
    let refuse = |rule: &'static str| ConfigFileError::Server {
        server: name.to_owned(),
        error: ConfigError::new("mcpServers", "headers", Rule::Other(rule)),
    };
    let mut builder = StreamableHttpBuilder::new(config.url.clone());
    for (key, value) in &config.headers {
        let key = HeaderName::from_bytes(key.as_bytes())
            .map_err(|_| refuse("each name must be a valid HTTP header name"))?;
        let value = HeaderValue::from_str(value)
            .map_err(|_| refuse("each value must be visible ASCII (no control characters)"))?;
        builder = builder.header(key, value);
    }
    Ok(BoxConnect::new(builder.connector(rt)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(key: &str, value: &str) -> Option<String> {
        let mut config = HttpConfig::new("http://127.0.0.1:9/mcp");
        config.headers.insert(key.into(), value.into());
        connector("docs", &config, weir_smol::Smol)
            .err()
            .map(|e| e.to_string())
    }

    #[test]
    fn headers_http_cannot_carry_are_refused_naming_server_and_field() {
        let bad_name = refusal("bad name", "v").expect("a space in a header name");
        assert!(
            bad_name.contains("\"docs\"") && bad_name.contains("headers"),
            "{bad_name}"
        );
        let bad_value = refusal("Authorization", "a\nb").expect("a newline in a value");
        assert!(bad_value.contains("headers"), "{bad_value}");
        assert_eq!(refusal("Authorization", "Bearer t"), None);
    }

    #[test]
    fn a_stdio_entry_is_refused_by_the_http_factory() {
        let f = factory(weir_smol::Smol);
        let stdio = ServerConfig::Stdio(crate::config::StdioConfig {
            command: "true".into(),
            args: Vec::new(),
            env: Default::default(),
            cwd: None,
        });
        let Err(err) = f("time", &stdio) else {
            panic!("a stdio entry was accepted by the HTTP factory")
        };
        let err = err.to_string();
        assert!(err.contains("\"time\"") && err.contains("url"), "{err}");
    }
}
