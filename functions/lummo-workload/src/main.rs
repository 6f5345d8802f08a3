fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_workload::INFO, lummo_workload::process)
}
