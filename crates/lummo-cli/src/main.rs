//! `lummo`: every Lummo function in one process. `lummo render` renders a kpt
//! package without kpt's containers or processes (for ArgoCD and CI), with the same
//! files as `kpt fn render` writes.

mod catalog;
mod completions;
mod eval;
mod overlay;

use anyhow::{bail, Result};
use clap::{Parser, Subcommand};

/// A render makes and drops millions of small values (see Cargo.toml).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
use krm_sdk::{ResultItem, Severity};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "lummo",
    version,
    about = "Lummo's KRM functions in one process: render, eval, validate and document."
)]
struct Cli {
    /// Print what each step did and how long it took.
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a package's Kptfile pipeline in-process, as `kpt fn render` does.
    ///
    /// Subpackages that no pipeline above them touches render side by side, on as
    /// many threads as the machine has cores (at most 4), with the same output as
    /// one after the other; the environment variable LUMMO_THREADS=N sets the
    /// number of threads (1: one package after the other).
    Render {
        /// The package (a folder with a Kptfile), or a kustomize overlay (a folder
        /// with a kustomization.yaml, with --manifests); the current folder by default.
        #[arg(default_value = ".")]
        package: PathBuf,
        /// Print every file the render reads, one a line, relative to the folder
        /// (for Argo CD's manifest-generate-paths); render nothing.
        #[arg(long, conflicts_with_all = ["output", "manifests", "check"])]
        inputs: bool,
        /// As kpt: `stdout` prints the rendered package as a ResourceList,
        /// `unwrap` as a YAML stream, a folder gets a copy of the rendered package
        /// (it must not exist yet and must lie outside the package); default:
        /// render in place.
        #[arg(short, long)]
        output: Option<String>,
        /// Print only what a cluster should get and write nothing (for ArgoCD):
        /// no Kptfile, Lummo spec, functionConfig named by a step or local-config.
        #[arg(long, conflicts_with = "output")]
        manifests: bool,
        /// Allow the pipeline's `exec:` steps to run, as kpt requires (every one,
        /// Lummo functions' binaries too; image steps of Lummo functions run in
        /// process without it).
        #[arg(long)]
        allow_exec: bool,
        /// Give container steps the network, as kpt's `--allow-network`.
        #[arg(long)]
        allow_network: bool,
        /// Pull images of container steps: Always, IfNotPresent (default) or Never.
        #[arg(long, value_name = "POLICY", value_parser = ["Always", "IfNotPresent", "Never"], ignore_case = true)]
        image_pull_policy: Option<String>,
        /// Write nothing; exit 1 with a unified diff of every file a render would
        /// change (the CI gate for "rendered output is committed and current").
        #[arg(long, conflicts_with_all = ["output", "manifests"])]
        check: bool,
        /// Write the functions' results to DIR/results.yaml, as kpt does.
        #[arg(long, value_name = "DIR")]
        results_dir: Option<PathBuf>,
    },
    /// Run functions on a ResourceList or a YAML stream from stdin, in order; one
    /// function behaves exactly like its own binary.
    Eval {
        /// Functions (lummo-workload, workload, ...) or kinds they read (LummoDeployment, ...).
        #[arg(required = true)]
        functions: Vec<String>,
        /// Print only what a cluster should get: no Lummo specs, no local-config,
        /// no kpt annotations (e.g. `kubectl kustomize env/prod | lummo eval ... --manifests`).
        #[arg(long)]
        manifests: bool,
        /// FUNCTION=FILE: the functionConfig of one function (repeatable). Without
        /// it a function takes the input ResourceList's functionConfig, else the
        /// object of the stream annotated `lummo.dev/function-config: FUNCTION`,
        /// else the one of its config kind (LummoNetworkingConfig, ...).
        #[arg(long = "config", value_name = "FUNCTION=FILE")]
        configs: Vec<String>,
    },
    /// What a change does to the rendered manifests, per app and object: BASE and
    /// HEAD are git revisions (HEAD: the working tree by default) or two folders.
    /// Only packages whose files changed render, on both sides, without touching
    /// the working tree. Exit status: 0 no change, 1 changes, 2 error.
    Diff {
        base: String,
        head: Option<String>,
        /// `unified` (default) or `markdown` (a pull-request comment, risky changes first).
        #[arg(long, default_value = "unified", value_parser = ["unified", "markdown"])]
        format: String,
    },
    /// Where a field of the rendered package comes from: the spec field (file and
    /// line), the default, the functionConfig key, the pipeline step that set it,
    /// or "not generated by Lummo". The package is rendered in process; nothing is
    /// written.
    ///
    /// `lummo explain generated/rollout_foobar-api.yaml:42`, or
    /// `lummo explain Rollout/foobar-api spec.template.spec.terminationGracePeriodSeconds`.
    Explain {
        /// FILE:LINE of a rendered file, or KIND/NAME of a rendered object (then FIELD).
        target: String,
        /// With KIND/NAME: the field's path, e.g. `spec.replicas` or
        /// `metadata.labels['app.kubernetes.io/name']`.
        field: Option<String>,
        /// The package to render: by default, for FILE:LINE the outermost folder
        /// with a Kptfile above the file, for KIND/NAME the current folder.
        #[arg(long, value_name = "DIR")]
        package: Option<PathBuf>,
    },
    /// Check a package without changing it (lummo-validate).
    Validate {
        /// The package (a folder with a Kptfile); the current folder by default.
        #[arg(default_value = ".")]
        package: PathBuf,
    },
    /// Print the JSON Schema of a Lummo kind.
    Schema {
        /// e.g. LummoDeployment; `--list` to see them all.
        kind: Option<String>,
        #[arg(long)]
        list: bool,
    },
    /// Print the reference documentation of every Lummo kind (Markdown).
    Docs,
    /// Scaffold a package for an app in DIR (default: here); prompts for what the
    /// flags leave out when run on a terminal.
    Init(InitArgs),
    /// Print the completion script of SHELL (bash, zsh, fish, elvish, powershell),
    /// e.g. `lummo completions bash > /etc/bash_completion.d/lummo`.
    Completions { shell: clap_complete::Shell },
    /// Print the Backstage catalog entities of packages (lummo-backstage): a
    /// Component per app, Resources for its Pub/Sub and Postgres.
    Catalog {
        /// Packages (folders with a Kptfile).
        #[arg(required = true)]
        packages: Vec<PathBuf>,
        /// Backstage owner of every entity, e.g. group:payments.
        #[arg(long)]
        owner: Option<String>,
        /// Backstage system when a spec has no part-of.
        #[arg(long)]
        system: Option<String>,
        /// Backstage lifecycle (default production).
        #[arg(long)]
        lifecycle: Option<String>,
        /// A LummoBackstageConfig (or ConfigMap) file; the flags override it.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Write DIR/<package>/catalog-info.yaml per package instead of printing.
        #[arg(short, long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Write a Backstage Software Template (scaffolder v1beta3) into DIR whose
    /// skeleton is what `lummo init` writes.
    BackstageTemplate {
        /// A new folder for template.yaml and skeleton/.
        dir: PathBuf,
    },
}

/// `lummo init`'s flags (see `lummo_cli::init::InitParams`).
#[derive(clap::Args)]
struct InitArgs {
    /// The folder of the new package; created when missing.
    #[arg(default_value = ".")]
    dir: PathBuf,
    /// The app's name (required without a terminal).
    #[arg(long)]
    name: Option<String>,
    /// The system the app is part of (default: the name).
    #[arg(long)]
    part_of: Option<String>,
    /// The container image with its tag (required without a terminal).
    #[arg(long)]
    image: Option<String>,
    /// A container port, NAME=PORT (repeatable; default http=8080).
    #[arg(long = "port", value_name = "NAME=PORT")]
    ports: Vec<String>,
    /// A public domain routed to the app (repeatable): adds lummo-networking.
    #[arg(long = "domain")]
    domains: Vec<String>,
    /// A Pub/Sub topic the app owns (repeatable): adds lummo-pubsub.
    #[arg(long = "topic")]
    topics: Vec<String>,
    /// The Secret with the Postgres connection: adds lummo-pgbouncer.
    #[arg(long, value_name = "SECRET")]
    database: Option<String>,
    /// The numeric GCP project number (dead-letter grants of lummo-pubsub).
    #[arg(long)]
    project_number: Option<String>,
    /// Never prompt, even on a terminal.
    #[arg(long, short)]
    yes: bool,
}

fn main() -> ExitCode {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args
        .get(1)
        .is_some_and(|a| a == lummo_render::runtime::FILTER_COMMAND)
    {
        return catalog_filter(&args[2..]);
    }
    // Starlark steps run in a child process of this binary under an
    // address-space limit (lummo_render::runtime::Isolation).
    if let Ok(program) = std::env::current_exe() {
        let _ = lummo_render::runtime::ISOLATION.set(lummo_render::runtime::Isolation {
            program,
            memory: lummo_render::runtime::STARLARK_MEMORY,
        });
    }
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            // kpt's wording, so scripts and people see the same first word.
            eprintln!("{}: {error:#}", paint("Error", Severity::Error));
            ExitCode::from(1)
        }
    }
}

