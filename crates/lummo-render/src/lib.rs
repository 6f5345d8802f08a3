//! Rendering a kpt package in process, as `kpt fn render` (kpt v1.0.0-beta.56) does:
//! the library under `lummo render`, `lummo validate` and `lummo catalog`.
//!
//! The rules follow kpt's `internal/util/render/executor.go` and `internal/pkg`,
//! and are proven on kpt's own e2e cases (`scripts/kpt-e2e.py`) and by the
//! differential fuzzer (`scripts/fuzz_render.py`):
//! - A package is a folder with a Kptfile; its resources are its `*.yaml`, `*.yml`
//!   and `Kptfile` files, minus what its `.krmignore` (gitignore syntax) names and
//!   minus subpackages. Subpackages are every folder below holding a Kptfile that
//!   is not inside another subpackage; they render first, in path order
//!   (`kpt.dev/bfs-rendering: "true"` on the root Kptfile: parents first, level
//!   by level, as kpt v1.0.0-beta.67's `hydrateBfsOrder`).
//! - Every resource must be KRM (`apiVersion`, `kind`, `metadata.name`), except
//!   kustomization files (kpt `IsKRM`).
//! - A pipeline sees paths relative to its own package and the
//!   `internal.config.kubernetes.io/package-path` of each resource; paths are
//!   rebased onto the root at the end, so what a subpackage's spec generates lands
//!   in that subpackage, as with kpt.
//! - A step's `configPath` is read from the resources as they are when the step
//!   runs (earlier steps may have changed it; one that removed it leaves the file
//!   as read), and must be one document of the package itself.
//! - Files whose documents are unchanged are left byte for byte; changed files are
//!   written whole in kyaml's block style, each replaced atomically; files whose
//!   resources all went away are deleted, and nothing else is. Nothing is written
//!   unless the whole pipeline of every package succeeded, except the newest
//!   kpt's render status in the root Kptfile ([`status`]), written either way,
//!   and what kpt v1.0.0-beta.67 writes on a failure when the root Kptfile says
//!   `kpt.dev/save-on-render-failure: "true"` (`Rendered::saves_failure`).
//!
//! Modules, one job each:
//! - [`load`]: a package from disk — files, `.krmignore`, subpackages, each
//!   document's text;
//! - [`pipeline`]: the steps of every package in kpt's order, their runners
//!   (in process, `exec:`, container; [`runtime`] runs the external ones) and
//!   kpt's checks between steps;
//! - [`output`]: the rendered items as files, as `-o stdout`/`-o unwrap` and as
//!   manifests, written as kpt (kyaml) writes them;
//! - [`commit`]: staging files on disk as subtrees finish, then renaming them in
//!   place all at once, or removing them (failure, interrupt);
//! - [`state`]: what a render carries from step to step ([`Rendered`]);
//! - [`registry`]: the Lummo functions this binary runs in process;
//! - [`kptfile`]: the Kptfile's pipeline; [`hand_edits`]: warnings for edited
//!   generated files; [`provenance`]: where generated fields come from;
//! - [`status`]: the newest kpt's render status in the root Kptfile.
//!
//! Architecture invariant: nothing is written to the package before every
//! pipeline succeeded ([`Rendered::commit`]), but the render status; the
//! library never exits the process or prints results (progress lines only, as
//! kpt does) — the CLI decides what to show.

pub mod commit;
pub mod hand_edits;
pub mod kptfile;
pub mod load;
pub mod output;
pub mod pipeline;
pub mod provenance;
pub mod registry;
pub mod runtime;
pub mod state;
pub mod status;

pub use commit::{clean_up_on_interrupt, remove_temporaries, Change, Summary};
pub use load::{function_config_paths, read};
pub use output::{
    duplicate_manifests, manifest_items, manifest_text, manifests, refused_in_manifests,
    unmarked_local_config,
};
pub use pipeline::{render, render_quietly, PipelineError, Target, PACKAGE_PATH};
pub use provenance::{FieldSource, ObjectProvenance, Provenance};
pub use registry::{function, function_names, function_of_kind, Function, BUILT_IN_VERSION};
pub use state::{Finding, Rendered, Settings, StepRecord};
