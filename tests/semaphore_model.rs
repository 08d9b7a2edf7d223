//! The semaphore against a sequential model: random sequences of acquire
//! (polled by hand), try_acquire, release, cancel, add, forget and close,
//! in fair and barging mode, with and without spinning. The model predicts
//! every future's outcome, every owed wake-up and the free permits exactly
//! (see `weir::test_util::fuzz::semaphore`, shared with the fuzz target).

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn semaphore_matches_model(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        weir::test_util::fuzz::semaphore(&data);
    }
}

/// Hand-picked sequences that pin down the rules named in the docs.
#[test]
fn fair_head_waiter_is_not_overtaken_and_partial_grant_passes_on() {
    // cfg 0b0000_1100: fair, no spin, 3 permits. try_acquire() holds one;
    // acquire_many(3) waits with 2 granted; acquire() queues behind it;
    // cancel the first: its permits go to the second.
    let ops = [12u8, 4, 1, 0, 3, 0, 1, 3, 0, 2, 1];
    weir::test_util::fuzz::semaphore(&ops);
}

#[test]
fn request_above_the_total_fails_and_forgetting_fails_the_waiter_over_it() {
    // cfg 0b0000_1000: fair, no spin, 2 permits. try_acquire() holds one;
    // acquire_many(3) fails at once (3 > 2 in all); acquire_many(2) waits with 1
    // granted; forgetting the held permit leaves 1 in all, so that waiter
    // fails and its partial grant is free again.
    let ops = [8u8, 4, 1, 0, 3, 0, 2, 7, 1];
    weir::test_util::fuzz::semaphore(&ops);
}

#[test]
fn model_check_detects_nothing_on_empty_input() {
    weir::test_util::fuzz::semaphore(&[]);
}
