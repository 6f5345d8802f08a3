//! `lummo render DIR --manifests` on a kustomize overlay (a folder with a
//! kustomization.yaml and no Kptfile), the way environments are deployed through
//! Argo CD: the overlay's files are copied, `kustomize build` runs on the copy, and
//! the build's output goes through the Lummo functions its objects name, in
//! process, as `lummo eval ... --manifests` would.
//!
//! Why a copy: kustomize drops every resource annotated
//! `config.kubernetes.io/local-config: "true"` (what `lummo init` puts on specs) —
//! the specs would vanish before any function saw them and the render would print
//! nothing. In the copy that annotation is renamed to [`HIDDEN`], and renamed back
//! in the build's output, so local-config objects reach the functions (and are
//! then left out of the manifests, as they should be). The copy holds only the
//! files of [`inputs`]: what renders from it cannot depend on any other file.

use anyhow::{bail, Context, Result};
use krm_sdk::Value;
use std::collections::BTreeSet;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

/// kustomize's names for its file (in its order of precedence).
const KUSTOMIZATION_FILES: [&str; 3] = ["kustomization.yaml", "kustomization.yml", "Kustomization"];
const LOCAL_CONFIG: &str = "config.kubernetes.io/local-config";
/// What the local-config annotation is called while kustomize builds the copy.
const VALIDATE: &str = "lummo-validate";
const HIDDEN: &str = "lummo.dev/kustomize-hidden-local-config";

/// What a folder given to `lummo render` is.
pub enum Source {
    /// A kpt package: the folder holds a Kptfile.
    Package,
    /// A kustomize overlay: the folder holds this kustomization file and no Kptfile.
    Overlay(PathBuf),
}

/// A Kptfile wins (a kpt package may hold a kustomization.yaml, which kpt skips);
/// else a kustomization file; else an error naming the folder and both fixes.
pub fn discover(dir: &Path) -> Result<Source> {
    // `.` says nothing in Argo CD's logs: the folder's own path.
    let absolute = dir.canonicalize();
    let dir = absolute.as_deref().unwrap_or(dir);
    if !dir.is_dir() {
        bail!(
            "{}: not a folder; give a kpt package (a folder with a Kptfile) or a kustomize overlay (a folder with a kustomization.yaml)",
            dir.display()
        );
    }
    if dir.join("Kptfile").is_file() {
        return Ok(Source::Package);
    }
    match kustomization_in(dir) {
        Some(file) => Ok(Source::Overlay(file)),
        // kpt's words first: scripts and kpt's e2e cases match on them.
        None => bail!(
            "No Kptfile found at {:?}: neither a Kptfile nor a kustomization.yaml here; `lummo init {}` makes a kpt package, \
             or write a kustomization.yaml whose resources are your specs and function configs (see environments/)",
            dir.display().to_string(),
            dir.display()
        ),
    }
}

fn kustomization_in(dir: &Path) -> Option<PathBuf> {
    KUSTOMIZATION_FILES
        .iter()
        .map(|name| dir.join(name))
        .find(|path| path.is_file())
}

/// What a render of a folder reads: whole folders (every file below one may be
/// read, a new one included) and single files, as canonical paths, sorted.
#[derive(Default)]
pub struct Inputs {
    pub folders: BTreeSet<PathBuf>,
    pub files: BTreeSet<PathBuf>,
    /// A file a kustomization names that does not exist, as the error a build
    /// gives (kustomize would fail on it). Not an error of `--inputs`: Argo CD's
    /// discovery must still claim the app, so its render shows this error.
    pub missing: Vec<String>,
}

