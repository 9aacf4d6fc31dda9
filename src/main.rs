use clap::Parser;
use mqttspec::app;
use mqttspec::cli::Cli;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    ExitCode::from(app::main(cli).code())
}
