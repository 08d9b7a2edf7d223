//! smol's TCP streams as weir's network I/O: they speak futures-io already.

use weir_core::io::NetRuntime;

use crate::{Smol, SmolTcp};

impl NetRuntime for Smol {
    type Tcp = SmolTcp;
}

#[cfg(test)]
mod tests {
    use futures_lite::{AsyncReadExt, AsyncWriteExt};
    use weir_core::pool::TcpConnector;

    use super::*;

    #[test]
    fn a_stream_from_the_runtime_carries_bytes_both_ways() {
        smol::block_on(async {
            let listener = smol::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap().to_string();
            let server = smol::spawn(async move {
                let (mut s, _) = listener.accept().await.unwrap();
                let mut buf = [0u8; 4];
                s.read_exact(&mut buf).await.unwrap();
                s.write_all(&buf).await.unwrap();
            });
            let mut c = <<Smol as NetRuntime>::Tcp as TcpConnector>::connect(&addr)
                .await
                .unwrap();
            c.write_all(b"ping").await.unwrap();
            let mut back = [0u8; 4];
            c.read_exact(&mut back).await.unwrap();
            assert_eq!(&back, b"ping");
            server.await;
        });
    }
}
