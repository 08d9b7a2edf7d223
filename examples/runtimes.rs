//! The same generic code on every runtime that is compiled in.
//!
//! ```text
//! cargo run --release --all-features --example runtimes
//! ```
//!
//! Fans out a few sleeping tasks, a blocking job and a panicking task through
//! `weir::Runtime`, and prints what each runtime reported. Without
//! `--all-features` only the default adapter (smol) runs.

use std::time::{Duration, Instant};

use weir::{Runtime, rt::JoinHandle};

/// Written once, generic over the executor.
async fn exercise<R: Runtime>(rt: R) -> String {
    let t0 = rt.now();
    let sleepers: Vec<_> = [30u64, 10, 20]
        .into_iter()
        .map(|ms| {
            let rt2 = rt.clone();
            rt.spawn(async move {
                rt2.sleep(Duration::from_millis(ms)).await;
                ms
            })
        })
        .collect();
    let mut slept = Vec::new();
    for s in sleepers {
        slept.push(s.await.expect("sleeper task"));
    }
    let caller = std::thread::current().id();
    let off_thread = rt
        .spawn_blocking(move || std::thread::current().id() != caller)
        .await
        .expect("blocking job");
    let panicked = rt.spawn(async { panic!("on purpose") }).await;
    let mut forever = rt.spawn(std::future::pending::<()>());
    forever.abort();
    let aborted = forever.await;
    format!(
        "sleeps {slept:?} ms done after {:?}; blocking job off the caller's thread: {}; \
         panicking task -> {}; aborted task -> {}",
        rt.now() - t0,
        off_thread,
        panicked.unwrap_err(),
        aborted.unwrap_err(),
    )
}

fn main() {
    // Keep the demonstration's own panic quiet; it is reported as a JoinError.
    std::panic::set_hook(Box::new(|_| {}));
    let started = Instant::now();

    #[cfg(feature = "smol")]
    println!("smol:      {}", smol::block_on(exercise(weir::Smol)));

    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("tokio runtime");
        println!("tokio:     {}", rt.block_on(exercise(weir::Tokio)));
    }

    #[cfg(feature = "async-std")]
    println!(
        "async-std: {}",
        async_std::task::block_on(exercise(weir::AsyncStd))
    );

    let virt = weir::test_util::VirtualRuntime::new();
    let real = Instant::now();
    let report = virt.block_on(exercise(virt.clone()));
    println!("virtual:   {report} (real time {:?})", real.elapsed());
    println!("total real time {:?}", started.elapsed());
}
