#[test]
fn golden() {
    lummo_core::testing::check_golden::<lummo_pgbouncer::PgBouncer>(env!("CARGO_MANIFEST_DIR"));
}
