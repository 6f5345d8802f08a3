//! `testdata/<case>/`: the function's output, with every generated entity valid
//! against Backstage's own JSON Schemas and name rules.

mod common;

use krm_sdk::ObjectExt;
use lummo_backstage::Backstage;
use lummo_core::function::Function;

#[test]
fn golden() {
    let schemas = common::Schemas::load();
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata");
    krm_sdk::testing::check_golden_dir(
        &dir,
        Backstage::NAME,
        lummo_core::function::process::<Backstage>,
        |item| {
            if !Backstage::GENERATOR.owns(item) {
                return Vec::new();
            }
            let mut problems = schemas.problems(item);
            if !item.is_local_config() {
                problems.push("a Backstage entity must be local-config".into());
            }
            problems
        },
    );
}
