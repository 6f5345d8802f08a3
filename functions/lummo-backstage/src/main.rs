fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_backstage::INFO, lummo_backstage::process)
}
