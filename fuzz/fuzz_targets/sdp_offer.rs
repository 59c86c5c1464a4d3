#![no_main]
//! See `studyhall_tests::fuzzing::sdp_offer` for what is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| studyhall_tests::fuzzing::sdp_offer(data));
