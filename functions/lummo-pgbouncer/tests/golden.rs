#[test]
fn golden() {
    lummo_core::testing::check_function_golden(
        env!("CARGO_MANIFEST_DIR"),
        lummo_pgbouncer::INFO.name,
        lummo_pgbouncer::process,
    );
}
