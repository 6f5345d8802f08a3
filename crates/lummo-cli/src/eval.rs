//! `lummo eval`: functions over stdin, each with its own functionConfig (the rule
//! is in `lummo_cli::function_config`).

use anyhow::{bail, Context, Result};
use krm_sdk::{ResourceList, ResultItem, Value};
use lummo_cli::function_config as fc;
use std::collections::BTreeMap;
use std::process::ExitCode;

/// `--config FUNCTION=FILE` arguments, read and checked against the chain.
fn explicit_configs(
    configs: &[String],
    chain: &[lummo_render::Function],
) -> Result<BTreeMap<String, Value>> {
    let mut found = BTreeMap::new();
    for arg in configs {
        let Some((function, file)) = arg.split_once('=') else {
            bail!("--config `{arg}`: expected FUNCTION=FILE (e.g. --config networking=networking-config.yaml)");
        };
        let function = fc::full_name(lummo_render::function_of_kind(function).unwrap_or(function));
        if !chain.iter().any(|f| f.name == function) {
            let names: Vec<&str> = chain.iter().map(|f| f.name).collect();
            bail!(
                "--config `{arg}`: `{function}` is not among the functions run here ({})",
                names.join(", ")
            );
        }
        let text = std::fs::read_to_string(file)
            .with_context(|| format!("--config `{arg}`: cannot read {file}"))?;
        let mut objects = krm_sdk::yaml::parse_documents(&text, &Default::default())
            .map_err(|e| anyhow::anyhow!("--config `{arg}`: {file}: {e}"))?;
        objects.retain(|o| !o.is_null());
        if objects.len() != 1 || !objects[0].is_object() {
            bail!("--config `{arg}`: {file} must hold exactly one object (a ConfigMap or the function's config kind), found {}", objects.len());
        }
        if found.insert(function.clone(), objects.remove(0)).is_some() {
            bail!("--config: `{function}` given twice");
        }
    }
    Ok(found)
}

/// Sets the functionConfig `function` gets; an ambiguous stream is an error result.
fn configure(
    list: &mut ResourceList,
    function: &str,
    explicit: Option<&Value>,
    original: &Option<Value>,
) {
    list.function_config = original.clone();
    if let Some(config) = explicit {
        list.function_config = Some(config.clone());
        return;
    }
    if list.function_config.is_some() {
        return;
    }
    let items: Vec<&Value> = list.items.iter().map(|i| i.value()).collect();
    match fc::pick(&items, function) {
        Ok(picked) => list.function_config = picked.cloned(),
        Err(message) => list.results.push(ResultItem::error(message)),
    }
}

/// Objects annotated for no existing function, as error results.
fn check_targets(list: &mut ResourceList) {
    let items: Vec<&Value> = list.items.iter().map(|i| i.value()).collect();
    let known: Vec<&str> = lummo_validate::FUNCTIONS.iter().map(|(n, _)| *n).collect();
    for problem in fc::unknown_targets(&items, &known) {
        list.results.push(ResultItem::error(problem));
    }
}

pub fn run(functions: &[String], configs: &[String], manifests: bool) -> Result<ExitCode> {
    let chain = functions
        .iter()
        .map(|f| crate::eval_function(f))
        .collect::<Result<Vec<_>>>()?;
    let explicit = explicit_configs(configs, &chain)?;
    if let ([only], false) = (chain.as_slice(), manifests) {
        // One function: exactly its own binary's input and output handling.
        let config = explicit.get(only.name).cloned();
        let (name, process) = (only.name, only.process);
        return Ok(krm_sdk::run::run_stdin(name, move |list| {
            check_targets(list);
            let original = list.function_config.take();
            configure(list, name, config.as_ref(), &original);
            if !list.has_errors() {
                process(list);
            }
        }));
    }
    chain_run(&chain, &explicit, manifests)
}

/// Several functions over one input, in process: stops at the first error.
fn chain_run(
    chain: &[lummo_render::Function],
    explicit: &BTreeMap<String, Value>,
    manifests: bool,
) -> Result<ExitCode> {
    use std::io::Read;
    let limits = krm_sdk::yaml::Limits::default();
    let mut input = String::new();
    std::io::stdin()
        .take(limits.max_bytes as u64 + 1)
        .read_to_string(&mut input)?;
    match run_chain(chain, explicit, manifests, &input)? {
        Some(text) if manifests && text.trim().is_empty() => {
            // Manifests are for a cluster or Argo CD, which would prune every
            // object on an empty stream. The usual cause: kustomize drops
            // local-config resources, and `lummo init` writes specs so.
            eprintln!(
                "{}: the functions produced no manifests: the input holds no object a cluster \
                 gets. If it is `kubectl kustomize DIR` of specs annotated \
                 `config.kubernetes.io/local-config: \"true\"` (as `lummo init` writes them), \
                 kustomize dropped them: run `lummo render DIR --manifests`, which keeps them",
                crate::paint("error", krm_sdk::Severity::Error)
            );
            Ok(ExitCode::from(1))
        }
        Some(text) => {
            crate::emit(&text);
            Ok(ExitCode::SUCCESS)
        }
        None => Ok(ExitCode::from(1)),
    }
}

/// The chain over `input`: what it prints, or `None` when a function failed (its
/// results are on stderr).
pub fn run_chain(
    chain: &[lummo_render::Function],
    explicit: &BTreeMap<String, Value>,
    manifests: bool,
    input: &str,
) -> Result<Option<String>> {
    let limits = krm_sdk::yaml::Limits::default();
    let mut list = ResourceList::parse(input, &limits)?;
    check_targets(&mut list);
    let original = list.function_config.take();
    for function in chain {
        if !list.has_errors() {
            configure(
                &mut list,
                function.name,
                explicit.get(function.name),
                &original,
            );
        }
        if !list.has_errors() {
            (function.process)(&mut list);
        }
        let failed = list.has_errors();
        for result in std::mem::take(&mut list.results) {
            // The label is printed once, in front: the result's own text repeats
            // it (`error: ...`, as a function binary prints it alone).
            let label = crate::severity_label(result.severity);
            let text = result.to_string();
            let text = text.strip_prefix(&format!("{label}: ")).unwrap_or(&text);
            eprintln!(
                "{} [{}] {text}",
                crate::paint(label, result.severity),
                function.name
            );
        }
        if failed {
            return Ok(None);
        }
    }
    list.function_config = original;
    let refused = lummo_render::refused_in_manifests(&list.items);
    if manifests && !refused.is_empty() {
        for problem in refused {
            eprintln!(
                "{}: {problem}",
                crate::paint("error", krm_sdk::Severity::Error)
            );
        }
        return Ok(None);
    }
    if manifests {
        // Function configs are for the functions, not for the cluster.
        let items: Vec<krm_sdk::Item> = list
            .items
            .into_iter()
            .filter(|i| !fc::is_function_config(i))
            .collect();
        Ok(Some(lummo_render::manifests(&items, &Default::default())))
    } else {
        Ok(Some(list.write()))
    }
}
