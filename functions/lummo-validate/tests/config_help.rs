//! Every function's `--help` lists its config's keys from the config's type:
//! each key it names is one the function accepts (issue 17: the help said
//! `ipStrategyExcludedIPs`, the function reads `ipStrategyExcludedIps`), and
//! there are keys to list wherever the function takes a config.

use krm_sdk::ResourceList;
use serde_json::json;

fn keys(help: &str) -> Vec<String> {
    // The keys: the lines after the first, up to the notes (after a blank line).
    help.lines()
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter(|line| line.starts_with("      ") && !line.starts_with("       "))
        .filter_map(|line| line.split_whitespace().next())
        .map(|key| key.trim_end_matches(':').to_string())
        .filter(|key| key.chars().all(|c| c.is_ascii_alphanumeric()))
        .collect()
}

#[test]
fn help_names_every_key_the_function_accepts_and_no_other() {
    let mut total = 0;
    for descriptor in lummo_validate::DESCRIPTORS {
        let help = (descriptor.info.config)();
        let keys = keys(&help);
        assert!(
            !keys.is_empty(),
            "{}: no keys in\n{help}",
            descriptor.name()
        );
        for key in keys {
            total += 1;
            let mut list = ResourceList::new(Vec::new());
            list.function_config = Some(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "c"}, "data": {key.clone(): ""}}));
            (descriptor.process)(&mut list);
            for result in &list.results {
                assert!(
                    !result.message.contains("unknown field"),
                    "{}: --help names `{key}`: {}",
                    descriptor.name(),
                    result.message
                );
            }
        }
    }
    assert!(total >= 25, "{total} keys");
}
