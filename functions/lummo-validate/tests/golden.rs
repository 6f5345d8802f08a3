#[test]
fn golden() {
    lummo_core::testing::check_function_golden(
        env!("CARGO_MANIFEST_DIR"),
        lummo_validate::INFO.name,
        lummo_validate::process,
    );
}

#[test]
fn embeds_every_upstream_schema() {
    assert_eq!(
        lummo_validate::embedded_schemas().len(),
        lummo_core::testing::upstream_schemas().len()
    );
}
