//! `remove-local-config-resources`: drops every object annotated
//! `config.kubernetes.io/local-config: "true"` (kptdev/krm-functions-catalog
//! `functions/go/remove-local-config-resources`), so what remains can be applied
//! to a cluster. No configuration.

use krm_sdk::{ObjectExt, ResourceList, ResultItem};

pub fn process(list: &mut ResourceList) {
    let mut pruned = Vec::new();
    list.items.retain(|item| {
        if !item.is_local_config() {
            return true;
        }
        let mut result = ResultItem::info(format!("Resource name: [{}]", item.name()));
        result.file = item.file_ref();
        pruned.push(result);
        false
    });
    list.results.push(ResultItem::info(format!(
        "Number of resources pruned: {}",
        pruned.len()
    )));
    list.results.extend(pruned);
}
