#[test]
fn golden() {
    lummo_core::testing::check_golden::<lummo_workload::Workload>(env!("CARGO_MANIFEST_DIR"));
}
