//! Replays the committed corpus of the `queue_bounded` fuzz target.

mod common;

#[test]
fn corpus_replays() {
    let n = common::replay_corpus("queue_bounded", weir::test_util::fuzz::queue_bounded);
    assert!(n >= 5, "only {n} inputs");
}