/// The hidden `__catalog-filter <image>`: one catalog filter (Starlark) over the
/// ResourceList on stdin, what it prints on stdout and stderr, its exit code;
/// the render's child process for a Starlark step.
fn catalog_filter(args: &[std::ffi::OsString]) -> ExitCode {
    let Some(function) = args
        .first()
        .and_then(|a| a.to_str())
        .and_then(lummo_render::runtime::catalog_filter)
    else {
        eprintln!(
            "lummo: {}: not a catalog filter",
            lummo_render::runtime::FILTER_COMMAND
        );
        return ExitCode::from(2);
    };
    let mut input = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut input) {
        eprintln!("lummo: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    let outcome = function.filter(&input);
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), outcome.stdout.as_bytes());
    let _ = std::io::Write::write_all(&mut std::io::stderr().lock(), outcome.stderr.as_bytes());
    ExitCode::from(outcome.exit_code)
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Render {
            package,
            output,
            manifests,
            allow_exec,
            allow_network,
            image_pull_policy,
            check,
            results_dir,
            inputs,
        } => {
            if let Some(code) = overlay::dispatch(&package, inputs, manifests)? {
                return Ok(code);
            }
            let pull = match image_pull_policy
                .as_deref()
                .map(str::to_ascii_lowercase)
                .as_deref()
            {
                None | Some("ifnotpresent") => "missing",
                Some("always") => "always",
                Some("never") => "never",
                Some(other) => {
                    bail!("--image-pull-policy {other}: must be Always, IfNotPresent or Never")
                }
            };
            let settings = lummo_render::Settings {
                allow_exec,
                allow_network,
                pull: Some(pull.to_string()),
                threads: threads_asked()?,
                ..Default::default()
            };
            let output = match (manifests, output.as_deref()) {
                _ if check => Output::Check,
                (true, _) => Output::Manifests,
                (false, None) => Output::InPlace,
                (false, Some("stdout")) => Output::Stdout,
                (false, Some("unwrap")) => Output::Unwrap,
                (false, Some(dir)) => Output::Dir(PathBuf::from(dir)),
            };
            render(
                &package,
                output,
                settings,
                results_dir.as_deref(),
                cli.verbose,
            )
        }
        Command::Eval {
            functions,
            manifests,
            configs,
        } => eval::run(&functions, &configs, manifests),
        Command::Diff { base, head, format } => Ok(lummo_cli::diff::command(
            &base,
            head.as_deref(),
            match format.as_str() {
                "markdown" => lummo_cli::diff::Format::Markdown,
                _ => lummo_cli::diff::Format::Unified,
            },
        )),
        Command::Explain {
            target,
            field,
            package,
        } => {
            let query = lummo_cli::explain::parse(&target, field.as_deref())?;
            emit(&lummo_cli::explain::explain(&query, package.as_deref())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Validate { package } => validate(&package),
        Command::Init(args) => init(args),
        Command::Completions { shell } => {
            completions::print(shell);
            Ok(ExitCode::SUCCESS)
        }
        Command::Catalog {
            packages,
            owner,
            system,
            lifecycle,
            config,
            output,
        } => {
            let options = lummo_cli::backstage::CatalogOptions {
                owner,
                system,
                lifecycle,
                config,
            };
            catalog::run(&packages, &options, output.as_deref())
        }
        Command::BackstageTemplate { dir } => {
            let count = lummo_cli::backstage::write_template(&dir, env!("CARGO_PKG_VERSION"))?;
            eprintln!("Wrote the Backstage template {} ({count} files); register {}/template.yaml in Backstage (docs/backstage.md)", dir.display(), dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { kind, list } => schema(kind.as_deref(), list),
        Command::Docs => {
            let mut text = String::new();
            for kind in lummo_schemas::kinds() {
                text.push_str(&kind.reference());
                text.push('\n');
            }
            emit(&text);
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn init(args: InitArgs) -> Result<ExitCode> {
    let flags = lummo_cli::init::Flags {
        name: args.name,
        part_of: args.part_of,
        image: args.image,
        ports: args.ports,
        domains: args.domains,
        topics: args.topics,
        database: args.database,
        project_number: args.project_number,
        yes: args.yes,
    };
    let written = lummo_cli::init::run(&args.dir, flags)?;
    eprintln!(
        "Created {} file(s) in {}: {}\nNext: lummo render {}",
        written.len(),
        args.dir.display(),
        written.join(", "),
        args.dir.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `LUMMO_THREADS`: how many threads render independent subpackages; empty is
/// unset, as `NO_COLOR`.
fn threads_asked() -> Result<Option<usize>> {
    let Some(value) = std::env::var_os("LUMMO_THREADS").filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match value.to_str().and_then(|v| v.trim().parse::<usize>().ok()) {
        Some(threads) if threads > 0 => Ok(Some(threads)),
        _ => bail!(
            "LUMMO_THREADS={}: must be a whole number of threads, at least 1",
            value.to_string_lossy()
        ),
    }
}

/// Where `lummo render` puts the rendered package.
enum Output {
    InPlace,
    Stdout,
    Unwrap,
    Dir(PathBuf),
    Manifests,
    Check,
}

fn render(
    package: &std::path::Path,
    output: Output,
    settings: lummo_render::Settings,
    results_dir: Option<&std::path::Path>,
    verbose: bool,
) -> Result<ExitCode> {
    let start = std::time::Instant::now();
    // Refuse an output folder before doing any work, as kpt does.
    if let Output::Dir(dir) = &output {
        if dir.exists() {
            bail!(
                "directory {:?} already exists, please delete the directory and retry",
                dir.display().to_string()
            );
        }
    }
    if matches!(output, Output::InPlace) {
        lummo_render::clean_up_on_interrupt()?;
    }
    let mut rendered = lummo_render::render(
        package,
        settings,
        match output {
            Output::InPlace => lummo_render::Target::InPlace,
            _ => lummo_render::Target::Items,
        },
    )?;
    if verbose {
        for (pkg, function, ms) in &rendered.timings {
            eprintln!("[{pkg}] {function}: {ms:.1} ms");
        }
    }
    report(&rendered);
    if let Some(dir) = results_dir {
        write_results(dir, &rendered)?;
    }
    if rendered.failed() {
        rendered.commit()?;
        // The last line says what became of the package, after any number of results.
        let nothing = match output {
            // The newest kpt's render status is the one thing written.
            Output::InPlace => "nothing was written but the Kptfile's render status",
            Output::Dir(_) => "nothing was written",
            _ => "nothing was printed",
        };
        eprintln!("{}: the render failed; {nothing}", package.display());
        return Ok(ExitCode::from(1));
    }
    let count = rendered.resources;
    match output {
        Output::Stdout => emit(&rendered.resource_list()),
        Output::Unwrap => emit(&rendered.unwrapped()),
        Output::Manifests => {
            let configs = lummo_render::function_config_paths(package)?;
            let mut refused = lummo_render::refused_in_manifests(&rendered.items);
            refused.extend(lummo_render::duplicate_manifests(&rendered.items, &configs));
            if !refused.is_empty() {
                for problem in refused {
                    eprintln!("{}: {problem}", paint("error", Severity::Error));
                }
                eprintln!(
                    "{}: the render failed; nothing was printed",
                    package.display()
                );
                return Ok(ExitCode::from(1));
            }
            for warning in lummo_render::unmarked_local_config(&rendered.items, &configs) {
                eprintln!("{}: {warning}", paint("warning", Severity::Warning));
            }
            let text = lummo_render::manifests(&rendered.items, &configs);
            if text.trim().is_empty() {
                // Argo CD would take an empty stream as "the app has no objects"
                // and prune every object it deployed.
                eprintln!(
                    "{}: {}: the render produced no manifests: every object is a Lummo spec, a \
                     Kptfile, a functionConfig or local-config; add a spec (`lummo init`) or \
                     drop the `config.kubernetes.io/local-config` annotation of what the cluster \
                     should get",
                    paint("error", Severity::Error),
                    package.display()
                );
                eprintln!("{}: nothing was printed", package.display());
                return Ok(ExitCode::from(1));
            }
            emit(&text);
        }
        Output::Dir(dir) => {
            let written = rendered.write_to(&dir)?;
            if verbose {
                eprintln!("{written} files written to {}", dir.display());
            }
        }
        Output::Check => {
            let changes = rendered.changes()?;
            if changes.is_empty() {
                eprintln!("{}: rendered output is current", package.display());
                return Ok(ExitCode::SUCCESS);
            }
            let mut text = String::new();
            for change in &changes {
                text.push_str(&unified_diff(change));
            }
            emit(&text);
            eprintln!(
                "{} file(s) would change: {}; run `lummo render {}` and commit the result",
                changes.len(),
                changes
                    .iter()
                    .map(|c| c.path.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                package.display()
            );
            return Ok(ExitCode::from(1));
        }
        Output::InPlace => {
            let summary = rendered.commit()?;
            eprintln!(
                "Successfully executed {} function(s) in {} package(s): {} file(s) created, {} updated, {} pruned.",
                rendered.functions_run(),
                rendered.packages,
                summary.created.len(),
                summary.updated.len(),
                summary.deleted.len()
            );
            if verbose {
                for (what, paths) in [
                    ("created", &summary.created),
                    ("updated", &summary.updated),
                    ("pruned", &summary.deleted),
                ] {
                    for path in paths {
                        eprintln!("  {what} {path}");
                    }
                }
            }
        }
    }
    if verbose {
        eprintln!(
            "rendered {} resources in {:.1} ms",
            count,
            start.elapsed().as_secs_f64() * 1000.0
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// kpt's `--results-dir`: a FunctionResultList in DIR/results.yaml, one entry per
/// function that ran, with its results.
fn write_results(dir: &std::path::Path, rendered: &lummo_render::Rendered) -> Result<()> {
    let mut items: Vec<serde_json::Value> = Vec::new();
    // A step that never started is in the Kptfile's render status only.
    for step in rendered.steps.iter().filter(|s| s.ran) {
        let mut item = serde_json::Map::new();
        item.insert(step.field.into(), step.reference.clone().into());
        if !step.stderr.is_empty() {
            item.insert("stderr".into(), step.stderr.clone().into());
        }
        item.insert("exitCode".into(), step.exit_code.into());
        if !step.results.is_empty() {
            item.insert(
                "results".into(),
                lummo_render::status::results_value(&step.results),
            );
        }
        items.push(item.into());
    }
    let mut list = serde_json::json!({
        "apiVersion": "kpt.dev/v1",
        "kind": "FunctionResultList",
        "metadata": { "name": "fnresults" },
        "exitCode": u8::from(rendered.failed()),
    });
    // kpt's `fnresult.ResultList` leaves out an empty `items` (`omitempty`):
    // a package without a step (fuzz case no-step-results-without-items).
    if !items.is_empty() {
        list["items"] = items.into();
    }
    std::fs::create_dir_all(dir)?;
    // kpt marshals it with kyaml: indent 2, sequences indented under their key.
    let text = kyaml_format::format_value(None, &list, kyaml_format::SeqIndent::Wide);
    std::fs::write(dir.join("results.yaml"), text)?;
    Ok(())
}

/// A `git diff`-style unified diff of one file (a/ and b/ prefixes, /dev/null for
/// a new or deleted file).
fn unified_diff(change: &lummo_render::Change) -> String {
    let old = change.old.as_deref().unwrap_or("");
    let new = change.new.as_deref().unwrap_or("");
    let from = if change.old.is_some() {
        format!("a/{}", change.path)
    } else {
        "/dev/null".into()
    };
    let to = if change.new.is_some() {
        format!("b/{}", change.path)
    } else {
        "/dev/null".into()
    };
    let diff = similar::TextDiff::from_lines(old, new);
    format!(
        "diff --git a/{path} b/{path}\n{}",
        diff.unified_diff().context_radius(3).header(&from, &to),
        path = change.path
    )
}

/// Writes to stdout; a reader that went away (`| head`) ends the program quietly.
fn emit(text: &str) {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        if error.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
        eprintln!("error: cannot write to stdout: {error}");
        std::process::exit(1);
    }
}

fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
        // kpt prints a result without a severity as info.
        Severity::Info | Severity::Unset => "info",
    }
}

fn validate(package: &std::path::Path) -> Result<ExitCode> {
    let mut read = lummo_render::read(package)?;
    let mut list = krm_sdk::ResourceList::new(Vec::new());
    list.items = read.items.clone();
    lummo_core::function::process::<lummo_validate::Validate>(&mut list);
    let failed = list.has_errors();
    read.findings = list
        .results
        .into_iter()
        .map(|result| lummo_render::Finding {
            package: ".".into(),
            function: "lummo-validate".into(),
            result,
        })
        .collect();
    report(&read);
    if !failed {
        eprintln!("{} resources checked, no errors", read.items.len());
    }
    Ok(ExitCode::from(u8::from(failed)))
}

fn schema(kind: Option<&str>, list: bool) -> Result<ExitCode> {
    let kinds = lummo_schemas::kinds();
    if list || kind.is_none() {
        let mut text = String::new();
        for k in &kinds {
            text.push_str(&format!("{:<24} {}\n", k.kind, k.about));
        }
        emit(&text);
        return Ok(ExitCode::SUCCESS);
    }
    let wanted = kind.unwrap_or_default();
    let Some(found) = kinds.iter().find(|k| k.kind.eq_ignore_ascii_case(wanted)) else {
        let names: Vec<&str> = kinds.iter().map(|k| k.kind).collect();
        let hint = krm_sdk::decode::suggest(wanted, names.iter().copied())
            .map(|s| format!(", did you mean `{s}`?"))
            .unwrap_or_default();
        bail!("unknown kind `{wanted}`{hint} (see `lummo schema --list`)");
    };
    emit(&format!(
        "{}\n",
        serde_json::to_string_pretty(&found.json_schema())?
    ));
    Ok(ExitCode::SUCCESS)
}

/// A function by name, or by a kind it reads.
fn eval_function(name: &str) -> Result<lummo_render::Function> {
    let name = lummo_render::function_of_kind(name).unwrap_or(name);
    let name = if name.starts_with("lummo-") {
        name.to_string()
    } else {
        format!("lummo-{name}")
    };
    lummo_render::function(&name).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown function `{name}`; one of {}",
            lummo_render::function_names()
        )
    })
}

/// Results as `severity: file:line:column: Kind/name: field: message`, colored on a terminal.
fn report(rendered: &lummo_render::Rendered) {
    use std::io::Write;
    // One buffered write: thousands of results (a setter over every file) would
    // otherwise cost a system call per line, and a terminal check per label.
    // Placing a result that names a field reads its document again: on every core.
    let colored = colors();
    // lummo-validate runs the generators' checks again: a result it repeats about
    // the same object and field is printed once, under the function that found it.
    let mut seen = std::collections::HashSet::new();
    let findings: Vec<&lummo_render::Finding> = rendered
        .findings
        .iter()
        .filter(|f| {
            let r = &f.result;
            seen.insert((
                f.package.clone(),
                severity_label(r.severity),
                r.file.as_ref().map(|file| (file.path.clone(), file.index)),
                r.resource_ref
                    .as_ref()
                    .map(|r| format!("{}/{}", r.kind, r.name)),
                r.field.as_ref().map(|field| field.path.clone()),
                r.message.clone(),
            ))
        })
        .collect();
    let lines = krm_sdk::parallel::map(&findings, |finding| {
        let result: &ResultItem = &finding.result;
        let mut line = String::new();
        if let Some(file) = &result.file {
            // The line and column of the field when the result names one, else
            // the line where the object's document starts.
            let field = result.field.as_ref().map(|f| f.path.as_str());
            let position = field
                .filter(|f| !f.is_empty())
                .and_then(|f| rendered.position_of(&file.path, file.index, f));
            match (position, rendered.line_of(&file.path, file.index)) {
                (Some((n, column)), _) => line.push_str(&format!("{}:{n}:{column}: ", file.path)),
                (None, Some(n)) => line.push_str(&format!("{}:{n}: ", file.path)),
                (None, None) => line.push_str(&format!("{}: ", file.path)),
            }
        }
        if let Some(r) = &result.resource_ref {
            line.push_str(&format!("{}/{}: ", r.kind, r.name));
        }
        if let Some(field) = result.field.as_ref().filter(|f| !f.path.is_empty()) {
            line.push_str(&format!("{}: ", field.path));
        }
        line.push_str(&result.message);
        let label = severity_label(result.severity);
        let origin = if finding.package == "." {
            finding.function.clone()
        } else {
            format!("{} in {}", finding.function, finding.package)
        };
        format!(
            "{} [{origin}] {line}\n",
            painted(label, result.severity, colored)
        )
    });
    let out: String = lines.concat();
    let _ = std::io::stderr().lock().write_all(out.as_bytes());
}

/// Colors only on a terminal, and never with `NO_COLOR` set to anything but the
/// empty string (https://no-color.org).
fn paint(text: &str, severity: Severity) -> String {
    painted(text, severity, colors())
}

fn colors() -> bool {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    !no_color && std::io::stderr().is_terminal()
}

fn painted(text: &str, severity: Severity, colored: bool) -> String {
    if !colored {
        return text.to_string();
    }
    let color = match severity {
        Severity::Error => "31",
        Severity::Warning => "33",
        Severity::Info | Severity::Unset => "36",
    };
    format!("\x1b[1;{color}m{text}\x1b[0m")
}
