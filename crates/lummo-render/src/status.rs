//! The newest kpt's render status: after every in-place render, success or
//! failure, kpt v1.0.0-beta.67 writes a `status:` block into the root Kptfile
//! (`pkg/lib/kptops/render_executor.go`: `updateRenderStatus`,
//! `buildRenderStatus`, `captureStepResult`, `preExecFailureStep`; types in
//! `api/kptfile/v1/types.go`):
//!
//! ```yaml
//! status:
//!   conditions:
//!     - type: Rendered
//!       status: "False"            # "True" / RenderSuccess on success
//!       reason: RenderFailed
//!       message: |-                # the render's error, the root path as "."
//!         pkg.render: pkg ./db:
//!         	pipeline.run: already handled error
//!   renderStatus:                  # left out when no step was tried
//!     mutationSteps:               # every step tried, every package, in order
//!       - image: ghcr.io/kptdev/krm-functions-catalog/set-labels:latest
//!         stderr: ...
//!         exitCode: 1
//!         results: [...]           # the function's results
//!         errorResults: [...]      # those of severity error
//!     validationSteps: [...]
//!     errorSummary: '<step>: exit code 1'   # on failure: one line per failed step
//! ```
//!
//! Other conditions already in the status are kept; the `Rendered` one is
//! replaced. kpt writes no status with `-o` (stdout, unwrap, a folder), nor
//! when the root Kptfile itself cannot be read.
//!
//! One deliberate difference (ARCHITECTURE.md's table): kpt writes the status by
//! marshalling its Go type of the whole Kptfile again, which drops every
//! comment of the Kptfile, moves fields into the type's order and restyles
//! scalars and sequences. lummo writes the same `status:` block, byte for byte,
//! in place of the old one (or at the end) and leaves the rest of the Kptfile as
//! the user and the functions left it: nothing the user wrote is lost, and
//! stripping the block gives back what kpt v1.0.0-beta.56 writes.

use crate::commit::{temporary_name, write_temporary_file};
use crate::pipeline::Stage;
use crate::state::StepRecord;
use anyhow::{Context as _, Result};
use krm_sdk::{json, Map, ResultItem, Value};
use std::path::Path;

/// What stopped a render, in kpt's words (see [`crate::Rendered::failed_with`]).
#[derive(Debug, Clone)]
pub struct Failure {
    /// Root-relative folder of the package it stopped in ("" for the root).
    pub package: String,
    /// The error's own text, as kpt words it.
    pub text: String,
    pub said_by: SaidBy,
}

/// Which of kpt's operations says an error: the package's pipeline
/// (`pipeline.run`, inside `pkg.render`), the listing of its subpackages
/// (`pkg.Subpackages`, inside `pkg.render`) or the package (`pkg.render`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaidBy {
    Pipeline,
    Subpackages,
    Package,
}

/// How a render ended, for the `Rendered` condition.
pub enum Outcome<'a> {
    Success,
    /// A step failed (non-zero exit, error results): kpt's runner printed it
    /// already, so its error says "already handled error".
    StepFailed {
        package: &'a str,
        /// Rendered in breadth-first order (`kpt.dev/bfs-rendering`): kpt's
        /// `hydrateBfsOrder` wraps every package's error in the root's
        /// `pkg.render`, the failing package named by `pipeline.run`.
        bfs: bool,
    },
    /// The render stopped on an error.
    Error(&'a Failure),
}

