//! Subcommands. Each module defines its clap `Args` and a `run` function that makes one library
//! call and renders the result through `crate::output`.

use std::process::ExitCode;

pub mod registry;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Alliances, agreements and obligations, as of any date.
    Registry(registry::Args),
}

pub fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Registry(args) => registry::run(args),
    }
}
