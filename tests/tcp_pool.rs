//! The adapters' TCP managers: pooling sockets in three lines, reusing a
//! live connection and replacing one the peer closed, on every runtime.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;

/// A loopback server that accepts connections and, on request, closes the
/// one whose peer address it is told; answers once it has.
struct Server {
    addr: SocketAddr,
    close: mpsc::Sender<SocketAddr>,
    closed: mpsc::Receiver<()>,
}

fn server() -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (close, close_rx) = mpsc::channel::<SocketAddr>();
    let (closed_tx, closed) = mpsc::channel();
    let (conn_tx, conn_rx) = mpsc::channel::<TcpStream>();
    thread::spawn(move || {
        for s in listener.incoming() {
            if conn_tx.send(s.unwrap()).is_err() {
                return;
            }
        }
    });
    thread::spawn(move || {
        let mut open: Vec<TcpStream> = Vec::new();
        for peer in close_rx {
            // The client's connect may finish before our accept does: wait
            // for the connection to be in hand before closing it.
            while !open.iter().any(|s| s.peer_addr().unwrap() == peer) {
                open.push(conn_rx.recv().unwrap());
            }
            open.retain(|s| s.peer_addr().unwrap() != peer);
            // The close happened in the syscall above; on loopback the FIN
            // is in the client's receive queue when it returns.
            closed_tx.send(()).unwrap();
        }
    });
    Server {
        addr,
        close,
        closed,
    }
}

macro_rules! tcp_pool_test {
    ($name:ident, $feature:literal, $rt:expr, $manager:path, $block_on:path) => {
        #[cfg(feature = $feature)]
        #[test]
        fn $name() {
            use weir::ResourcePool;
            let server = server();
            $block_on(async {
                let pool = ResourcePool::builder(<$manager>::new(server.addr))
                    .max_size(4)
                    .build($rt)
                    .unwrap();
                let first = pool.get().await.unwrap();
                let a = first.local_addr().unwrap();
                drop(first);
                let again = pool.get().await.unwrap();
                assert_eq!(
                    again.local_addr().unwrap(),
                    a,
                    "an idle live connection is reused"
                );
                drop(again);
                assert_eq!(pool.stats().created, 1);

                server.close.send(a).unwrap();
                server.closed.recv().unwrap();
                let fresh = pool.get().await.unwrap();
                assert_ne!(
                    fresh.local_addr().unwrap(),
                    a,
                    "a closed connection is replaced"
                );
                let stats = pool.stats();
                assert_eq!(stats.created, 2);
                assert_eq!(stats.size, 1, "the dead one left the pool");
            });
        }
    };
}

tcp_pool_test!(
    smol,
    "smol",
    weir::Smol,
    weir::smol::TcpManager,
    smol::block_on
);
tcp_pool_test!(
    tokio,
    "tokio",
    weir::Tokio,
    weir::tokio::TcpManager,
    tokio_block_on
);
tcp_pool_test!(
    async_std,
    "async-std",
    weir::AsyncStd,
    weir::async_std::TcpManager,
    async_std::task::block_on
);

#[cfg(feature = "tokio")]
fn tokio_block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}
