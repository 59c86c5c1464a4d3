#![no_main]
//! See `studyhall_tests::fuzzing::client_frame` for what is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| studyhall_tests::fuzzing::client_frame(data));
