//! The database Resource names the port of the Service lummo-pgbouncer generates
//! for the same spec: the one the app connects to (issue #30 item 8).

use krm_sdk::yaml::Limits;
use krm_sdk::{ObjectExt, ResourceList};
use lummo_backstage::Backstage;
use lummo_pgbouncer::PgBouncer;

/// A whole app's package, and the catalog's config (an owner for the Resource).
const INPUT: &str = include_str!("../testdata/tokko-api/input.yaml");
const CONFIG: &str = include_str!("../testdata/tokko-api/config.yaml");

#[test]
fn database_resource_names_the_pgbouncer_service_port() {
    // The catalog's config is Backstage's own kind; pgbouncer runs without one.
    let run = |process: fn(&mut ResourceList), config: Option<&str>| {
        let mut list = ResourceList::parse(INPUT, &Limits::default()).expect("input parses");
        list.function_config = config.map(|config| {
            let read = krm_sdk::yaml::parse_documents(config, &Limits::default());
            read.expect("config parses").remove(0)
        });
        process(&mut list);
        assert!(!list.has_errors(), "{:?}", list.results);
        list
    };
    let pgbouncer = run(lummo_core::function::process::<PgBouncer>, None);
    let service = pgbouncer
        .items
        .iter()
        .find(|i| i.kind() == "Service")
        .expect("a Service");
    let port = service.value()["spec"]["ports"][0]["port"]
        .as_i64()
        .expect("a port");
    let catalog = run(lummo_core::function::process::<Backstage>, Some(CONFIG));
    let resource = catalog
        .items
        .iter()
        .find(|i| i.kind() == "Resource" && i.value()["spec"]["type"] == "database")
        .expect("a database Resource");
    let description = resource.value()["metadata"]["description"]
        .as_str()
        .expect("a description")
        .to_string();
    assert!(
        description.contains(&format!("port {port})")),
        "{description} does not name the Service port {port}"
    );
}
