//! Rendering shared by every subcommand: JSON on stdout, readable tables, and the usage error type.

use std::io::{self, Write};

use std::process::ExitCode;

use comfy_table::{presets, ContentArrangement, Table};
use entente_types::report::{Block, Report, ToReport};

/// Bad input found by the CLI itself (exit code 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Writes `value` as pretty JSON and a newline on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

/// A result as `--json` (its `Serialize`) or as its text report.
pub fn emit<T: serde::Serialize + ToReport>(json: bool, value: &T) -> anyhow::Result<ExitCode> {
    if json {
        print_json(value)?;
    } else {
        show(&value.report())?;
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints a report's lines and tables in order, the tables in the house style.
pub fn show(report: &Report) -> anyhow::Result<()> {
    for block in &report.blocks {
        match block {
            Block::Text(text) => print(text)?,
            Block::Table(t) => print(draw(t))?,
        }
    }
    Ok(())
}

/// A library's table in the house style.
pub fn draw(t: &entente_types::report::Table) -> Table {
    let mut table = table(&t.header);
    for row in &t.rows {
        table.add_row(row);
    }
    table
}

/// A table with the house style: a header row, no outer frame decoration beyond light lines.
pub fn table<I, S>(header: I) -> Table
where
    I: IntoIterator<Item = S>,
    S: Into<comfy_table::Cell>,
{
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(header);
    // Off a terminal (pipes, files, tests) there is no width to wrap to: keep lines readable.
    if table.width().is_none() {
        table.set_width(120);
    }
    table
}

/// Prints text (a table or lines) on stdout.
pub fn print(text: impl std::fmt::Display) -> anyhow::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// Whether the error is a closed stdout (e.g. `entente … | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                .is_some_and(|k| k == io::ErrorKind::BrokenPipe)
    })
}
