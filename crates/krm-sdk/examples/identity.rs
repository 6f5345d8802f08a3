//! The smallest KRM function: returns its input unchanged. CI runs it through kpt
//! and the benchmarks use it to measure the SDK's own cost.
use krm_sdk::{run, FunctionInfo};

const INFO: FunctionInfo = FunctionInfo {
    name: "identity",
    version: env!("CARGO_PKG_VERSION"),
    about: "Returns the ResourceList unchanged.",
    config: || "    None.".to_string(),
};

fn main() -> std::process::ExitCode {
    run(&INFO, |_list| {})
}
