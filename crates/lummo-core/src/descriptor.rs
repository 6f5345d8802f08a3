//! A Lummo function as the programs that run or document every function see it:
//! its info, the kinds it reads with their schemas, its transform. Each is
//! `Function::DESCRIPTOR` of a function's type; lummo-validate lists them once
//! (`lummo_validate::DESCRIPTORS`), and the CLI, schema and documentation
//! generation, `lummo_core::KINDS`, tests and fuzzing iterate that list instead of
//! naming functions or kinds themselves.

use krm_sdk::generate::Hashes;
use krm_sdk::{FunctionInfo, ResourceList, Value};
use schemars::generate::SchemaSettings;
use schemars::JsonSchema;

/// A kind a function reads.
pub struct KindDoc {
    pub kind: &'static str,
    /// One line for the reference documentation.
    pub about: &'static str,
    /// A file under Kptfile.examples holding an example of the kind.
    pub example: Option<&'static str>,
    /// The JSON Schema of the kind's `spec` (or of the config's keys).
    pub schema: fn() -> Value,
    /// Whether the kind is the function's functionConfig rather than a spec.
    pub function_config: bool,
}

/// A Lummo function.
pub struct Descriptor {
    pub info: &'static FunctionInfo,
    pub kinds: &'static [KindDoc],
    pub process: fn(&mut ResourceList),
    /// `process`, with or without the content hash of generated objects.
    pub generate: fn(&mut ResourceList, Hashes),
    /// `process`, returning where the generated objects' fields come from
    /// (`crate::origins`).
    pub record: fn(&mut ResourceList) -> Vec<crate::origins::ObjectOrigins>,
    pub role: crate::function::Role,
    /// The functionConfig lummo-validate gives it (see `FunctionConfig::stand_in`).
    pub stand_in_config: fn() -> Option<Value>,
}

impl Descriptor {
    pub fn name(&self) -> &'static str {
        self.info.name
    }

    /// Whether the function reads `kind` as a spec.
    pub fn reads(&self, kind: &str) -> bool {
        self.kinds
            .iter()
            .any(|k| k.kind == kind && !k.function_config)
    }
}

/// The JSON Schema (draft 2020-12) of a Rust type, from its schemars derive.
pub fn schema_of<T: JsonSchema>() -> Value {
    SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<T>()
        .to_value()
}
