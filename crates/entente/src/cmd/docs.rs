//! `entente completions SHELL` and `entente man --out DIR`: shell completion scripts and man pages,
//! generated from the command definitions so that they never drift from the binary.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::json;

use crate::output;

#[derive(Debug, clap::Args)]
pub struct CompletionArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: clap_complete::Shell,
}

#[derive(Debug, clap::Args)]
pub struct ManArgs {
    /// The directory to write `entente.1` and `entente-<subcommand>….1` into (created if needed).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    #[arg(long)]
    json: bool,
}

/// Writes the completion script for `args.shell` on stdout.
pub fn completions(args: CompletionArgs, mut command: clap::Command) -> anyhow::Result<ExitCode> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, "entente", &mut script);
    // Written here rather than by the generator, so that a closed pipe is an error, not a panic.
    std::io::stdout().lock().write_all(&script)?;
    Ok(ExitCode::SUCCESS)
}

/// Moves a page's `.TH` title line to the top, where man(7) and the tools that index pages expect
/// it (the generator puts its quote-string definitions first; they need only precede their use).
fn title_first(page: &Path) -> anyhow::Result<()> {
    let text =
        std::fs::read_to_string(page).with_context(|| format!("cannot read {}", page.display()))?;
    let Some(title) = text.lines().find(|line| line.starts_with(".TH ")) else {
        return Ok(());
    };
    let rest: Vec<&str> = text.lines().filter(|line| *line != title).collect();
    let reordered = format!("{title}\n{}\n", rest.join("\n"));
    std::fs::write(page, reordered).with_context(|| format!("cannot write {}", page.display()))
}

/// Writes one man page for the command and one for every subcommand, nested ones included.
pub fn man(args: ManArgs, command: clap::Command) -> anyhow::Result<ExitCode> {
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create {}", args.out.display()))?;
    clap_mangen::generate_to(command, &args.out)
        .with_context(|| format!("cannot write man pages to {}", args.out.display()))?;
    let mut pages: Vec<String> = std::fs::read_dir(&args.out)
        .with_context(|| format!("cannot read {}", args.out.display()))?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with("entente") && name.ends_with(".1"))
        .collect();
    pages.sort();
    for page in &pages {
        title_first(&args.out.join(page))?;
    }
    if args.json {
        output::print_json(&json!({"dir": args.out.display().to_string(), "pages": pages}))?;
    } else {
        output::print(format!(
            "wrote {} man pages to {}",
            pages.len(),
            args.out.display()
        ))?;
    }
    Ok(ExitCode::SUCCESS)
}
