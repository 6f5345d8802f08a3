fn main() -> std::process::ExitCode {
    krm_sdk::run(&lummo_pgbouncer::INFO, lummo_pgbouncer::process)
}
