//! The entry point that makes a function's `main` a few lines: arguments, stdin,
//! stdout, stderr and the exit code are handled here.

use crate::resource_list::{Format, ResourceList};
use crate::result::ResultItem;
use crate::yaml::Limits;
use std::io::{IsTerminal, Read, Write};
use std::process::ExitCode;

/// What `--help` says about a function.
#[derive(Debug, Clone, Copy)]
pub struct FunctionInfo {
    pub name: &'static str,
    pub version: &'static str,
    /// One paragraph: what the function reads and what it generates.
    pub about: &'static str,
    /// The functionConfig it accepts (made from the config's type, so it can
    /// name no key the function refuses).
    pub config: fn() -> String,
}

impl FunctionInfo {
    pub fn help(&self) -> String {
        format!(
            "{name} {version}\n\n{about}\n\nUSAGE:\n    {name} < resource-list.yaml > out.yaml\n    kpt fn eval --exec ./{name} <package>\n\n\
             Reads a KRM ResourceList (YAML or JSON) or a plain stream of YAML objects on stdin and\n\
             writes the result to stdout in the same form. Exits 1 when any result is an error;\n\
             the items are then returned unchanged.\n\nFUNCTION CONFIG:\n{config}\n\nOPTIONS:\n    -h, --help       Print this help\n    -V, --version    Print the version\n",
            name = self.name,
            version = self.version,
            about = self.about,
            config = (self.config)(),
        )
    }
}

/// Output and exit code of one run over an input text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub stdout: String,
    /// Short diagnostics for a terminal (kpt prints them).
    pub stderr: String,
    pub exit_code: u8,
}

/// Runs `process` as a KRM function: parses arguments, reads stdin, writes stdout.
pub fn run(info: &FunctionInfo, process: impl FnOnce(&mut ResourceList)) -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("-h" | "--help") => return print(&info.help(), 0),
        Some("-V" | "--version") => return print(&format!("{} {}\n", info.name, info.version), 0),
        Some(other) => {
            eprintln!("{}: unexpected argument `{other}`; see --help", info.name);
            return ExitCode::from(1);
        }
        None => {}
    }
    if std::io::stdin().is_terminal() {
        return print(&info.help(), 0);
    }
    run_stdin(info.name, process)
}

/// The body of [`run`] without argument parsing: stdin in, stdout and stderr out,
/// the exit code back. For programs that pick the function themselves.
pub fn run_stdin(name: &str, process: impl FnOnce(&mut ResourceList)) -> ExitCode {
    let limits = Limits::default();
    let input = match read_stdin(limits.max_bytes) {
        Ok(input) => input,
        Err(message) => {
            let outcome = failed_input(name, ResultItem::error(message));
            return emit(outcome);
        }
    };
    let (outcome, list) = process_list(name, &input, &limits, process);
    // The process ends right after: freeing thousands of small values one by one
    // would only cost time (10% of a 10,000-object run).
    std::mem::forget(list);
    emit(outcome)
}

/// Runs `process` over an input text, exactly as [`run`] does over stdin.
pub fn process_text(
    name: &str,
    input: &str,
    limits: &Limits,
    process: impl FnOnce(&mut ResourceList),
) -> Outcome {
    process_list(name, input, limits, process).0
}

fn process_list(
    name: &str,
    input: &str,
    limits: &Limits,
    process: impl FnOnce(&mut ResourceList),
) -> (Outcome, Option<ResourceList>) {
    let mut list = match ResourceList::parse(input, limits) {
        Ok(list) => list,
        Err(e) => return (failed_input(name, ResultItem::error(e.to_string())), None),
    };
    process(&mut list);
    sort_results(&mut list.results);
    let failed = list.failed();
    let stderr = summary(name, &list.results, list.format == Format::Stream);
    let stdout = if failed && list.format == Format::Stream {
        String::new()
    } else {
        list.write()
    };
    (
        Outcome {
            stdout,
            stderr,
            exit_code: u8::from(failed),
        },
        Some(list),
    )
}

/// Errors first, then warnings and infos, each in the order they were found.
fn sort_results(results: &mut [ResultItem]) {
    results.sort_by_key(|r| r.severity);
}

/// A ResourceList holding only the error, since no input could be read.
fn failed_input(name: &str, error: ResultItem) -> Outcome {
    let mut list = ResourceList::new(Vec::new());
    list.results.push(error);
    Outcome {
        stdout: list.write(),
        stderr: summary(name, &list.results, false),
        exit_code: 1,
    }
}

/// Errors in full when there are few; otherwise a count. Stream mode has no
/// ResourceList to carry results, so every result goes to stderr there.
fn summary(name: &str, results: &[ResultItem], all: bool) -> String {
    let shown: Vec<&ResultItem> = results.iter().filter(|r| all || r.is_error()).collect();
    let mut out = String::new();
    for result in shown.iter().take(if all { usize::MAX } else { 5 }) {
        out.push_str(&format!("{name}: {result}\n"));
    }
    if shown.len() > 5 && !all {
        out.push_str(&format!(
            "{name}: ... and {} more errors\n",
            shown.len() - 5
        ));
    }
    out
}

fn read_stdin(max_bytes: usize) -> Result<String, String> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .lock()
        .take(max_bytes as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read stdin: {e}"))?;
    if bytes.len() > max_bytes {
        return Err(format!(
            "input is larger than the limit of {max_bytes} bytes"
        ));
    }
    String::from_utf8(bytes).map_err(|e| {
        format!(
            "input is not UTF-8: invalid byte at offset {}",
            e.utf8_error().valid_up_to()
        )
    })
}

fn emit(outcome: Outcome) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    // A closed stdout (e.g. `| head`) is not worth a panic; the exit code still tells.
    let _ = stdout.write_all(outcome.stdout.as_bytes());
    let _ = stdout.flush();
    eprint!("{}", outcome.stderr);
    ExitCode::from(outcome.exit_code)
}

fn print(text: &str, code: u8) -> ExitCode {
    let _ = std::io::stdout().write_all(text.as_bytes());
    ExitCode::from(code)
}
