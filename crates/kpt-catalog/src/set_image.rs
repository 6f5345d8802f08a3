//! `set-image`: kustomize's image transformer as the catalog wraps it
//! (kptdev/krm-functions-catalog `functions/go/set-image`): config from a
//! ConfigMap's `data` (`name`, `newName`, `newTag`, `digest`) or `SetImage`
//! (`image: {name, newName, newTag, digest}`, `additionalImageFields`). Every
//! `image` of a `containers`/`initContainers` list is matched by name (tag and
//! digest ignored); the name becomes `newName`, and the tag `@digest`, `:newTag`
//! or stays.

use crate::util::{self, Config, FieldSpec};
use krm_sdk::{ResourceList, ResultItem, Value};

const KIND: &str = "SetImage";

#[derive(Default)]
struct Image {
    name: String,
    new_name: String,
    new_tag: String,
    digest: String,
}

fn image_from(
    map: &serde_json::Map<String, Value>,
    fc: &Value,
    prefix: &str,
) -> Result<Image, ResultItem> {
    let known = ["name", "newName", "newTag", "digest"];
    if let Some(key) = map.keys().find(|k| !known.contains(&k.as_str())) {
        let hint = krm_sdk::decode::suggest(key, known)
            .map(|s| format!("; did you mean `{s}`?"))
            .unwrap_or_else(|| format!("; known keys: {}", known.join(", ")));
        return Err(ResultItem::error(format!("unknown key `{key}`{hint}"))
            .for_object(fc)
            .field(format!("{prefix}.{key}")));
    }
    let get = |k: &str| match map.get(k) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let image = Image {
        name: get("name"),
        new_name: get("newName"),
        new_tag: get("newTag"),
        digest: get("digest"),
    };
    if image.name.is_empty() {
        return Err(
            ResultItem::error("must specify the image name to match, e.g. `name: nginx`")
                .for_object(fc)
                .field(format!("{prefix}.name")),
        );
    }
    if image.new_name.is_empty() && image.new_tag.is_empty() && image.digest.is_empty() {
        return Err(
            ResultItem::error("must specify one of `newName`, `newTag` or `digest`")
                .for_object(fc)
                .field(prefix.to_string()),
        );
    }
    Ok(image)
}

/// Splits `name[:tag][@digest]`; a port in the registry is part of the name.
fn split(image: &str) -> (&str, &str) {
    if let Some(at) = image.find('@') {
        return (&image[..at], &image[at..]);
    }
    let slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[slash..].rfind(':') {
        Some(colon) => (&image[..slash + colon], &image[slash + colon..]),
        None => (image, ""),
    }
}

pub fn process(list: &mut ResourceList) {
    let fc = list.function_config.clone();
    let (image, extra) = match util::config(fc.as_ref(), KIND) {
        Ok(Config::None) => return list.results.push(ResultItem::error("functionConfig is missing; give `name` and `newName`, `newTag` or `digest` in a ConfigMap, or a `SetImage`")),
        Ok(Config::ConfigMap(data)) => match image_from(data, fc.as_ref().expect("present"), "data") {
            Ok(i) => (i, Vec::new()),
            Err(e) => return list.results.push(e),
        },
        Ok(Config::Typed(fc)) => {
            let parsed = util::check_fields(fc, &["image", "additionalImageFields"]).and_then(|_| {
                let empty = serde_json::Map::new();
                let map = fc.get("image").and_then(Value::as_object).unwrap_or(&empty);
                Ok((image_from(map, fc, "image")?, FieldSpec::list(fc, "additionalImageFields")?))
            });
            match parsed {
                Ok(p) => p,
                Err(e) => return list.results.push(e),
            }
        }
        Err(e) => return list.results.push(e),
    };
    let mut count = 0;
    let mut update = |node: &mut Value| {
        let Some(old) = node.as_str() else { return };
        let (name, tag) = split(old);
        if name != image.name {
            return;
        }
        let name = if image.new_name.is_empty() {
            name
        } else {
            &image.new_name
        };
        let tag = if !image.digest.is_empty() {
            format!("@{}", image.digest)
        } else if !image.new_tag.is_empty() {
            format!(":{}", image.new_tag)
        } else {
            tag.to_string()
        };
        let new = format!("{name}{tag}");
        if new != old {
            *node = Value::String(new);
        }
        count += 1;
    };
    for item in &mut list.items {
        item.update(|o| {
            containers(o, &mut update);
            let matching: Vec<&FieldSpec> = extra.iter().filter(|s| s.matches(o)).collect();
            for spec in matching {
                util::visit_path(o, &spec.path, false, &mut update);
            }
        });
    }
    list.results.push(ResultItem::info(format!(
        "summary: updated a total of {count} image(s)"
    )));
}

/// Every `image` of every `containers` and `initContainers` list in the object.
fn containers(node: &mut Value, f: &mut dyn FnMut(&mut Value)) {
    match node {
        Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                if key == "containers" || key == "initContainers" {
                    if let Value::Array(list) = value {
                        for c in list.iter_mut() {
                            if let Some(image) = c.get_mut("image") {
                                f(image);
                            }
                        }
                        continue;
                    }
                }
                containers(value, f);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| containers(i, f)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn splits_names_tags_and_digests() {
        assert_eq!(super::split("nginx:1.2"), ("nginx", ":1.2"));
        assert_eq!(
            super::split("localhost:5000/nginx"),
            ("localhost:5000/nginx", "")
        );
        assert_eq!(super::split("a/b@sha256:x"), ("a/b", "@sha256:x"));
    }
}