/// What a render of `dir` reads.
///
/// A kpt package: its folder (any `*.yaml`, `*.yml`, `Kptfile`, `.krmignore` added
/// below it is read) and every such file now. A kustomize overlay: its folder (the
/// overlay path: kustomize looks for its kustomization file there), its
/// kustomization file and, recursively, every file one names (resources,
/// components, patches, generators' files, ...), and each kustomization's folder
/// (kustomize looks there for `kustomization.yml` and `Kustomization` too): any string of a kustomization that
/// names an existing path beside it counts, so a field kustomize adds later is not
/// missed (listing a file too many only costs Argo CD a refresh). Files that a
/// kustomization names elsewhere (a `../config.env`) are single files.
pub fn inputs(dir: &Path) -> Result<Inputs> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}: cannot open", dir.display()))?;
    let mut inputs = Inputs::default();
    match discover(&dir)? {
        Source::Package => package_files(&dir, &mut inputs.files)?,
        Source::Overlay(file) => {
            kustomization_files(
                &file,
                &mut inputs.files,
                &mut inputs.missing,
                &mut Vec::new(),
            )?;
            // kustomize looks in each kustomization's folder for its three names
            // (a second one is an error): those folders are read as a whole.
            let folders = inputs
                .files
                .iter()
                .filter(|f| {
                    f.file_name()
                        .is_some_and(|n| KUSTOMIZATION_FILES.iter().any(|k| n == *k))
                })
                .filter_map(|f| f.parent().map(Path::to_path_buf))
                .collect::<Vec<_>>();
            inputs.folders.extend(folders);
        }
    }
    inputs.folders.insert(dir);
    Ok(inputs)
}

fn package_files(dir: &Path, files: &mut BTreeSet<PathBuf>) -> Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .with_context(|| format!("{}: cannot read", dir.display()))?
        .collect::<std::io::Result<_>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            if name != ".git" {
                package_files(&entry.path(), files)?;
            }
        } else if name == "Kptfile"
            || name == ".krmignore"
            || name.ends_with(".yaml")
            || name.ends_with(".yml")
        {
            files.insert(entry.path());
        }
    }
    Ok(())
}

/// The kustomization file `file` and what it names, recursively; `stack` holds the
/// kustomizations being read, so a cycle is an error rather than a hang.
fn kustomization_files(
    file: &Path,
    files: &mut BTreeSet<PathBuf>,
    missing: &mut Vec<String>,
    stack: &mut Vec<PathBuf>,
) -> Result<()> {
    if stack.iter().any(|f| f == file) {
        bail!(
            "{}: kustomizations name each other in a cycle ({}); remove one of those entries",
            file.display(),
            stack
                .iter()
                .map(|f| f.display().to_string())
                .collect::<Vec<_>>()
                .join(" -> ")
        );
    }
    if !files.insert(file.to_path_buf()) {
        return Ok(());
    }
    let text = std::fs::read_to_string(file)
        .with_context(|| format!("{}: cannot read", file.display()))?;
    let documents = krm_sdk::yaml::parse_documents(&text, &Default::default())
        .map_err(|e| anyhow::anyhow!("{}: {e}", file.display()))?;
    let dir = file.parent().unwrap_or(Path::new("/"));
    let mut named = Vec::new();
    for document in &documents {
        strings(document, String::new(), &mut named);
    }
    stack.push(file.to_path_buf());
    for (field, value) in named {
        if value.contains("://") || value.starts_with("git@") || value.starts_with("github.com/") {
            bail!(
                "{}: `{value}` is a remote resource: a render of this overlay would depend on \
                 something outside the repository, and Argo CD could not know when it changes; \
                 vendor it into the repository and name the local copy",
                file.display()
            );
        }
        // `key=path` of configMapGenerator/secretGenerator `files`.
        let path = value.rsplit_once('=').map_or(value.as_str(), |(_, p)| p);
        if path.is_empty() || path.contains('\n') {
            continue;
        }
        let Ok(target) = dir.join(path).canonicalize() else {
            // kustomize would fail on it with the path alone: say which entry names it.
            if names_a_file(&field) {
                missing.push(format!(
                    "{}: {} names `{value}`, but {} does not exist; create it, or correct or remove that entry",
                    file.display(),
                    entry(&field),
                    dir.join(path).display()
                ));
            }
            continue;
        };
        if target.is_dir() {
            match kustomization_in(&target) {
                Some(inner) => kustomization_files(&inner, files, missing, stack)?,
                None => bail!(
                    "{}: `{value}` is a folder without a kustomization.yaml; add one to {} listing its resources, or name its files",
                    file.display(),
                    target.display()
                ),
            }
        } else if target.is_file() {
            files.insert(target);
        }
    }
    stack.pop();
    Ok(())
}

