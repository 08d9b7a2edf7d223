//! Replays the committed `breaker` fuzz corpus through the model check.

mod common;

#[test]
fn breaker_corpus_replays() {
    let n = common::replay_corpus("breaker", weir::test_util::fuzz::breaker);
    assert!(n >= 5);
}
