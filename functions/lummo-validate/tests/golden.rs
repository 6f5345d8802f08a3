#[test]
fn golden() {
    lummo_core::testing::check_golden::<lummo_validate::Validate>(env!("CARGO_MANIFEST_DIR"));
}

#[test]
fn embeds_every_upstream_schema() {
    assert_eq!(
        lummo_validate::embedded_schemas().len(),
        lummo_core::testing::upstream_schemas().len()
    );
}