/// Every string of a kustomization with its field path (`resources[1]`,
/// `configMapGenerator[0].files[2]`).
fn strings(value: &Value, field: String, out: &mut Vec<(String, String)>) {
    match value {
        Value::String(s) => out.push((field, s.clone())),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .for_each(|(i, v)| strings(v, format!("{field}[{i}]"), out)),
        Value::Object(map) => map.iter().for_each(|(key, v)| {
            let inner = if field.is_empty() {
                key.clone()
            } else {
                format!("{field}.{key}")
            };
            strings(v, inner, out)
        }),
        _ => {}
    }
}

/// The fields whose strings kustomize reads as a local file or folder, and so
/// fails on when it is missing (kustomize's `types.Kustomization`), each index as
/// `[]`. Any other string (a name, a label, an inline patch) may name nothing.
const PATH_FIELDS: [&str; 18] = [
    "resources[]",
    "bases[]",
    "components[]",
    "crds[]",
    "configurations[]",
    "generators[]",
    "transformers[]",
    "validators[]",
    "patches[].path",
    "patchesJson6902[].path",
    "replacements[].path",
    "openapi.path",
    "configMapGenerator[].files[]",
    "configMapGenerator[].envs[]",
    "secretGenerator[].files[]",
    "secretGenerator[].envs[]",
    "configMapGenerator[].env",
    "secretGenerator[].env",
];

/// Whether the string at `field` (`resources[1]`) is one of [`PATH_FIELDS`].
fn names_a_file(field: &str) -> bool {
    let mut shape = String::new();
    let mut in_index = false;
    for c in field.chars() {
        match c {
            '[' => in_index = true,
            ']' => {
                in_index = false;
                shape.push_str("[]");
            }
            _ if in_index => {}
            c => shape.push(c),
        }
    }
    PATH_FIELDS.contains(&shape.as_str())
}

/// A field as a person reads it: "entry 2 of `resources` (`resources[1]`)" for
/// an entry of a top-level list, else the field path.
fn entry(field: &str) -> String {
    match field
        .strip_suffix(']')
        .and_then(|f| f.split_once('['))
        .and_then(|(list, i)| Some((list, i.parse::<usize>().ok()?)))
    {
        Some((list, i)) if !list.contains(['.', '[']) => {
            format!("entry {} of `{list}` (`{field}`)", i + 1)
        }
        _ => format!("`{field}`"),
    }
}

