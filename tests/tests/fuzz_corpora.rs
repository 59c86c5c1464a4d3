//! Every input the fuzzers kept (`fuzz/corpus/<target>/`, committed) is run again through
//! the same checks (`studyhall_tests::fuzzing`), so a crash once fixed stays fixed and
//! CI covers what fuzzing found without running a fuzzer.

use std::path::Path;

#[test]
fn every_committed_fuzz_input_passes_its_check_again() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let mut total = 0;
    for (name, check) in studyhall_tests::fuzzing::TARGETS {
        let dir = root.join(name);
        let entries = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("no corpus for {name} at {}: {e}", dir.display()));
        let mut count = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let run = std::panic::catch_unwind(|| check(&data));
            assert!(run.is_ok(), "{name}: {} fails its check", path.display());
            count += 1;
        }
        assert!(count > 0, "the {name} corpus is empty");
        total += count;
    }
    println!("{total} fuzz inputs replayed");
}
