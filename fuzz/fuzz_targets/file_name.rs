#![no_main]
//! See `studyhall_tests::fuzzing::file_name` for what is checked.
libfuzzer_sys::fuzz_target!(|data: &[u8]| studyhall_tests::fuzzing::file_name(data));
