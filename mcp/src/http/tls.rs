//! TLS for `https://` origins: rustls over the runtime's TCP stream.

use std::fmt;
use std::sync::Arc;

use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use futures_rustls::rustls::pki_types::ServerName;
use futures_rustls::rustls::{ClientConfig, RootCertStore};
use weir_core::io::{AsyncRead, AsyncWrite};

use super::HttpError;

/// The TLS side of every `https` connection a client opens.
#[derive(Clone)]
pub(crate) struct Tls(TlsConnector);

impl Tls {
    /// `config`, or the webpki roots with ring and the safe default versions.
    pub(crate) fn new(config: Option<Arc<ClientConfig>>) -> Self {
        let config = config.unwrap_or_else(|| {
            let roots = RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
            let mut config = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("ring supports the default protocol versions")
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Arc::new(config)
        });
        Tls(TlsConnector::from(config))
    }

    pub(crate) async fn connect<S: AsyncRead + AsyncWrite + Unpin>(
        &self,
        host: &str,
        tcp: S,
    ) -> Result<TlsStream<S>, HttpError> {
        let name = ServerName::try_from(host.to_owned())
            .map_err(|_| HttpError::InvalidUrl(host.to_owned()))?;
        self.0.connect(name, tcp).await.map_err(HttpError::Connect)
    }
}

impl fmt::Debug for Tls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Tls")
    }
}
