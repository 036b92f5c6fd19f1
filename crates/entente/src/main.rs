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
    use entente_types::ErrorCode;
    for cause in err.chain() {
        if cause.downcast_ref::<output::UsageError>().is_some() {
            return 2;
        }
        if let Some(e) = cause.downcast_ref::<entente_registry::Error>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                ErrorCode::Forbidden => 3,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_burden::Error>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                ErrorCode::Forbidden => 3,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_exercise::Error>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_audit::keys::KeyError>() {
            if e.audit().is_some_and(|a| a.is_verification_failure()) {
                return 4;
            }
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_audit::AuditError>() {
            if e.is_verification_failure() {
                return 4;
            }
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_labels::LabelError>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                _ => 1,
            };
        }
        // A node that cannot start on its configuration (TLS files, store, registry, policies).
        if let Some(e) = cause.downcast_ref::<entente_node::NodeError>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                ErrorCode::Forbidden => 3,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_federation::FederationError>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                ErrorCode::Forbidden => 3,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_federation::setup::SetupError>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                _ => 1,
            };
        }
        if let Some(e) = cause.downcast_ref::<entente_store::StoreError>() {
            return match e.code() {
                ErrorCode::InvalidInput | ErrorCode::NotFound => 2,
                ErrorCode::Forbidden => 3,
                _ => 1,
            };
        }
        if cause
            .downcast_ref::<entente_node::pki::PkiError>()
            .is_some()
        {
            return 2;
        }
        if cause.downcast_ref::<entente_types::DateError>().is_some()
            || cause
                .downcast_ref::<entente_types::NationCodeError>()
                .is_some()
        {
            return 2;
        }
    }
    1
}
