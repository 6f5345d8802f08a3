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
    let run = |process: fn(&mut ResourceList)| {
        let mut list = ResourceList::parse(INPUT, &Limits::default()).expect("input parses");
        let config =
            krm_sdk::yaml::parse_documents(CONFIG, &Limits::default()).expect("config parses");
        list.function_config = config.into_iter().next();
        process(&mut list);
        list
    };
    let pgbouncer = run(lummo_core::function::process::<PgBouncer>);
    let service = pgbouncer
        .items
        .iter()
        .find(|i| i.kind() == "Service")
        .expect("a Service");
    let port = service.value()["spec"]["ports"][0]["port"]
        .as_i64()
        .expect("a port");
    let catalog = run(lummo_core::function::process::<Backstage>);
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