/// `path` relative to `base`, both canonical (`../base/x.yaml`).
pub fn relative(path: &Path, base: &Path) -> String {
    let path: Vec<Component> = path.components().collect();
    let base: Vec<Component> = base.components().collect();
    let common = path.iter().zip(&base).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".into(); base.len() - common];
    parts.extend(
        path[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The kustomize command: `LUMMO_KUSTOMIZE` (e.g. `kustomize build`), else
/// `kubectl kustomize` when kubectl is on PATH, else `kustomize build`.
fn kustomize_command() -> Result<Vec<String>> {
    if let Some(command) = std::env::var_os("LUMMO_KUSTOMIZE").filter(|v| !v.is_empty()) {
        let words: Vec<String> = command
            .to_string_lossy()
            .split_whitespace()
            .map(String::from)
            .collect();
        return Ok(words);
    }
    let on_path = |name: &str| {
        std::env::var_os("PATH")
            .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(name).is_file()))
    };
    if on_path("kubectl") {
        Ok(vec!["kubectl".into(), "kustomize".into()])
    } else if on_path("kustomize") {
        Ok(vec!["kustomize".into(), "build".into()])
    } else {
        bail!("rendering a kustomize overlay needs kustomize: put `kustomize` or `kubectl` on PATH, or set LUMMO_KUSTOMIZE to the command (e.g. `LUMMO_KUSTOMIZE=\"kustomize build\"`)")
    }
}

/// `kustomize build` of the overlay `dir`, on a copy of its inputs with the
/// local-config annotation hidden from kustomize; the stream with it restored.
pub fn build(dir: &Path) -> Result<String> {
    let dir = dir
        .canonicalize()
        .with_context(|| format!("{}: cannot open", dir.display()))?;
    let inputs = inputs(&dir)?;
    if let Some(problem) = inputs.missing.first() {
        bail!("{problem}");
    }
    let files = inputs.files;
    // The copy keeps the files' places relative to their deepest common folder.
    let mut common: PathBuf = dir.clone();
    for file in &files {
        while !file.starts_with(&common) {
            common = common
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("/"));
        }
    }
    let copy = TempDir::new()?;
    for file in &files {
        let target = copy.0.join(file.strip_prefix(&common).unwrap_or(file));
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let text =
            std::fs::read(file).with_context(|| format!("{}: cannot read", file.display()))?;
        let text = match String::from_utf8(text) {
            Ok(text) => text.replace(LOCAL_CONFIG, HIDDEN).into_bytes(),
            Err(raw) => raw.into_bytes(),
        };
        std::fs::write(&target, text)?;
    }
    let overlay = copy.0.join(dir.strip_prefix(&common).unwrap_or(&dir));
    let command = kustomize_command()?;
    let output = std::process::Command::new(&command[0])
        .args(&command[1..])
        .arg(&overlay)
        .stdin(std::process::Stdio::null())
        .output()
        .with_context(|| format!("cannot run `{}`", command.join(" ")))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stderr).replace(
            &format!("{}/", copy.0.display()),
            &format!("{}/", common.display()),
        );
        bail!(
            "{}: `{} {}` failed ({}): {}; fix the kustomization (run that command on the folder to see the same error)",
            dir.display(),
            command.join(" "),
            dir.display(),
            output.status,
            message.trim()
        );
    }
    let text = String::from_utf8(output.stdout)
        .context("kustomize printed something that is not UTF-8")?;
    Ok(text.replace(HIDDEN, LOCAL_CONFIG))
}

/// The functions the build's objects name: a generator when one of its kinds (its
/// specs or its config kind) is there or an object is annotated
/// `lummo.dev/function-config` for it, in pipeline order, then lummo-validate.
pub fn functions(items: &[&Value]) -> Vec<lummo_render::Function> {
    use krm_sdk::ObjectExt;
    let named = |name: &str, kinds: &[lummo_core::descriptor::KindDoc]| {
        items.iter().any(|item| {
            kinds.iter().any(|k| k.kind == item.kind())
                || item
                    .annotation(lummo_cli::function_config::FOR_FUNCTION)
                    .map(lummo_cli::function_config::full_name)
                    .as_deref()
                    == Some(name)
        })
    };
    let mut chain: Vec<lummo_render::Function> = lummo_validate::DESCRIPTORS
        .iter()
        .filter(|d| d.name() != VALIDATE)
        .filter(|d| named(d.name(), d.kinds))
        .filter_map(|d| lummo_render::function(d.name()))
        .collect();
    chain.extend(lummo_render::function(VALIDATE));
    chain
}

