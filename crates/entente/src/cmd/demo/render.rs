//! How `entente demo` shows what the demonstration does: text and tables on stdout in the house
//! style, one progress bar per receiving nation on stderr, and the demonstration's errors turned
//! back into the libraries' own, from which `main` chooses the exit code.

use std::io::{self, IsTerminal as _, Write as _};

use entente_demo::{Crisis, Delivery, DemoError, Progress, Table};
use entente_types::report::{Block, ToReport as _};
use entente_types::NationCode;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};

use crate::output::{self, UsageError};

/// Stdout for text and tables; stderr for the delivery bars (hidden off a terminal).
#[derive(Default)]
pub struct Terminal {
    bars: Option<MultiProgress>,
    /// Each receiving nation's bar and the number of objects it should receive.
    nations: Vec<(NationCode, ProgressBar, usize)>,
}

impl Terminal {
    /// The wait is over: the bars go (what they last drew stays on the terminal).
    fn done(&mut self) {
        self.nations.clear();
        self.bars = None;
    }

    fn bar(&self, nation: NationCode) -> Option<&ProgressBar> {
        self.nations
            .iter()
            .find(|(n, _, _)| *n == nation)
            .map(|(_, bar, _)| bar)
    }
}

impl Progress for Terminal {
    fn text(&mut self, text: &str) -> io::Result<()> {
        writeln!(io::stdout().lock(), "{text}")
    }

    fn table(&mut self, table: &Table) -> io::Result<()> {
        writeln!(io::stdout().lock(), "{}", output::draw(table))
    }

    fn delivery(&mut self, step: Delivery<'_>) -> io::Result<()> {
        match step {
            Delivery::Started(wanted) => {
                let bars = MultiProgress::new();
                let style = ProgressStyle::with_template(
                    "{prefix:>4} [{bar:30}] {pos:>2}/{len:<2} received {msg}",
                )
                .map(|s| s.progress_chars("=> "))
                .unwrap_or_else(|_| ProgressStyle::default_bar());
                self.nations = wanted
                    .iter()
                    .map(|&(nation, count)| {
                        let bar = bars.add(ProgressBar::new(count as u64));
                        bar.set_style(style.clone());
                        bar.set_prefix(nation.to_string());
                        (nation, bar, count)
                    })
                    .collect();
                self.bars = Some(bars);
            }
            Delivery::Held {
                nation,
                held,
                wanted,
            } => {
                if let Some(bar) = self.bar(nation) {
                    bar.set_position(held as u64);
                    if held == wanted {
                        bar.set_message("complete");
                    }
                }
            }
            Delivery::Unexpected(nation) => {
                if let Some(bar) = self.bar(nation) {
                    bar.abandon_with_message("UNEXPECTED OBJECT");
                }
                self.done();
            }
            Delivery::Complete => {
                for (_, bar, _) in &self.nations {
                    bar.finish();
                }
                // Bars are hidden when stderr is not a terminal: the summary goes to stdout too.
                if !io::stderr().is_terminal() {
                    let mut out = io::stdout().lock();
                    for (nation, _, count) in &self.nations {
                        writeln!(out, "  {nation} received {count}/{count}")?;
                    }
                }
                self.done();
            }
            Delivery::TimedOut => {
                for (_, bar, _) in &self.nations {
                    bar.abandon();
                }
                self.done();
            }
        }
        Ok(())
    }

    fn crisis(&mut self, step: Crisis<'_>) -> io::Result<()> {
        let mut out = io::stdout().lock();
        match step {
            Crisis::Opened {
                host,
                invocation,
                detail,
            } => {
                writeln!(
                    out,
                    "{host}'s officer opened the room of the recorded request {invocation}, as of {}:",
                    detail.room.as_of
                )?;
                // The room's own report: its heading, who is in it and why, the changes since.
                for block in &detail.report().blocks {
                    match block {
                        Block::Text(text) => writeln!(out, "{text}")?,
                        Block::Table(t) => writeln!(out, "{}", output::draw(t))?,
                    }
                }
                writeln!(
                    out,
                    "Waiting for the room to reach the participants' nodes:"
                )?;
            }
            Crisis::Reached { nation, after } => writeln!(
                out,
                "  {nation} holds the room ({:.1} s after it was opened)",
                after.as_secs_f64()
            )?,
            Crisis::Missing { nation } => writeln!(
                out,
                "  {nation} DID NOT RECEIVE THE ROOM in time, though a participant"
            )?,
            Crisis::Outside { nation, holds } => {
                if holds {
                    writeln!(out, "  {nation} HOLDS THE ROOM, though not a participant")?;
                } else {
                    writeln!(
                        out,
                        "  {nation} knows nothing of the room (not a participant)"
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// The demonstration's error as the binary's: a usage error stays one (exit code 2), and the
/// libraries' errors come out whole under their context, as `main`'s exit code expects.
pub fn into_anyhow(error: DemoError) -> anyhow::Error {
    match error {
        DemoError::Usage(message) => UsageError(message).into(),
        DemoError::Message(message) => anyhow::Error::msg(message),
        DemoError::Context { context, source } => into_anyhow(*source).context(context),
        DemoError::Registry(e) => e.into(),
        DemoError::Label(e) => e.into(),
        DemoError::Policy(e) => e.into(),
        DemoError::Stix(e) => e.into(),
        DemoError::Store(e) => e.into(),
        DemoError::Node(e) => e.into(),
        DemoError::Pki(e) => e.into(),
        DemoError::Federation(e) => e.into(),
        DemoError::Audit(e) => e.into(),
        DemoError::Seal(e) => e.into(),
        DemoError::Date(e) => e.into(),
        DemoError::Nation(e) => e.into(),
        DemoError::Io(e) => e.into(),
        DemoError::Json(e) => e.into(),
        DemoError::Http(e) => e.into(),
    }
}
