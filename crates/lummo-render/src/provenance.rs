//! Where the fields of the rendered generated objects come from (issue 32),
//! kept beside the render, never written: what each Lummo step recorded
//! (`lummo_core::origins`) and which fields a later step of the pipeline
//! changed (set-namespace, set-labels, apply-replacements...). Only a render
//! with [`Provenance::Record`] keeps them (`lummo explain`, `lummo diff`): the
//! comparison after every later step costs what a render need not pay.
//!
//! Objects are followed from step to step by their ownership annotation, kind
//! and name (a step that renames one — ensure-name-substring — is followed when
//! the owner has one object of that kind left); the records go to the (file,
//! index) the object is finished at, root-relative.

use krm_sdk::object::without_kpt_annotations;
use krm_sdk::{Item, ObjectExt, Value};
use lummo_core::origins::{changed_paths, covers, ObjectOrigins, Origin};
use lummo_core::GENERATED_BY;

/// Whether a render keeps the provenance of generated fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Provenance {
    #[default]
    Skip,
    Record,
}

/// A generated object's provenance at its (file, index).
#[derive(Debug, Clone)]
pub struct ObjectProvenance {
    /// The Lummo function that generated it.
    pub function: &'static str,
    /// Its spec (`lummo.dev/generated-by`: `<function>:<Kind>/<name>`).
    pub generated_by: String,
    pub origins: ObjectOrigins,
    /// Fields a later step changed, with the step (the last one that did).
    pub later: Vec<(String, String)>,
}

/// Where a field of a generated object comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldSource<'a> {
    /// A later pipeline step set it: `step` names it.
    Step(&'a str),
    /// The Lummo function's record.
    Recorded(&'a Origin),
    /// No record covers it: the function's own rule.
    Rule(&'static str),
}

impl ObjectProvenance {
    /// The source of the field at `path`: a later step that changed it (or a
    /// field below or above it), else the function's record, else its rule.
    pub fn source_of(&self, path: &str) -> FieldSource<'_> {
        let step = self
            .later
            .iter()
            .filter(|(field, _)| covers(field, path) || covers(path, field))
            .map(|(_, step)| step.as_str())
            .next_back();
        if let Some(step) = step {
            return FieldSource::Step(step);
        }
        match self.origins.origin_of(path) {
            Some(origin) => FieldSource::Recorded(origin),
            None => FieldSource::Rule(self.function),
        }
    }
}

/// The generated objects of the subtree being rendered, followed from their
/// emission to the end of the pipeline.
#[derive(Default)]
pub(crate) struct Tracker {
    tracked: Vec<Tracked>,
}

struct Tracked {
    kind: String,
    name: String,
    provenance: ObjectProvenance,
    /// The object as the last step left it (kpt's annotations left out).
    last: Value,
}

impl Tracker {
    /// A Lummo step emitted `items` (its whole output) with `origins`.
    pub(crate) fn emitted(
        &mut self,
        function: &'static str,
        origins: Vec<ObjectOrigins>,
        items: &[Item],
    ) {
        let generator = lummo_core::generator(function);
        for item in items.iter().filter(|item| generator.owns(item)) {
            let Some(generated_by) = item.annotation(GENERATED_BY) else {
                continue;
            };
            let (kind, name) = (item.kind(), item.name());
            let origins = origins
                .iter()
                .find(|o| o.kind == kind && o.name == name)
                .cloned()
                .unwrap_or_else(|| ObjectOrigins {
                    kind: kind.to_string(),
                    name: name.to_string(),
                    ..ObjectOrigins::default()
                });
            self.tracked.retain(|t| {
                !(t.kind == kind && t.name == name && t.provenance.generated_by == generated_by)
            });
            self.tracked.push(Tracked {
                kind: kind.to_string(),
                name: name.to_string(),
                provenance: ObjectProvenance {
                    function,
                    generated_by: generated_by.to_string(),
                    origins,
                    later: Vec::new(),
                },
                last: without_kpt_annotations(item.value()),
            });
        }
    }

    /// A step (named `step`) left `items`: the fields it changed of each
    /// followed object are recorded as its.
    pub(crate) fn step(&mut self, step: &str, items: &[Item]) {
        for tracked in &mut self.tracked {
            let Some(item) = find(items, tracked) else {
                continue;
            };
            let now = without_kpt_annotations(item.value());
            for path in changed_paths(Some(&tracked.last), Some(&now)) {
                tracked.provenance.later.retain(|(field, _)| *field != path);
                tracked.provenance.later.push((path, step.to_string()));
            }
            tracked.name = item.name().to_string();
            tracked.last = now;
        }
    }

    /// The finished (root-relative) `items` of the subtree: each followed
    /// object's provenance at its (file, index). Everything followed is
    /// forgotten: the subtree is done.
    pub(crate) fn finish(&mut self, items: &[Item]) -> Vec<((String, u32), ObjectProvenance)> {
        let mut out = Vec::new();
        for tracked in std::mem::take(&mut self.tracked) {
            let Some(file) = find(items, &tracked).and_then(|item| item.file_ref()) else {
                continue;
            };
            out.push(((file.path, file.index), tracked.provenance));
        }
        out
    }
}

/// The item `tracked` follows: same owner, kind and name, or the owner's one
/// object of that kind.
fn find<'a>(items: &'a [Item], tracked: &Tracked) -> Option<&'a Item> {
    let owned = |item: &&Item| {
        item.kind() == tracked.kind
            && item.annotation(GENERATED_BY) == Some(tracked.provenance.generated_by.as_str())
    };
    if let Some(item) = items
        .iter()
        .filter(owned)
        .find(|i| i.name() == tracked.name)
    {
        return Some(item);
    }
    let mut candidates = items.iter().filter(owned);
    match (candidates.next(), candidates.next()) {
        (Some(item), None) => Some(item),
        _ => None,
    }
}
