#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_core::test_util::fuzz::queue_priority(data));
