#[test]
fn golden() {
    lummo_core::testing::check_golden::<lummo_networking::Networking>(env!("CARGO_MANIFEST_DIR"));
}
