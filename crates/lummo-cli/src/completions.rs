//! `lummo completions SHELL`: the shell's completion script, from the clap
//! definition of the commands (so it never drifts from them).

use clap::CommandFactory;

pub fn print(shell: clap_complete::Shell) {
    let mut command = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "lummo", &mut out);
    crate::emit(&String::from_utf8_lossy(&out));
}
