//! `lummo catalog PKG...`: lummo-backstage on each package as it is on disk.

use anyhow::{bail, Context, Result};
use krm_sdk::ObjectExt;
use lummo_cli::backstage::{catalog, catalog_config_for, CatalogOptions};
use std::path::Path;
use std::process::ExitCode;

pub fn run(
    packages: &[std::path::PathBuf],
    options: &CatalogOptions,
    output: Option<&Path>,
) -> Result<ExitCode> {
    if let Some(dir) = output {
        if dir.exists() {
            bail!("{} already exists; lummo catalog -o writes a new folder (delete it or choose another)", dir.display());
        }
    }
    let mut texts = Vec::new();
    let mut failed = false;
    for path in packages {
        let mut read = lummo_render::read(path)?;
        let name = read
            .items
            .iter()
            .find(|item| {
                item.kind() == "Kptfile" && item.file_ref().is_some_and(|f| f.path == "Kptfile")
            })
            .map(|item| item.name().to_string())
            .unwrap_or_else(|| path.display().to_string());
        let config = catalog_config_for(options, own_config(path, &read.items)?)?;
        match catalog(
            read.items.iter().map(|i| i.value().clone()).collect(),
            config,
        ) {
            Ok(text) => texts.push((name, path, text)),
            Err(results) => {
                failed = true;
                read.findings = results
                    .into_iter()
                    .map(|result| lummo_render::Finding {
                        package: path.display().to_string(),
                        function: "lummo-backstage".into(),
                        result,
                    })
                    .collect();
                crate::report(&read);
            }
        }
    }
    if failed {
        return Ok(ExitCode::from(1));
    }
    match output {
        None => {
            let stream: Vec<String> = texts
                .into_iter()
                .map(|(_, _, text)| text)
                .filter(|t| !t.is_empty())
                .collect();
            crate::emit(&stream.join("---\n"));
        }
        Some(dir) => {
            let mut seen = std::collections::BTreeMap::new();
            for (name, path, _) in &texts {
                if let Some(other) = seen.insert(name.clone(), path.display().to_string()) {
                    bail!("{other} and {} are both named {name} (their Kptfiles): one catalog folder each is needed", path.display());
                }
            }
            // Everything is computed; write into a temporary sibling and rename.
            let staging = dir.with_extension("lummo-tmp");
            if staging.exists() {
                std::fs::remove_dir_all(&staging)?;
            }
            for (name, _, text) in &texts {
                let folder = staging.join(name);
                std::fs::create_dir_all(&folder)?;
                std::fs::write(folder.join(lummo_backstage::CATALOG_FILE), text)
                    .with_context(|| format!("writing {}", folder.display()))?;
            }
            std::fs::rename(&staging, dir)
                .with_context(|| format!("creating {}", dir.display()))?;
            eprintln!(
                "{} catalog file(s) written to {}",
                texts.len(),
                dir.display()
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The package's own config of lummo-backstage: the LummoBackstageConfig a
/// pipeline step names by `configPath`, else the package's only one. Without it
/// `lummo catalog` would ask for an owner the package already gives.
fn own_config(path: &Path, items: &[krm_sdk::Item]) -> Result<Option<krm_sdk::Value>> {
    let named = lummo_render::function_config_paths(path)?;
    let configs: Vec<&krm_sdk::Value> = items
        .iter()
        .map(|i| i.value())
        .filter(|v| v.kind() == lummo_backstage::CONFIG_KIND)
        .collect();
    let by_step: Vec<&&krm_sdk::Value> = configs
        .iter()
        .filter(|v| v.file_ref().is_some_and(|f| named.contains(&f.path)))
        .collect();
    Ok(match (by_step.as_slice(), configs.as_slice()) {
        ([one], _) => Some((**one).clone()),
        (_, [one]) => Some((*one).clone()),
        _ => None,
    })
}
