//! `https://` through rustls (feature `rustls`) against a loopback TLS
//! server with a self-signed certificate, on every runtime: trusted when
//! its certificate is a configured root, refused with the default roots.

#![cfg(feature = "rustls")]

mod http_support;

use std::sync::Arc;

use bytes::Bytes;
use futures_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use futures_rustls::rustls::{ClientConfig, RootCertStore, ServerConfig};
use http::{Response, StatusCode};
use http_body_util::Full;
use weir_core::io::NetRuntime;
use weir_mcp::http::{HttpClientBuilder, HttpError};

struct TlsServer {
    url: String,
    cert: CertificateDer<'static>,
}

/// A TLS HTTP/1.1 server on 127.0.0.1 answering every request with `{"tls":true}`.
fn start() -> TlsServer {
    let generated = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).unwrap();
    let cert = CertificateDer::from(generated.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(generated.key_pair.serialize_der()));
    let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.clone()], key)
        .unwrap();
    let acceptor = futures_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("https://{}/mcp", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let ex = Arc::new(smol::Executor::new());
        let listener = smol::Async::new(listener).unwrap();
        smol::block_on(ex.run(async {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let acceptor = acceptor.clone();
                ex.spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let service = hyper::service::service_fn(|_req| async {
                        Ok::<_, std::convert::Infallible>(
                            Response::builder()
                                .status(StatusCode::OK)
                                .header("content-type", "application/json")
                                .body(Full::new(Bytes::from_static(b"{\"tls\":true}")))
                                .unwrap(),
                        )
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(http_support::Io(tls), service)
                        .await;
                })
                .detach();
            }
        }));
    });
    TlsServer { url, cert }
}

async fn https_with_a_trusted_root<R: NetRuntime>(rt: R) {
    let server = start();
    let mut roots = RootCertStore::empty();
    roots.add(server.cert.clone()).unwrap();
    let provider = Arc::new(futures_rustls::rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let client = HttpClientBuilder::new()
        .tls_config(Arc::new(config))
        .build(rt)
        .unwrap();
    let req = http::Request::post(&server.url)
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    let reply = client.send(req).await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert_eq!(
        &client.read_to_end(reply.into_body()).await.unwrap()[..],
        b"{\"tls\":true}"
    );
}

async fn an_untrusted_certificate_is_refused<R: NetRuntime>(rt: R) {
    let server = start();
    // The default roots (webpki) do not include a self-signed certificate.
    let client = HttpClientBuilder::new().build(rt).unwrap();
    let req = http::Request::post(&server.url)
        .body(Bytes::from_static(b"{}"))
        .unwrap();
    match client.send(req).await {
        Err(HttpError::Connect(e)) => assert!(e.to_string().contains("certificate"), "{e}"),
        other => panic!("expected a refused certificate, got {other:?}"),
    }
}

on_every_net_runtime!(
    https_with_a_trusted_root,
    an_untrusted_certificate_is_refused
);
