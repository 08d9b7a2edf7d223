//! Where a request goes: the origin a connection pool is kept for, and the
//! request target on it.

use http::Uri;

use super::HttpError;

/// `scheme://host:port`: connections are shared by requests to one origin.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Origin {
    pub(crate) tls: bool,
    pub(crate) host: String,
    pub(crate) port: u16,
}

impl Origin {
    /// The origin of `uri` and its origin-form target (`/path?query`).
    pub(crate) fn split(uri: &Uri) -> Result<(Origin, String), HttpError> {
        let invalid = || HttpError::InvalidUrl(uri.to_string());
        let tls = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(invalid()),
        };
        let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(invalid)?;
        let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let target = uri.path_and_query().map_or("/", |p| p.as_str());
        let target = if target.is_empty() { "/" } else { target };
        Ok((
            Origin {
                tls,
                host: host
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .to_owned(),
                port,
            },
            target.to_owned(),
        ))
    }

    /// What `connect` takes: `host:port` (IPv6 hosts in brackets).
    pub(crate) fn socket_addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    /// The `Host` header: the port only when it is not the scheme's default.
    pub(crate) fn host_header(&self) -> String {
        let default = if self.tls { 443 } else { 80 };
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        if self.port == default {
            host
        } else {
            format!("{host}:{}", self.port)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(s: &str) -> Result<(Origin, String), HttpError> {
        Origin::split(&s.parse().unwrap())
    }

    #[test]
    fn origin_and_target_come_apart() {
        let (o, t) = split("http://127.0.0.1:8080/mcp?x=1").unwrap();
        assert_eq!(
            (o.tls, o.host.as_str(), o.port, t.as_str()),
            (false, "127.0.0.1", 8080, "/mcp?x=1")
        );
        assert_eq!(o.socket_addr(), "127.0.0.1:8080");
        assert_eq!(o.host_header(), "127.0.0.1:8080");
    }

    #[test]
    fn default_ports_and_paths() {
        let (o, t) = split("https://example.com").unwrap();
        assert_eq!((o.tls, o.port, t.as_str()), (true, 443, "/"));
        assert_eq!(o.host_header(), "example.com");
        let (o, _) = split("http://[::1]:9/").unwrap();
        assert_eq!(
            (o.socket_addr().as_str(), o.host_header().as_str()),
            ("[::1]:9", "[::1]:9")
        );
    }

    #[test]
    fn other_schemes_are_refused() {
        assert!(matches!(
            split("ftp://example.com/"),
            Err(HttpError::InvalidUrl(_))
        ));
        assert!(matches!(split("/relative"), Err(HttpError::InvalidUrl(_))));
    }
}
