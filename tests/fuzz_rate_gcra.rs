//! Replays the committed corpus of the `rate_gcra` fuzz target: the GCRA
//! against an exact integer token bucket.

mod common;

#[test]
fn rate_gcra_corpus_replays() {
    let n = common::replay_corpus("rate_gcra", weir::test_util::fuzz::rate_gcra);
    assert!(n >= 4);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Random inputs on stable, for when cargo-fuzz is not at hand.
    #[test]
    fn rate_gcra_random_inputs(data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
        weir::test_util::fuzz::rate_gcra(&data);
    }
}
