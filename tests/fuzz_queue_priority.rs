//! Replays the committed corpus of the `queue_priority` fuzz target.

mod common;

#[test]
fn corpus_replays() {
    let n = common::replay_corpus("queue_priority", weir::test_util::fuzz::queue_priority);
    assert!(n >= 5, "only {n} inputs");
}
