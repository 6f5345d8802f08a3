fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_validate::INFO, lummo_validate::process)
}
