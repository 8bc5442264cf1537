//! The JS package's tables, generated from the Rust core so they are never typed twice:
//! `pkg-js/src/tables.js` (each error code's type, the option names every options object
//! accepts, `ChunkMode`) and the `ErrorCode` union in `pkg-js/index.d.ts`. This test fails when
//! either is out of date; `NOVUSPACK_WRITE_TABLES=1 cargo test --test js_tables` rewrites them.
#![cfg(not(target_arch = "wasm32"))]

use std::fmt::Write;
use std::path::PathBuf;

use novuspack_stream::core::config::{
    BUFFER_OPTIONS, ENTRY_OPTIONS, HTTP_OPTIONS, PACKAGE_FILE_FIELDS, PACKAGE_OPTIONS, POOL_OPTIONS,
    POOL_STREAM_OPTIONS, SEAL_OPTIONS, SERVE_RANGE_OPTIONS, STREAMING_OPTIONS, STREAM_OPTIONS, UNSEAL_OPTIONS,
    WRITE_PACKAGE_OPTIONS,
};
use novuspack_stream::{ChunkMode, ErrorCode};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tables_js() -> String {
    let mut s = String::new();
    s.push_str(
        "// GENERATED from the Rust core (src/core/error.rs, src/core/config.rs) by tests/js_tables.rs: do not\n\
         // edit. `NOVUSPACK_WRITE_TABLES=1 cargo test --test js_tables` rewrites it; `cargo test` checks it.\n\n",
    );
    s.push_str(
        "/** The type (NovusPack category) of every error code. */\nexport const ERROR_TYPES = Object.freeze({\n",
    );
    for code in ErrorCode::ALL {
        writeln!(s, "  {}: '{}',", code.as_str(), code.error_type().as_str()).unwrap();
    }
    s.push_str("});\n\n/** The option names each options object accepts (any other name is refused). */\n");
    s.push_str("export const OPTION_NAMES = Object.freeze({\n");
    for (name, lists) in [
        ("stream", vec![STREAM_OPTIONS]),
        ("poolStream", vec![STREAM_OPTIONS, POOL_STREAM_OPTIONS]),
        ("seal", vec![SEAL_OPTIONS]),
        ("unseal", vec![UNSEAL_OPTIONS]),
        ("buffer", vec![BUFFER_OPTIONS]),
        ("streaming", vec![STREAMING_OPTIONS]),
        ("pool", vec![STREAMING_OPTIONS, POOL_OPTIONS]),
        ("job", vec![SEAL_OPTIONS, STREAM_OPTIONS]),
        ("http", vec![HTTP_OPTIONS]),
        ("serveRange", vec![STREAM_OPTIONS, SERVE_RANGE_OPTIONS]),
        ("package", vec![PACKAGE_OPTIONS]),
        ("entry", vec![ENTRY_OPTIONS]),
        ("writePackage", vec![WRITE_PACKAGE_OPTIONS]),
        ("packageFile", vec![PACKAGE_FILE_FIELDS]),
    ] {
        let mut names: Vec<String> = Vec::new();
        for n in lists.iter().flat_map(|l| l.iter()) {
            let quoted = format!("'{n}'");
            if !names.contains(&quoted) {
                names.push(quoted);
            }
        }
        writeln!(s, "  {name}: Object.freeze([{}]),", names.join(", ")).unwrap();
    }
    s.push_str("});\n\n/** How a stream's chunks are processed by a worker pool. */\nexport const ChunkMode = Object.freeze({ ");
    let modes: Vec<String> = ChunkMode::ALL.iter().map(|(m, n)| format!("{n}: {}", *m as u8)).collect();
    s.push_str(&modes.join(", "));
    s.push_str(" });\n");
    s
}

const BEGIN: &str = "export type ErrorCode =\n";
const END: &str = ";\n";

fn typings(current: &str) -> String {
    let start = current.find(BEGIN).expect("index.d.ts declares ErrorCode") + BEGIN.len();
    let end = start + current[start..].find(END).expect("the ErrorCode union ends");
    let mut union = String::new();
    for (i, code) in ErrorCode::ALL.iter().enumerate() {
        if i > 0 {
            union.push('\n');
        }
        write!(union, "  | '{}'", code.as_str()).unwrap();
    }
    format!("{}{}{}", &current[..start], union, &current[end..])
}

#[test]
fn generated_js_tables_are_current() {
    let write = std::env::var_os("NOVUSPACK_WRITE_TABLES").is_some();
    let tables = root().join("pkg-js/src/tables.js");
    let dts = root().join("pkg-js/index.d.ts");
    let current_dts = std::fs::read_to_string(&dts).unwrap();
    let expected = [(tables.clone(), tables_js()), (dts.clone(), typings(&current_dts))];
    for (path, want) in expected {
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        if have == want {
            continue;
        }
        if write {
            std::fs::write(&path, want).unwrap();
        } else {
            panic!("{} is out of date: run NOVUSPACK_WRITE_TABLES=1 cargo test --test js_tables", path.display());
        }
    }
}
