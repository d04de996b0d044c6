use std::process::ExitCode;

fn main() -> ExitCode {
    idgate::cli::run()
}
