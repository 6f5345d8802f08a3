//! The parts of the `lummo` CLI other crates reuse (the Backstage template
//! scaffolds exactly what `lummo init` writes).

pub mod backstage;
pub mod diff;
pub mod explain;
pub mod function_config;
pub mod init;
