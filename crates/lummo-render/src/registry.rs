//! The Lummo functions this binary runs in process: the one list is
//! `lummo_validate::FUNCTIONS`; this module only looks names up in it.

use krm_sdk::ResourceList;

/// The version of the Lummo functions built into this binary, as images are tagged.
pub const BUILT_IN_VERSION: &str = concat!("v", env!("CARGO_PKG_VERSION"));

/// A function the CLI runs in-process.
#[derive(Clone, Copy)]
pub struct Function {
    pub name: &'static str,
    pub process: fn(&mut ResourceList),
    /// `process`, returning where the generated fields come from.
    pub record: fn(&mut ResourceList) -> Vec<lummo_core::origins::ObjectOrigins>,
    /// A `Validator` only reads the list's items.
    pub role: lummo_core::function::Role,
}

/// The function of that name, from the one list of every Lummo function.
pub fn function(name: &str) -> Option<Function> {
    lummo_validate::DESCRIPTORS
        .iter()
        .find(|d| d.name() == name)
        .map(|d| Function {
            name: d.name(),
            process: d.process,
            record: d.record,
            role: d.role,
        })
}

/// Every function's name, for messages.
pub fn function_names() -> String {
    lummo_validate::FUNCTIONS.map(|(name, _)| name).join(", ")
}

/// The function that reads a Lummo kind.
pub fn function_of_kind(kind: &str) -> Option<&'static str> {
    lummo_validate::function_of_kind(kind)
}
