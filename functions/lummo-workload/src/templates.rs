//! `LummoContainer` templates and how containers extend them.
//!
//! A container (in a LummoDeployment, LummoJob or LummoCronJob) or a template may
//! name a base with `template:` or `extends:`. The chain is merged from the deepest
//! base up, field by field:
//! - scalars and lists of words override (`image`, `name`, `command`, `args`,
//!   `readOnlyRootFilesystem`);
//! - `env` merges by variable name; `ports` merge by port name;
//! - `configs` and `secrets` are the union, base first, in order;
//! - `resources` override per field (`requests.cpu`, `limits.memory`, ...);
//! - `probes` override per probe (`liveness`, `readiness`, `startup`).
//!
//! A missing base or a cycle is an error naming the chain.

use crate::spec::PartialContainer;
use krm_sdk::{Map, ObjectExt, ResourceList, ResultItem, Value};
use std::collections::{BTreeMap, BTreeSet};

pub const KIND: &str = "LummoContainer";
const REFERENCE_KEYS: [&str; 2] = ["template", "extends"];

/// The package's templates by name.
#[derive(Default)]
pub struct Templates {
    by_name: BTreeMap<String, (Value, Map<String, Value>)>,
    /// Templates with problems of their own (reported on them).
    broken: BTreeSet<String>,
}

impl Templates {
    /// Reads and checks every LummoContainer of the list; problems become results.
    pub fn collect(list: &ResourceList, results: &mut Vec<ResultItem>) -> Templates {
        let mut templates = Templates::default();
        for object in lummo_core::spec_objects(list, KIND) {
            let (_, problems) = lummo_core::decode_spec::<PartialContainer>(&object, KIND);
            if !problems.is_empty() {
                templates.broken.insert(object.name().to_string());
            }
            results.extend(problems);
            let spec = object
                .get("spec")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default();
            templates
                .by_name
                .insert(object.name().to_string(), (object, spec));
        }
        templates
    }

    /// `object` with every container's template chain merged in; errors name the
    /// container's field and the chain. A container whose chain cannot be merged is
    /// left as written, without its reference, so that the rest of the spec is still
    /// decoded and checked; its error covers the container (see `lummo_core::settle`).
    pub fn resolve(&self, object: &Value, results: &mut Vec<ResultItem>) -> Value {
        let mut resolved = object.clone();
        let containers = match resolved.pointer_mut("/spec/containers") {
            Some(Value::Array(list)) => list.iter_mut().collect(),
            // One container written as a mapping is the list's first item.
            Some(one @ Value::Object(_)) => vec![one],
            _ => Vec::new(),
        };
        for (i, container) in containers.into_iter().enumerate() {
            let Value::Object(own) = container else {
                continue;
            };
            let field = format!("spec.containers[{i}]");
            match self.merged(own) {
                Ok(merged) => *container = Value::Object(merged),
                Err((key, message)) => {
                    let error = ResultItem::error(message)
                        .for_object(object)
                        .field(format!("{field}.{key}"));
                    results.push(lummo_core::covers(error, &field));
                    for key in REFERENCE_KEYS {
                        own.shift_remove(key);
                    }
                }
            }
        }
        resolved
    }

    /// The container with its chain merged, or the reference key and the problem.
    fn merged(&self, own: &Map<String, Value>) -> Result<Map<String, Value>, (String, String)> {
        let Some((key, first)) = reference(own) else {
            return Ok(own.clone());
        };
        let mut chain = vec![first.clone()];
        let mut layers = Vec::new();
        let mut current = first;
        loop {
            if self.broken.contains(&current) {
                return Err((
                    key,
                    format!("LummoContainer `{current}` has errors (reported on it)"),
                ));
            }
            let Some((_, spec)) = self.by_name.get(&current) else {
                let message = if chain.len() == 1 {
                    format!("no LummoContainer named `{current}` in the package")
                } else {
                    format!(
                        "no LummoContainer named `{current}` in the package (chain: {})",
                        chain.join(" → ")
                    )
                };
                return Err((key, message));
            };
            layers.push(spec);
            match reference(spec) {
                None => break,
                Some((_, next)) if chain.contains(&next) => {
                    chain.push(next);
                    return Err((
                        key,
                        format!(
                            "LummoContainer templates extend each other in a cycle: {}",
                            chain.join(" → ")
                        ),
                    ));
                }
                Some((_, next)) => {
                    chain.push(next.clone());
                    current = next;
                }
            }
        }
        let mut merged = Map::new();
        for layer in layers.into_iter().rev().chain(std::iter::once(own)) {
            merge(&mut merged, layer);
        }
        for key in REFERENCE_KEYS {
            merged.shift_remove(key);
        }
        Ok(merged)
    }
}

fn reference(container: &Map<String, Value>) -> Option<(String, String)> {
    REFERENCE_KEYS.iter().find_map(|key| {
        container
            .get(*key)
            .and_then(Value::as_str)
            .map(|name| (key.to_string(), name.to_string()))
    })
}

/// Lays `over` on `base` with the rules of the module documentation.
fn merge(base: &mut Map<String, Value>, over: &Map<String, Value>) {
    for (key, value) in over {
        let merged = match (key.as_str(), base.get(key), value) {
            ("env", Some(Value::Object(old)), Value::Object(new)) => {
                let mut env = old.clone();
                env.extend(new.clone());
                Value::Object(env)
            }
            ("configs" | "secrets", Some(Value::Array(old)), Value::Array(new)) => {
                let mut union = old.clone();
                union.extend(new.iter().filter(|v| !old.contains(v)).cloned());
                Value::Array(union)
            }
            ("ports", Some(Value::Array(old)), Value::Array(new)) => {
                let mut ports = old.clone();
                for port in new {
                    match ports
                        .iter_mut()
                        .find(|p| p.get("name").is_some() && p.get("name") == port.get("name"))
                    {
                        Some(existing) => *existing = port.clone(),
                        None => ports.push(port.clone()),
                    }
                }
                Value::Array(ports)
            }
            ("resources", Some(Value::Object(old)), Value::Object(new)) => {
                let mut resources = old.clone();
                for (part, quantities) in new {
                    match (resources.get_mut(part), quantities) {
                        (Some(Value::Object(existing)), Value::Object(given)) => {
                            existing.extend(given.clone())
                        }
                        _ => {
                            resources.insert(part.clone(), quantities.clone());
                        }
                    }
                }
                Value::Object(resources)
            }
            ("probes", Some(Value::Object(old)), Value::Object(new)) => {
                let mut probes = old.clone();
                probes.extend(new.clone());
                Value::Object(probes)
            }
            _ => value.clone(),
        };
        base.insert(key.clone(), merged);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use krm_sdk::json;

    #[test]
    fn merges_field_by_field() {
        let mut base = json!({"image": "a:1", "env": {"A": "1", "B": "1"}, "configs": ["x", "y"],
            "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}, "ports": [{"name": "http", "port": 80}]})
        .as_object()
        .unwrap()
        .clone();
        let over = json!({"image": "a:2", "env": {"B": "2", "C": "3"}, "configs": ["y", "z"],
            "resources": {"requests": {"cpu": "2"}}, "ports": [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9000}]});
        merge(&mut base, over.as_object().unwrap());
        assert_eq!(
            Value::Object(base),
            json!({"image": "a:2", "env": {"A": "1", "B": "2", "C": "3"}, "configs": ["x", "y", "z"],
                "resources": {"requests": {"cpu": "2", "memory": "1Gi"}},
                "ports": [{"name": "http", "port": 8080}, {"name": "grpc", "port": 9000}]})
        );
    }
}
