//! The same layers over a service that is not tokio's: a `service_fn`
//! doing TCP round trips through async-io, on smol, with weir's `Smol`
//! runtime for the layers' timers.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use smol::io::{AsyncReadExt, AsyncWriteExt};
use smol::net::{TcpListener, TcpStream};
use tower::{Service, ServiceBuilder, ServiceExt};
use weir_core::Bulkhead;
use weir_core::{CircuitBreaker, Retry};
use weir_core::{Error, Policy};
use weir_smol::Smol;
use weir_tower::{BreakerLayer, BulkheadLayer, PolicyLayer};

/// An echo server on 127.0.0.1: each connection gets its bytes back.
async fn echo_server() -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    smol::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            smol::spawn(async move {
                let mut buf = [0u8; 64];
                let n = stream.read(&mut buf).await.unwrap();
                stream.write_all(&buf[..n]).await.unwrap();
            })
            .detach();
        }
    })
    .detach();
    addr
}

/// One round trip: sends `msg`, returns what came back.
async fn round_trip(addr: SocketAddr, msg: String) -> io::Result<String> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(msg.as_bytes()).await?;
    let mut buf = vec![0u8; msg.len()];
    stream.read_exact(&mut buf).await?;
    Ok(String::from_utf8(buf).unwrap())
}

#[test]
fn policy_retries_an_async_io_service_on_smol() {
    smol::block_on(async {
        let addr = echo_server().await;
        let calls = Arc::new(AtomicU32::new(0));
        let count = calls.clone();
        let service = tower::service_fn(move |msg: String| {
            let n = count.fetch_add(1, Ordering::SeqCst);
            async move {
                if n < 2 {
                    return Err(io::Error::other("flaky"));
                }
                round_trip(addr, msg).await
            }
        });
        let retry = Retry::constant(Duration::from_millis(5))
            .max_attempts(3)
            .build()
            .unwrap();
        let policy = Policy::new(Smol)
            .timeout(Duration::from_secs(30))
            .retry(retry);
        let mut svc = ServiceBuilder::new()
            .layer(PolicyLayer::new(policy))
            .service(service);

        let reply = svc.ready().await.unwrap().call("ping".to_string()).await;
        assert_eq!(reply.unwrap(), "ping");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    });
}

#[test]
fn breaker_fails_fast_over_an_async_io_service_on_smol() {
    smol::block_on(async {
        let addr = echo_server().await;
        let calls = Arc::new(AtomicU32::new(0));
        let count = calls.clone();
        // The backend answers, but the answer says it is unwell.
        let service = tower::service_fn(move |msg: String| {
            count.fetch_add(1, Ordering::SeqCst);
            async move {
                let echoed = round_trip(addr, msg).await?;
                Err::<String, _>(io::Error::other(format!("unwell: {echoed}")))
            }
        });
        let breaker = CircuitBreaker::builder()
            .consecutive_failures(2)
            .open_for(Duration::from_secs(60))
            .build(Smol)
            .unwrap();
        let mut svc = ServiceBuilder::new()
            .layer(BreakerLayer::new(Smol, breaker))
            .service(service);

        for _ in 0..2 {
            let out = svc.ready().await.unwrap().call("x".to_string()).await;
            assert!(
                matches!(out, Err(Error::Inner(ref e)) if e.to_string() == "unwell: x"),
                "{out:?}"
            );
        }
        let out = svc.ready().await.unwrap().call("x".to_string()).await;
        assert!(matches!(out, Err(Error::CircuitOpen { .. })), "{out:?}");
        assert_eq!(
            calls.load(Ordering::SeqCst),
            2,
            "the open breaker kept the call home"
        );
    });
}

#[test]
fn bulkhead_bounds_an_async_io_service_on_smol() {
    smol::block_on(async {
        let addr = echo_server().await;
        let (entered_tx, entered_rx) = smol::channel::unbounded::<()>();
        let (gate_tx, gate_rx) = smol::channel::unbounded::<()>();
        let in_flight = Arc::new(AtomicU32::new(0));
        let max_in_flight = Arc::new(AtomicU32::new(0));
        let service = {
            let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
            tower::service_fn(move |msg: String| {
                let (in_flight, max_in_flight) = (in_flight.clone(), max_in_flight.clone());
                let (entered_tx, gate_rx) = (entered_tx.clone(), gate_rx.clone());
                async move {
                    let now = in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                    max_in_flight.fetch_max(now, Ordering::SeqCst);
                    entered_tx.send(()).await.unwrap();
                    gate_rx.recv().await.unwrap();
                    let echoed = round_trip(addr, msg).await;
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    echoed
                }
            })
        };
        let bulkhead = Bulkhead::builder()
            .max_concurrent(2)
            .queue_capacity(8)
            .build(Smol)
            .unwrap();
        let layer = BulkheadLayer::new(bulkhead);
        let svc = ServiceBuilder::new().layer(layer.clone()).service(service);

        let calls: Vec<_> = (0..5)
            .map(|i| {
                let mut svc = svc.clone();
                smol::spawn(async move { svc.ready().await.unwrap().call(format!("m{i}")).await })
            })
            .collect();
        // Two calls get in; the other three wait in poll_ready.
        entered_rx.recv().await.unwrap();
        entered_rx.recv().await.unwrap();
        assert_eq!(layer.bulkhead().stats().in_flight, 2);
        for _ in 0..5 {
            gate_tx.send(()).await.unwrap();
        }
        for (i, call) in calls.into_iter().enumerate() {
            assert_eq!(call.await.unwrap(), format!("m{i}"));
        }
        assert_eq!(max_in_flight.load(Ordering::SeqCst), 2);
        assert_eq!(layer.bulkhead().stats().in_flight, 0);
    });
}
