//! The `entente` binary: arguments in, one library call, a table or `--json` out.
//!
//! Each subcommand lives in its own module under `cmd/`; rendering lives in `output`. Errors travel
//! as `anyhow::Error`; the exit code is chosen once, in [`exit_code_of`]: 2 for bad input (including
//! unknown names and malformed dates), 3 for a policy refusal, 4 for a signature or proof that does
//! not verify (`entente audit verify`), 1 for anything else.

mod cmd;
mod output;

use std::process::ExitCode;

use clap::{CommandFactory, Parser};

// The node allocates and frees many small JSON values per object served; mimalloc does this at a
// fraction of glibc malloc's cost under two busy threads.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Entente: federated defence cooperation between allied nations.
#[derive(Debug, Parser)]
#[command(name = "entente", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: cmd::Command,
}

fn main() -> ExitCode {
    // reqwest's TLS has no crypto provider of its own here: it takes the process default, ring.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            let _ = err.print();
            return if err.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cmd::run(cli.command, Cli::command) {
        Ok(code) => code,
        Err(err) if output::is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_of(&err))
        }
    }
}

/// The one place where an error becomes an exit code.
fn exit_code_of(err: &anyhow::Error) -> u8 {
    use entente_types::ErrorCode::{Forbidden, InvalidInput, NotFound};
    // Bad input and unknown names are 2; a refusal is 3 from the crates that can refuse.
    let class = |code, refuses: bool| match code {
        InvalidInput | NotFound => 2,
        Forbidden if refuses => 3,
        _ => 1,
    };
    for cause in err.chain() {
        if cause.is::<output::UsageError>()
            || cause.is::<entente_node::pki::PkiError>()
            || cause.is::<entente_types::DateError>()
            || cause.is::<entente_types::NationCodeError>()
        {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<entente_audit::keys::KeyError>() {
            if e.audit().is_some_and(|a| a.is_verification_failure()) {
                return 4;
            }
            return class(e.code(), false);
        }
        if let Some(e) = cause.downcast_ref::<entente_audit::AuditError>() {
            if e.is_verification_failure() {
                return 4;
            }
            return class(e.code(), false);
        }
        macro_rules! by_code {
            ($($error:ty => $refuses:expr),* $(,)?) => {$(
                if let Some(e) = cause.downcast_ref::<$error>() {
                    return class(e.code(), $refuses);
                }
            )*};
        }
        by_code!(
            entente_registry::Error => true,
            entente_burden::Error => true,
            entente_exercise::Error => false,
            entente_exercise::outputs::PublisherError => false,
            entente_labels::LabelError => false,
            // A node that cannot start on its configuration (TLS files, store, registry, policies).
            entente_node::NodeError => true,
            entente_federation::FederationError => true,
            entente_federation::serve::ServeError => true,
            entente_federation::setup::SetupError => false,
            entente_store::StoreError => true,
        );
    }
    1
}
