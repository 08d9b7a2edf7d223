#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_core::queue::fuzz::queue_bounded(data));
