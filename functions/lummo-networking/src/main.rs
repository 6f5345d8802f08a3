fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_networking::INFO, lummo_networking::process)
}
