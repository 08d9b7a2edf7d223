//! One origin's HTTP/1.1 connections, made and checked for weir's
//! `ResourcePool`.

use bytes::Bytes;
use http_body_util::Full;
use hyper::client::conn::http1::{self, SendRequest};
use weir_core::io::NetRuntime;
use weir_core::pool::{Manager, TcpConnector};
use weir_core::rt::JoinHandle;

use super::HttpError;
use super::io::{FuturesIo, Wire};
use super::origin::Origin;
#[cfg(feature = "rustls")]
use super::tls::Tls;

/// The request body every MCP POST carries: one JSON message.
pub(crate) type ReqBody = Full<Bytes>;

/// Opens connections to one origin: TCP from the runtime's connector, TLS
/// for `https`, then hyper's HTTP/1.1 handshake. The connection's driver
/// runs as a task on the runtime, so hyper never needs an executor of its
/// own.
pub(crate) struct OriginManager<R> {
    pub(crate) rt: R,
    pub(crate) origin: Origin,
    #[cfg(feature = "rustls")]
    pub(crate) tls: Tls,
}

impl<R: NetRuntime> Manager for OriginManager<R> {
    type Resource = SendRequest<ReqBody>;
    type Error = HttpError;

    async fn create(&self) -> Result<SendRequest<ReqBody>, HttpError> {
        let tcp = R::Tcp::connect(&self.origin.socket_addr())
            .await
            .map_err(HttpError::Connect)?;
        R::Tcp::set_nodelay(&tcp, true).map_err(HttpError::Connect)?;
        let wire = if self.origin.tls {
            #[cfg(feature = "rustls")]
            {
                Wire::Tls(Box::new(self.tls.connect(&self.origin.host, tcp).await?))
            }
            #[cfg(not(feature = "rustls"))]
            {
                drop(tcp);
                return Err(HttpError::TlsUnavailable);
            }
        } else {
            Wire::Plain(tcp)
        };
        let (sender, driver) = http1::handshake(FuturesIo(wire))
            .await
            .map_err(HttpError::Http)?;
        // The driver ends when the connection closes (peer gone, or every
        // handle to it dropped); its error surfaces through the requests.
        self.rt
            .spawn(async move {
                let _ = driver.await;
            })
            .detach();
        Ok(sender)
    }

    async fn recycle(&self, sender: &mut SendRequest<ReqBody>) -> Result<(), HttpError> {
        // A connection whose last response was read to the end is ready at
        // once; one the server closed reports it here instead of failing the
        // next request.
        sender.ready().await.map_err(HttpError::Http)
    }
}
