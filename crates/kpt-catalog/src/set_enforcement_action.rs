//! `set-enforcement-action`: sets `spec.enforcementAction` of every Gatekeeper
//! constraint, as kptdev/krm-functions-catalog
//! `functions/go/set-enforcement-action/main.go` does at its only tag,
//! `set-enforcement-action/v0.1.0`.
//!
//! Config: a ConfigMap whose `data` holds exactly one entry, `enforcementAction`,
//! one of `deny`, `warn`, `dryrun`. A constraint is an object with
//! `apiVersion: constraints.gatekeeper.sh/v1beta1`, a kind and a name. Results:
//! `Number of policies set to [<action>]: <n>` and one `Policy name: [<name>]`
//! per constraint with its file, or the warning `Found no policy to set to
//! [<action>]`; a bad config is the error `failed to process policies: ...` and
//! nothing changes.

use krm_sdk::{ObjectExt, ResourceList, ResultItem, Value};

const CONSTRAINTS: &str = "constraints.gatekeeper.sh/v1beta1";
const ACTIONS: [&str; 3] = ["deny", "warn", "dryrun"];

pub fn process(list: &mut ResourceList) {
    let action = match action(list.function_config.as_ref()) {
        Ok(action) => action,
        Err(message) => {
            return list.results.push(ResultItem::error(format!(
                "failed to process policies: {message}"
            )))
        }
    };
    // A constraint without a `spec` map stops the release (kyaml's "wrong Node
    // Kind for spec" from the scalar `LookupCreate(ScalarNode, "spec")` makes),
    // after the constraints before it were edited; lummo checks them all first,
    // so that nothing is half-written, and names the object.
    if let Some(bad) = list
        .items
        .iter()
        .map(|i| i.value())
        .find(|o| is_constraint(o) && !o.get("spec").is_some_and(Value::is_object))
    {
        return list.results.push(
            ResultItem::error(format!(
                "failed to process policies: {} {} has no `spec` map, so \
                 `spec.enforcementAction` cannot be set; give the constraint its `spec:`",
                bad.kind(),
                bad.name()
            ))
            .for_object(bad)
            .field("spec"),
        );
    }
    let mut policies = Vec::new();
    for item in list.items.iter_mut() {
        if !is_constraint(item.value()) {
            continue;
        }
        item.update(|o| {
            if let Some(spec) = o.get_mut("spec").and_then(Value::as_object_mut) {
                spec.insert("enforcementAction".into(), action.clone().into());
            }
        });
        let object = item.value();
        let mut result = ResultItem::info(format!("Policy name: [{}]", object.name()));
        result.file = object.file_ref().map(|mut f| {
            // The release names the file alone, never its index.
            f.index = 0;
            f
        });
        policies.push(result);
    }
    if policies.is_empty() {
        return list.results.push(ResultItem::warning(format!(
            "Found no policy to set to [{action}]"
        )));
    }
    list.results.push(ResultItem::info(format!(
        "Number of policies set to [{action}]: {}",
        policies.len()
    )));
    list.results.extend(policies);
}

fn is_constraint(o: &Value) -> bool {
    o.api_version() == CONSTRAINTS && !o.kind().is_empty() && !o.name().is_empty()
}

fn action(fc: Option<&Value>) -> Result<String, String> {
    let data = fc.and_then(|fc| fc.get("data")).and_then(Value::as_object);
    if data.map_or(0, |d| d.len()) != 1 {
        return Err("expecting exactly 1 enforcementAction as part of the ConfigMap".into());
    }
    let action = data
        .and_then(|d| d.get("enforcementAction"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !ACTIONS.contains(&action) {
        return Err(
            "expected values for enforcementAction are [deny] or [warn] or [dryrun]".into(),
        );
    }
    Ok(action.to_string())
}
