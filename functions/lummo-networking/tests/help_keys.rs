//! Every functionConfig key `--help` names is one the function accepts (issue 17:
//! the help said `ipStrategyExcludedIPs`, the function reads `ipStrategyExcludedIps`).

#[test]
fn help_names_only_accepted_keys() {
    let mut keys = Vec::new();
    for line in <lummo_networking::Config as lummo_core::function::FunctionConfig>::HELP.lines().skip(1) {
        for part in line.split(" / ") {
            let word = part.trim().split([':', ' ']).next().unwrap_or("");
            if !word.is_empty() && word.chars().all(|c| c.is_ascii_alphanumeric()) {
                keys.push(word.to_string());
            }
        }
    }
    assert!(keys.len() >= 10, "{keys:?}");
    for key in keys {
        let config = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}, "data": {key.clone(): ""}});
        let result = krm_sdk::function_config::<lummo_networking::Config>(Some(&config), lummo_networking::CONFIG_KIND);
        for error in result.err().into_iter().flatten() {
            assert!(!error.message.contains("unknown field"), "--help names `{key}`: {}", error.message);
        }
    }
}
