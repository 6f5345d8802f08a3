//! The benchmarks' floor: stdin parsed into a `serde_json::Value` and written back,
//! with nothing else (no ResourceList checks, no results).
use std::io::{Read, Write};

fn main() {
    let mut input = String::new();
    std::io::stdin()
        .read_to_string(&mut input)
        .expect("stdin is readable UTF-8");
    let value: serde_json::Value = serde_json::from_str(&input).expect("stdin is JSON");
    let output = serde_json::to_string(&value).expect("values serialize");
    std::io::stdout()
        .write_all(output.as_bytes())
        .expect("stdout is writable");
}
