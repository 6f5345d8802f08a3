//! `lummo completions SHELL`: the shell's completion script, from the clap
//! definition of the commands (so it never drifts from them).

use clap::CommandFactory;

pub fn print(shell: clap_complete::Shell) {
    let mut command = crate::Cli::command();
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut command, "lummo", &mut out);
    let mut script = String::from_utf8_lossy(&out).into_owned();
    if shell == clap_complete::Shell::Bash {
        script = render_output_values(&script);
    }
    crate::emit(&script);
}

/// `render -o` takes `stdout`, `unwrap` or a new folder: clap can say either
/// "one of these words" or "a path", not both, and its bash script offers
/// every file. In the render command's block, offer the two words and folders.
fn render_output_values(script: &str) -> String {
    const FILES: &str = "COMPREPLY=($(compgen -f \"${cur}\"))";
    const VALUES: &str =
        "COMPREPLY=($(compgen -W \"stdout unwrap\" -- \"${cur}\") $(compgen -d -- \"${cur}\"))";
    let mut out = String::with_capacity(script.len());
    let mut in_render = false;
    let mut after_output = false;
    for line in script.lines() {
        let trimmed = line.trim();
        if trimmed.ends_with(')') && trimmed.starts_with("lummo__") {
            in_render = trimmed == "lummo__subcmd__render)" || trimmed == "lummo__render)";
        }
        if in_render && after_output && trimmed == FILES {
            out.push_str(&line.replace(FILES, VALUES));
        } else {
            out.push_str(line);
        }
        out.push('\n');
        after_output = in_render && matches!(trimmed, "--output)" | "-o)");
    }
    out
}
