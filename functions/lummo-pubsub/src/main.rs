fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_pubsub::INFO, lummo_pubsub::process)
}
