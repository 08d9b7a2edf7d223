#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| weir_core::limit::rate::fuzz::rate_gcra(data));
