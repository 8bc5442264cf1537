//! The sequential sealed reader on arbitrary bytes fed in arbitrary pieces: it must return
//! typed errors, never panic, and never release more than a chunk per call.
#![no_main]

use libfuzzer_sys::fuzz_target;
use novuspack_stream::{Key, Opener};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else { return };
    let key = (mode & 1 == 1).then(|| Key::from([0x42; 32]));
    let step = 1 + usize::from(mode >> 1) * 37;
    let mut opener = Opener::new(key);
    let mut out = Vec::new();
    let mut pos = 0;
    while pos < rest.len() {
        let before = out.len();
        let end = (pos + step).min(rest.len());
        match opener.update(&rest[pos..end], &mut out) {
            Ok(p) => {
                assert!(out.len() - before <= 64 << 20, "one chunk at most per call");
                if p.consumed == 0 && p.produced == 0 {
                    break;
                }
                pos += p.consumed;
            }
            Err(_) => return,
        }
    }
    let _ = opener.finish();
});
