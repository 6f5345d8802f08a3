fn main() -> std::process::ExitCode {
    lummo_core::function::main::<lummo_backstage::Backstage>()
}
