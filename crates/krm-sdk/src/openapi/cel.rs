//! `x-kubernetes-validations`: CEL rules evaluated with the `cel` crate (cel-rust),
//! as the API server evaluates them on create
//! (k8s.io/apiextensions-apiserver `pkg/apiserver/schema/cel/validation.go`):
//! `self` is the value at the schema node; transition rules (those that use
//! `oldSelf`) only run on update and are skipped; a rule that returns `false` is
//! an error at the node (or at its `fieldPath`) with its `messageExpression`,
//! `message` or "failed rule: <rule>".
//!
//! A rule the interpreter cannot run (a function of Kubernetes' CEL libraries it
//! does not have) is not evaluated rather than reported: it would be our
//! limitation, not the object's problem.

use cel::objects::{Key, Map};
use cel::{Context, Program, Value as CelValue};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// One failed rule: the path suffix from `fieldPath` (empty for the node
/// itself) and the message.
pub struct Failure {
    pub field_path: String,
    pub message: String,
}

thread_local! {
    /// The standard functions plus the Kubernetes library ones we model, built once
    /// per thread (a `Context` cannot be shared between threads).
    static ROOT: Context<'static> = root_context();
}

fn root_context() -> Context<'static> {
    let mut context = Context::default();
    // Kubernetes' CEL string library (k8s.io/apiserver/pkg/cel/library, cel-go
    // ext.Strings): the functions CRD rules in the wild use.
    context.add_function(
        "lowerAscii",
        |cel::extractors::This(this): cel::extractors::This<Arc<String>>| this.to_ascii_lowercase(),
    );
    context.add_function(
        "upperAscii",
        |cel::extractors::This(this): cel::extractors::This<Arc<String>>| this.to_ascii_uppercase(),
    );
    context.add_function(
        "trim",
        |cel::extractors::This(this): cel::extractors::This<Arc<String>>| this.trim().to_string(),
    );
    context.add_function(
        "split",
        |cel::extractors::This(this): cel::extractors::This<Arc<String>>,
         separator: Arc<String>| {
            Ok::<_, cel::ExecutionError>(CelValue::List(Arc::new(
                this.split(separator.as_str())
                    .map(|part| CelValue::String(Arc::new(part.to_string())))
                    .collect(),
            )))
        },
    );
    // The crate's `matches` compiles its pattern on every call; Gateway API rules
    // run it on every route: the same function with each pattern compiled once.
    context.add_function(
        "matches",
        |ftx: &cel::FunctionContext,
         cel::extractors::This(this): cel::extractors::This<Arc<String>>,
         pattern: Arc<String>|
         -> cel::ResolveResult {
            match super::compiled(&pattern) {
                Ok(re) => Ok(CelValue::Bool(re.is_match(&this))),
                Err(err) => Err(ftx.error(format!("'{pattern}' not a valid regex:\n{err}"))),
            }
        },
    );
    context.add_function("isURL", |value: Arc<String>| {
        super::formats::check("uri", &value).is_none()
    });
    context
}

/// Whether the interpreter parses `rule` (for the test that every rule of the
/// embedded schemas is understood).
pub fn compiles(rule: &str) -> bool {
    program(rule).is_some()
}

/// Rules that ran into an interpreter error (a function Kubernetes' CEL libraries
/// have and the crate lacks), for the test that counts them; from every thread, as
/// validators check objects on several.
static UNEVALUATED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

/// The rules that could not be evaluated so far.
pub fn unevaluated() -> Vec<String> {
    UNEVALUATED.lock().map(|u| u.clone()).unwrap_or_default()
}

/// The parsed program of a rule, once per process: schemas repeat rules on every
/// object of a kind, and validation runs on short-lived threads.
fn program(rule: &str) -> Option<Arc<Program>> {
    static PROGRAMS: std::sync::LazyLock<Mutex<HashMap<String, Option<Arc<Program>>>>> =
        std::sync::LazyLock::new(Default::default);
    let mut programs = PROGRAMS
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    programs
        .entry(rule.to_string())
        .or_insert_with(|| Program::compile(rule).ok().map(Arc::new))
        .clone()
}

/// Evaluates the rules of one schema node on `value`.
pub fn evaluate(rules: &[Value], value: &Value) -> Vec<Failure> {
    let mut failures = Vec::new();
    let mut converted: Option<CelValue> = None;
    for rule in rules {
        let Some(source) = rule.get("rule").and_then(Value::as_str) else {
            continue;
        };
        if source.contains("oldSelf") {
            continue;
        }
        let Some(program) = program(source) else {
            continue;
        };
        let this = converted.get_or_insert_with(|| to_cel(value)).clone();
        let outcome = ROOT.with(|root| {
            let mut context = root.new_inner_scope();
            context.add_variable_from_value("self", this.clone());
            let result = program.execute(&context);
            let message = match &result {
                Ok(CelValue::Bool(false)) => Some(message(rule, source, &context)),
                // The API server reports a rule that reads an absent field as an
                // error too ("no such key"); other errors are our interpreter's.
                Err(cel::ExecutionError::NoSuchKey(key)) => {
                    Some(format!("no such key: {key} evaluating rule: {source}"))
                }
                Ok(_) => None,
                Err(error) => {
                    // Each rule once, and a bounded list: the CLI validates many
                    // packages in one process.
                    let entry = format!("{source}: {error}");
                    if let Ok(mut u) = UNEVALUATED.lock() {
                        if u.len() < 1000 && !u.contains(&entry) {
                            u.push(entry);
                        }
                    }
                    None
                }
            };
            message
        });
        if let Some(message) = outcome {
            let field_path = rule
                .get("fieldPath")
                .and_then(Value::as_str)
                .unwrap_or("")
                .trim_start_matches('.')
                .to_string();
            failures.push(Failure {
                field_path,
                message,
            });
        }
    }
    failures
}