/// The `status:` value kpt writes: `existing` is the status the Kptfile has
/// (its other conditions are kept), `root` the root package's absolute path
/// (kpt writes it as `.` in the message).
pub fn status(
    existing: Option<&Value>,
    steps: &[StepRecord],
    outcome: &Outcome,
    root: &str,
) -> Value {
    let mut conditions: Vec<Value> = existing
        .and_then(|s| s.get("conditions"))
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter(|c| c.get("type").and_then(Value::as_str) != Some("Rendered"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let mut condition = Map::new();
    condition.insert("type".into(), "Rendered".into());
    match message(outcome, root) {
        None => {
            condition.insert("status".into(), "True".into());
            condition.insert("reason".into(), "RenderSuccess".into());
        }
        Some(message) => {
            condition.insert("status".into(), "False".into());
            condition.insert("reason".into(), "RenderFailed".into());
            condition.insert("message".into(), message.into());
        }
    }
    conditions.push(condition.into());
    let mut status = Map::new();
    status.insert("conditions".into(), conditions.into());
    if let Some(render_status) = render_status(steps, !matches!(outcome, Outcome::Success)) {
        status.insert("renderStatus".into(), render_status);
    }
    status.into()
}

/// kpt's error text: `errors.E(op, path, err)` of `pkg.render`, then of
/// `pipeline.run` for what the pipeline said, the root's path written `.`.
fn message(outcome: &Outcome, root: &str) -> Option<String> {
    let package = |relative: &str| {
        if relative.is_empty() {
            ".".to_string()
        } else {
            format!("./{relative}")
        }
    };
    let text = match outcome {
        Outcome::Success => return None,
        Outcome::StepFailed {
            package: p,
            bfs: false,
        } => format!(
            "pkg.render: pkg {}:\n\tpipeline.run: already handled error",
            package(p)
        ),
        // The root's own pipeline is not named again (kpt's data,
        // save-on-render-failure/bfs-*).
        Outcome::StepFailed {
            package: p,
            bfs: true,
        } if p.is_empty() => {
            "pkg.render: pkg .:\n\tpipeline.run: already handled error".to_string()
        }
        Outcome::StepFailed {
            package: p,
            bfs: true,
        } => format!(
            "pkg.render: pkg .:\n\tpipeline.run: pkg {}: already handled error",
            package(p)
        ),
        Outcome::Error(failure) => match failure.said_by {
            SaidBy::Pipeline => format!(
                "pkg.render: pkg {}:\n\tpipeline.run: {}",
                package(&failure.package),
                failure.text
            ),
            SaidBy::Subpackages => format!(
                "pkg.render: pkg {}:\n\tpkg.Subpackages: {}",
                package(&failure.package),
                failure.text
            ),
            SaidBy::Package => format!(
                "pkg.render: pkg {}: {}",
                package(&failure.package),
                failure.text
            ),
        },
    };
    Some(if root.is_empty() {
        text
    } else {
        text.replace(root, ".")
    })
}

/// `renderStatus`: every step tried, or `None` when none was.
fn render_status(steps: &[StepRecord], failed: bool) -> Option<Value> {
    if steps.is_empty() {
        return None;
    }
    let mut render_status = Map::new();
    let mut summary = Vec::new();
    for (stage, key) in [
        (Stage::Mutators, "mutationSteps"),
        (Stage::Validators, "validationSteps"),
    ] {
        let of_stage: Vec<&StepRecord> = steps.iter().filter(|s| s.stage == stage).collect();
        if of_stage.is_empty() {
            continue;
        }
        for step in &of_stage {
            let name = if step.name.is_empty() {
                &step.kptfile_reference
            } else {
                &step.name
            };
            match &step.execution_error {
                Some(error) => summary.push(format!("{name}: {error}")),
                None if step.exit_code != 0 => {
                    summary.push(format!("{name}: exit code {}", step.exit_code))
                }
                None => {}
            }
        }
        let values: Vec<Value> = of_stage.iter().map(|s| step_result(s)).collect();
        render_status.insert(key.into(), values.into());
    }
    if failed && !summary.is_empty() {
        render_status.insert("errorSummary".into(), summary.join("\n").into());
    }
    Some(render_status.into())
}

/// kpt's `PipelineStepResult` of one step, its fields in the type's order.
fn step_result(step: &StepRecord) -> Value {
    let mut result = Map::new();
    if !step.name.is_empty() {
        result.insert("name".into(), step.name.clone().into());
    }
    result.insert(step.field.into(), step.kptfile_reference.clone().into());
    if let Some(error) = &step.execution_error {
        result.insert("executionError".into(), error.clone().into());
        result.insert("exitCode".into(), 1.into());
        return result.into();
    }
    if !step.stderr.is_empty() {
        result.insert("stderr".into(), step.stderr.clone().into());
    }
    result.insert("exitCode".into(), step.exit_code.into());
    if !step.results.is_empty() {
        result.insert("results".into(), results_value(&step.results));
        let errors: Vec<ResultItem> = step
            .results
            .iter()
            .filter(|r| r.is_error())
            .cloned()
            .collect();
        if !errors.is_empty() {
            result.insert("errorResults".into(), results_value(&errors));
        }
    }
    result.into()
}

/// Results as kpt's `fnresult.ResultItem` marshals them (the results file and
/// the render status): empty fields of a `resourceRef` left out (omitempty).
pub fn results_value(results: &[ResultItem]) -> Value {
    let mut value = serde_json::to_value(results).unwrap_or_else(|_| json!([]));
    for result in value.as_array_mut().into_iter().flatten() {
        if let Some(reference) = result.get_mut("resourceRef").and_then(Value::as_object_mut) {
            reference.retain(|_, v| v.as_str() != Some(""));
        }
    }
    value
}

/// The Kptfile `text` with `status` as its `status:` block: the old block
/// replaced where it was, or the new one appended; the rest of the text as it
/// was. The block is written as kpt marshals it (go-yaml, sequences indented
/// under their key). `None` when the text is no single mapping this can edit
/// safely (the caller then leaves the Kptfile alone, as kpt does with a
/// Kptfile it cannot read).
pub fn with_status(text: &str, status: &Value) -> Option<String> {
    let limits = krm_sdk::yaml::Limits::default();
    let mut documents = krm_sdk::yaml::parse_documents(text, &limits).ok()?;
    if documents.len() != 1 || !documents[0].is_object() {
        return None;
    }
    let block = kyaml_format::format_value(
        None,
        &json!({ "status": status }),
        kyaml_format::SeqIndent::Wide,
    );
    let (start, end) = status_block(text);
    let mut edited = String::with_capacity(text.len() + block.len());
    edited.push_str(&text[..start]);
    if start == text.len() && !edited.is_empty() && !edited.ends_with('\n') {
        edited.push('\n');
    }
    edited.push_str(&block);
    edited.push_str(&text[end..]);
    // The edit must say exactly the old mapping with the new status.
    let expected = documents[0].as_object_mut()?;
    expected.insert("status".into(), status.clone());
    let edited_documents = krm_sdk::yaml::parse_documents(&edited, &limits).ok()?;
    (edited_documents.len() == 1 && edited_documents[0] == documents[0]).then_some(edited)
}

/// Without its top-level `status:` block: what kpt v1.0.0-beta.56 would have
/// left (the runners comparing with it ignore exactly this block).
pub fn without_status(text: &str) -> String {
    let (start, end) = status_block(text);
    format!("{}{}", &text[..start], &text[end..])
}

/// The byte range of the top-level `status:` key and its value: its line and
/// the lines after it that are indented or blank (trailing blank lines left
/// out); `(len, len)` when there is none.
fn status_block(text: &str) -> (usize, usize) {
    let mut offset = 0;
    let mut start = None;
    let mut end = text.len();
    let mut last_content_end = text.len();
    for line in text.split_inclusive('\n') {
        let line_start = offset;
        offset += line.len();
        match start {
            None => {
                let key = line.strip_prefix("status").map(str::trim_start);
                if key.is_some_and(|rest| rest.starts_with(':')) {
                    start = Some(line_start);
                    last_content_end = offset;
                }
            }
            Some(_) => {
                let blank = line.trim().is_empty();
                if blank {
                    continue;
                }
                if line.starts_with([' ', '\t']) {
                    last_content_end = offset;
                    continue;
                }
                end = last_content_end;
                break;
            }
        }
    }
    match start {
        Some(start) => {
            if end == text.len() {
                end = last_content_end;
            }
            (start, end)
        }
        None => (text.len(), text.len()),
    }
}

/// The root Kptfile's `text` with the render status of `steps` and `outcome`
/// (`root`: the root package's path, written `.` in messages); `None` when the
/// text does not read as kpt reads a Kptfile (kpt then writes no status).
pub fn kptfile_with_status(
    text: &str,
    steps: &[StepRecord],
    outcome: &Outcome,
    root: &Path,
) -> Option<String> {
    crate::kptfile::parse("Kptfile", text).ok()?;
    let limits = krm_sdk::yaml::Limits::default();
    let existing = krm_sdk::yaml::parse_documents(text, &limits)
        .ok()?
        .into_iter()
        .next()?
        .get("status")
        .cloned();
    let value = status(
        existing.as_ref(),
        steps,
        outcome,
        &root.display().to_string(),
    );
    with_status(text, &value)
}

/// Writes the status into the root Kptfile of `root` (atomically: a temporary
/// file renamed over it), for a render that stages no Kptfile: a failed one,
/// or one whose functions removed the root Kptfile's object (a successful
/// render puts the status into the Kptfile it stages, `Rendered::stage`).
/// Returns whether the file changed.
pub fn write(root: &Path, steps: &[StepRecord], outcome: &Outcome) -> Result<bool> {
    let path = root.join("Kptfile");
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(false);
    };
    if !config_paths_read(root, &text) {
        return Ok(false);
    }
    let Some(new) = kptfile_with_status(&text, steps, outcome, root) else {
        return Ok(false);
    };
    if new == text {
        return Ok(false);
    }
    let permissions = std::fs::metadata(&path).ok().map(|m| m.permissions());
    let temporary = write_temporary_file(&path, &new, permissions, &mut Default::default())
        .with_context(|| temporary_name(&path).display().to_string())?;
    std::fs::rename(&temporary, &path).with_context(|| path.display().to_string())?;
    Ok(true)
}

/// kpt validates the root Kptfile before it starts a render (`newPkgNode`:
/// `KptFile.Validate`, [`crate::pipeline::check_config_files`]); a render that
/// fails there writes no status (kpt's e2e cases fnconfig-missing-name,
/// fnconfig-multiple-config-one-file, missing-fnconfig).
fn config_paths_read(root: &Path, text: &str) -> bool {
    crate::kptfile::parse("Kptfile", text)
        .is_ok_and(|kptfile| crate::pipeline::check_config_files(root, &kptfile).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    const KPTFILE: &str = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: app # the app\npipeline:\n  mutators:\n  - image: set-labels:v0.1\n";

    fn success() -> Value {
        status(None, &[], &Outcome::Success, "/tmp/app")
    }

    #[test]
    fn appended_after_the_rest_which_keeps_its_comments_and_styles() {
        let text = with_status(KPTFILE, &success()).unwrap();
        assert_eq!(
            text,
            format!("{KPTFILE}status:\n  conditions:\n    - type: Rendered\n      status: \"True\"\n      reason: RenderSuccess\n")
        );
        assert_eq!(without_status(&text), KPTFILE);
    }

    #[test]
    fn replaces_the_old_block_in_place() {
        let old = format!("{KPTFILE}status:\n  conditions:\n  - type: Rendered\n    status: \"False\"\n\n    reason: RenderFailed\n# tail\n");
        let text = with_status(&old, &success()).unwrap();
        assert_eq!(
            text,
            format!("{KPTFILE}status:\n  conditions:\n    - type: Rendered\n      status: \"True\"\n      reason: RenderSuccess\n# tail\n")
        );
    }

    #[test]
    fn other_conditions_are_kept() {
        let existing = json!({"conditions": [
            {"type": "Ready", "status": "True"},
            {"type": "Rendered", "status": "False", "reason": "RenderFailed", "message": "x"}]});
        let value = status(Some(&existing), &[], &Outcome::Success, "");
        assert_eq!(
            value,
            json!({"conditions": [{"type": "Ready", "status": "True"},
                {"type": "Rendered", "status": "True", "reason": "RenderSuccess"}]})
        );
    }

    #[test]
    fn a_failure_names_the_package_and_the_root_as_dot() {
        let failure = Failure {
            package: "db".into(),
            text: "function must not modify resources outside of package: /tmp/app/x".into(),
            said_by: SaidBy::Pipeline,
        };
        let value = status(None, &[], &Outcome::Error(&failure), "/tmp/app");
        assert_eq!(
            value["conditions"][0]["message"],
            "pkg.render: pkg ./db:\n\tpipeline.run: function must not modify resources outside of package: ./x"
        );
    }

    #[test]
    fn a_second_document_or_no_mapping_is_left_alone() {
        assert!(with_status(&format!("{KPTFILE}---\na: b\n"), &success()).is_none());
        assert!(with_status("- a\n", &success()).is_none());
    }
}
