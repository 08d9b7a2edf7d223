//! Replays the committed corpus of the `semaphore` fuzz target through the
//! same model check, so every `cargo test` runs it on stable.

mod common;

#[test]
fn semaphore_corpus_replays() {
    let n = common::replay_corpus("semaphore", weir::test_util::fuzz::semaphore);
    assert!(n >= 4, "expected the seed corpus, found {n} inputs");
}