fn message(rule: &Value, source: &str, context: &Context) -> String {
    if let Some(expression) = rule.get("messageExpression").and_then(Value::as_str) {
        if let Some(program) = program(expression) {
            if let Ok(CelValue::String(text)) = program.execute(context) {
                if !text.trim().is_empty() {
                    return text.to_string();
                }
            }
        }
    }
    match rule.get("message").and_then(Value::as_str) {
        Some(text) if !text.is_empty() => text.to_string(),
        _ => format!("failed rule: {source}"),
    }
}

fn to_cel(value: &Value) -> CelValue {
    match value {
        Value::Null => CelValue::Null,
        Value::Bool(b) => CelValue::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                CelValue::Int(i)
            } else if let Some(u) = n.as_u64() {
                CelValue::UInt(u)
            } else {
                CelValue::Float(n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => CelValue::String(Arc::new(s.clone())),
        Value::Array(items) => CelValue::List(Arc::new(items.iter().map(to_cel).collect())),
        Value::Object(map) => CelValue::Map(Map {
            map: Arc::new(
                map.iter()
                    .map(|(k, v)| (Key::String(Arc::new(k.clone())), to_cel(v)))
                    .collect(),
            ),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn evaluates_rules_on_self_and_skips_transition_rules() {
        let rules = json!([
            {"rule": "self.min <= self.max", "message": "min must not exceed max"},
            {"rule": "self.min == oldSelf.min", "message": "immutable"},
            {"rule": "has(self.name) && self.name.matches('^[a-z]+$')", "fieldPath": ".name"},
            {"rule": "self.name.lowerAscii() == self.name"},
            {"rule": "self.name.split('/')[0].size() < 3", "message": "prefix too long"},
        ]);
        let rules = rules.as_array().unwrap();
        assert!(evaluate(rules, &json!({"min": 1, "max": 2, "name": "a"})).is_empty());
        let failures = evaluate(rules, &json!({"min": 3, "max": 2, "name": "Abc"}));
        let keys = json!([{"rule": "self.all(key, key.split(\"/\")[0].size() < 3)"}]);
        assert!(evaluate(keys.as_array().unwrap(), &json!({"ab/c": 1})).is_empty());
        assert_eq!(
            evaluate(keys.as_array().unwrap(), &json!({"abc/d": 1})).len(),
            1,
            "{:?}",
            unevaluated()
        );
        // (Collected from every thread of the process: only this test's rules count.)
        let ours: Vec<String> = unevaluated()
            .into_iter()
            .filter(|u| {
                rules
                    .iter()
                    .chain(keys.as_array().unwrap())
                    .any(|r| u.starts_with(r["rule"].as_str().unwrap()))
            })
            .collect();
        assert_eq!(ours, Vec::<String>::new());
        let found: Vec<(&str, &str)> = failures
            .iter()
            .map(|f| (f.field_path.as_str(), f.message.as_str()))
            .collect();
        assert_eq!(
            found,
            vec![
                ("", "min must not exceed max"),
                (
                    "name",
                    "failed rule: has(self.name) && self.name.matches('^[a-z]+$')"
                ),
                ("", "failed rule: self.name.lowerAscii() == self.name"),
                ("", "prefix too long"),
            ]
        );
    }

    /// `matches` keeps CEL's meaning (RE2, unanchored) with each pattern compiled
    /// once; a bad pattern is a rule that cannot be evaluated, not a failure.
    #[test]
    fn matches_searches_with_each_pattern_compiled_once() {
        let rules = json!([{"rule": "self.matches('b+c')"}]);
        let rules = rules.as_array().unwrap();
        for _ in 0..3 {
            assert!(evaluate(rules, &json!("abbc!")).is_empty());
            assert_eq!(evaluate(rules, &json!("ac")).len(), 1);
        }
        let bad = json!([{"rule": "self.matches('(unclosed')"}]);
        assert!(evaluate(bad.as_array().unwrap(), &json!("x")).is_empty());
        assert!(
            unevaluated()
                .iter()
                .any(|u| u.starts_with("self.matches('(unclosed')")),
            "{:?}",
            unevaluated()
        );
    }
}
