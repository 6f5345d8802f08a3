//! The KRM Functions Specification (`config.kubernetes.io/v1` ResourceList) in Rust.
//!
//! A function is a processor over a [`ResourceList`]: [`run`] owns reading stdin,
//! writing stdout, results and the exit code, so a function's `main` is a few lines.
//! Items are kept losslessly (unknown fields, key order, kpt's annotations); objects
//! a function generates are marked as its own by [`Generator`], which replaces them
//! on every run and prunes what no spec produces any more.
//!
//! This crate knows nothing of any particular function or vendor: Lummo conventions
//! live in `lummo-core`.
//!
//! ```no_run
//! use krm_sdk::{run, FunctionInfo, ResourceList, ResultItem};
//!
//! const INFO: FunctionInfo = FunctionInfo {
//!     name: "noop", version: "0.1.0", about: "Reports how many items it saw.", config: || "none".into(),
//! };
//!
//! fn main() -> std::process::ExitCode {
//!     run(&INFO, |list: &mut ResourceList| {
//!         let message = format!("{} items", list.items.len());
//!         list.results.push(ResultItem::info(message));
//!     })
//! }
//! ```

pub mod decode;
pub mod edit;
pub mod generate;
pub mod locate;
pub mod object;
pub mod openapi;
pub mod parallel;
pub mod resource_list;
pub mod result;
pub mod run;
#[cfg(feature = "testing")]
pub mod testing;
pub mod yaml;

pub use decode::{from_value, function_config, DecodeError};
pub use generate::{Generated, Generator};
pub use object::{annotations, FileRef, ObjectExt, ResourceRef};
pub use resource_list::{
    Format, GivenBack, HeldComment, Item, ItemText, NodeStep, Passage, ResourceList,
    RunnerAnnotations,
};
pub use result::{ResultItem, Severity};
pub use run::{process_text, run, FunctionInfo, Outcome};
pub use serde_json::{json, Map, Value};
