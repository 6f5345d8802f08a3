#[test]
fn golden() {
    lummo_core::testing::check_golden::<lummo_pubsub::PubSub>(env!("CARGO_MANIFEST_DIR"));
}
