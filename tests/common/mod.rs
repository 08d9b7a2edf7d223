//! The cross-runtime harness: one async test body, every runtime.
//!
//! A test is written once as `async fn name<R: Runtime>(rt: R)` and listed in
//! [`on_every_runtime!`], which makes a module `name` holding one `#[test]`
//! per runtime: smol, tokio current-thread, tokio multi-thread, async-std
//! (each only when its feature is on) and the virtual-time runtime.

#![allow(dead_code)]

use std::future::Future;

pub fn smol<F: Future>(f: F) -> F::Output {
    smol::block_on(f)
}

pub fn tokio_current<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio current-thread runtime")
        .block_on(f)
}

pub fn tokio_multi<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio multi-thread runtime")
        .block_on(f)
}

pub fn async_std<F: Future>(f: F) -> F::Output {
    async_std::task::block_on(f)
}

pub fn virtual_time<F, Fut>(f: F) -> Fut::Output
where
    F: FnOnce(weir::test_util::VirtualRuntime) -> Fut,
    Fut: Future,
{
    let rt = weir::test_util::VirtualRuntime::new();
    rt.block_on(f(rt.clone()))
}

/// Instantiates each listed `async fn name<R: Runtime>(rt: R)` on every
/// runtime.
#[macro_export]
macro_rules! on_every_runtime {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[cfg(feature = "smol")]
            #[test]
            fn smol() {
                $crate::common::smol(super::$name(weir::Smol))
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn tokio_current_thread() {
                $crate::common::tokio_current(super::$name(weir::Tokio))
            }

            #[cfg(feature = "tokio")]
            #[test]
            fn tokio_multi_thread() {
                $crate::common::tokio_multi(super::$name(weir::Tokio))
            }

            #[cfg(feature = "async-std")]
            #[test]
            fn async_std() {
                $crate::common::async_std(super::$name(weir::AsyncStd))
            }

            #[test]
            fn virtual_time() {
                $crate::common::virtual_time(super::$name)
            }
        }
    )+};
}

/// Replays every input of the committed fuzz corpus `fuzz/corpus/<target>`
/// through `check`, the same model check the fuzz target runs; returns how
/// many inputs ran. A panic names the input that failed.
pub fn replay_corpus(target: &str, check: impl Fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("corpus {}: {e}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .collect();
    inputs.sort();
    for path in &inputs {
        let data = std::fs::read(path).expect("corpus input");
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&data)));
        if let Err(p) = result {
            eprintln!("fuzz corpus input {} failed", path.display());
            std::panic::resume_unwind(p);
        }
    }
    assert!(!inputs.is_empty(), "corpus {} is empty", dir.display());
    inputs.len()
}
