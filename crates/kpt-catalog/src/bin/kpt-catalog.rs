//! `kpt-catalog <function>`: one catalog function over a ResourceList on stdin,
//! for kpt's `exec:` steps and `kpt fn eval --exec`.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = format!(
        "usage: kpt-catalog <function>[:<tag>] < resource-list.yaml\nfunctions: {}\n",
        kpt_catalog::NAMES.join(", ")
    );
    let Some(name) = args.first() else {
        eprint!("{usage}");
        return ExitCode::from(1);
    };
    if name == "-h" || name == "--help" {
        print!("{usage}");
        return ExitCode::SUCCESS;
    }
    if args.len() > 1 {
        eprintln!("kpt-catalog: unexpected argument `{}`\n{usage}", args[1]);
        return ExitCode::from(1);
    }
    let Some(function) = kpt_catalog::lookup(name) else {
        eprintln!("kpt-catalog: unknown function `{name}`\n{usage}");
        return ExitCode::from(1);
    };
    if !function.over_text() {
        return krm_sdk::run::run_stdin(function.name, |list| function.run(list));
    }
    // A function over the text (Starlark: its stderr is what the script printed).
    let mut input = String::new();
    if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin().lock(), &mut input) {
        eprintln!("kpt-catalog: cannot read stdin: {e}");
        return ExitCode::from(1);
    }
    let outcome = function.filter(&input);
    let _ = std::io::Write::write_all(&mut std::io::stdout().lock(), outcome.stdout.as_bytes());
    eprint!("{}", outcome.stderr);
    ExitCode::from(outcome.exit_code)
}