/// `lummo render OVERLAY --manifests`: the manifests on stdout, or results and a
/// final line on stderr, exit 1 and nothing on stdout.
pub fn render_manifests(dir: &Path) -> Result<ExitCode> {
    // `.` in a message says nothing in Argo CD's logs: the folder's own path.
    let dir = &dir
        .canonicalize()
        .with_context(|| format!("{}: cannot open", dir.display()))?;
    let stream = build(dir)?;
    let list = krm_sdk::ResourceList::parse(&stream, &Default::default())
        .map_err(|e| anyhow::anyhow!("{}: the output of kustomize: {e}", dir.display()))?;
    let items: Vec<&Value> = list.items.iter().map(|i| i.value()).collect();
    // A misspelt Lummo kind still has the group: lummo-validate names the kind meant.
    if !items
        .iter()
        .any(|item| krm_sdk::ObjectExt::api_version(*item).starts_with("lummo.dev/"))
    {
        bail!(
            "{}: the kustomize build holds no Lummo spec (LummoDeployment, LummoNetworking, ...): \
             nothing for the Lummo functions; name the specs' files in the kustomization's `resources` \
             (or deploy this folder with Argo CD's own kustomize)",
            dir.display()
        );
    }
    let chain = functions(&items);
    match crate::eval::run_chain(&chain, &Default::default(), true, &stream)? {
        Some(text) if text.trim().is_empty() => bail!(
            "{}: the render produced no manifests: the specs generated nothing a cluster gets",
            dir.display()
        ),
        Some(text) => {
            crate::emit(&text);
            Ok(ExitCode::SUCCESS)
        }
        None => {
            eprintln!(
                "{}: the render failed; nothing was printed (fix the errors above)",
                dir.display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// A temporary folder removed when dropped.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Result<Self> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "lummo-overlay-{}-{}",
            std::process::id(),
            COUNT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .with_context(|| format!("cannot create {}", path.display()))?;
        Ok(Self(path))
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `lummo render`'s entry for what is not a plain kpt render: `--inputs`, and a
/// kustomize overlay (only `--manifests`: an overlay has no place to write
/// rendered files to). `None`: a kpt package, rendered as before.
pub fn dispatch(dir: &Path, list_inputs: bool, manifests: bool) -> Result<Option<ExitCode>> {
    if list_inputs {
        let base = dir
            .canonicalize()
            .with_context(|| format!("{}: cannot open", dir.display()))?;
        // Folders end in `/`: every file below one counts.
        let inputs = inputs(&base)?;
        let mut text = String::new();
        for folder in &inputs.folders {
            text.push_str(&relative(folder, &base));
            text.push_str("/\n");
        }
        for file in &inputs.files {
            text.push_str(&relative(file, &base));
            text.push('\n');
        }
        crate::emit(&text);
        return Ok(Some(ExitCode::SUCCESS));
    }
    match discover(dir)? {
        Source::Package => Ok(None),
        Source::Overlay(_) if manifests => render_manifests(dir).map(Some),
        Source::Overlay(file) => bail!(
            "{}: a kustomize overlay (no Kptfile) renders only to stdout: `lummo render {} --manifests`; \
             to render in place, make it a kpt package (`kpt pkg init`)",
            file.display(),
            dir.display()
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A folder of `files` (path, text) under the temporary folder.
    fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
        let root =
            std::env::temp_dir().join(format!("lummo-overlay-test-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        for (path, text) in files {
            let path = root.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }
        root
    }

    /// The error of a build of `dir`, which must come before kustomize runs;
    /// `--inputs` lists the rest and no error (discovery still claims the app).
    fn error(dir: &Path) -> String {
        assert!(inputs(dir).is_ok_and(|i| i.missing.len() == 1));
        match build(dir) {
            Ok(_) => panic!("{}: no error", dir.display()),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn a_missing_file_of_a_bases_generator_names_the_base_and_the_field() {
        let root = tree(
            "generator",
            &[
                ("env/kustomization.yaml", "resources:\n- ../base\n"),
                (
                    "base/kustomization.yaml",
                    "configMapGenerator:\n- name: settings\n  files:\n  - a.conf\n  - b=missing.conf\n",
                ),
                ("base/a.conf", "a\n"),
            ],
        );
        let message = error(&root.join("env"));
        let base = root.canonicalize().unwrap().join("base");
        assert_eq!(
            message,
            format!(
                "{}: `configMapGenerator[0].files[1]` names `b=missing.conf`, but {} does not exist; \
                 create it, or correct or remove that entry",
                base.join("kustomization.yaml").display(),
                base.join("missing.conf").display()
            )
        );
        std::fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn strings_that_are_no_paths_may_name_nothing() {
        // A prefix, a label and a patch target name are not files: no error for them.
        let root = tree(
            "names",
            &[
                (
                    "env/kustomization.yaml",
                    "namePrefix: prod-\ncommonLabels: {tier: web}\nresources:\n- app.yaml\n\
                     patches:\n- target: {kind: ConfigMap, name: app}\n  patch: |-\n    - op: add\n      path: /data/x\n      value: y\n",
                ),
                ("env/app.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n"),
            ],
        );
        let listed = inputs(&root.join("env")).expect("lists the inputs");
        assert!(listed.missing.is_empty(), "{:?}", listed.missing);
        assert_eq!(listed.files.len(), 2, "{:?}", listed.files);
        std::fs::remove_dir_all(root).unwrap();
    }
}
