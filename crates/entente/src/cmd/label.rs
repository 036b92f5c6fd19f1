//! `entente label …`: read a confidentiality label in any of its three forms (marking, STIX JSON,
//! STANAG 4774 XML), show it, and convert it to another form.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use entente_labels::forms::{self, read_any, read_marking};
use entente_labels::{render_marking, stix, xml, PolicySet};

use crate::cmd::{data_dir, read_input};
use crate::output;

/// The largest label file read, in bytes (the XML form's own limit).
const MAX_INPUT_BYTES: usize = xml::MAX_XML_BYTES;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The policies folder (default: the shipped data/policies).
    #[arg(long, global = true, value_name = "DIR")]
    policies: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Read a marking, e.g. "NATO SECRET//REL TO FRA, GBR, USA", and print the label's fields.
    Parse {
        /// The marking.
        marking: String,
        /// Print the label as a STIX 2.1 marking-definition instead.
        #[arg(long)]
        json: bool,
    },
    /// Print the marking of a label held in FILE, in any form (detected by its content:
    /// `{` JSON, `<` XML, otherwise a marking).
    Render {
        /// The file, or `-` for standard input.
        file: PathBuf,
    },
    /// Read a label in any form and write it in another.
    Convert {
        /// The form to write.
        #[arg(long, value_enum)]
        to: Form,
        /// The file, or `-` for standard input (the default).
        file: Option<PathBuf>,
    },
}

/// A form of a label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Form {
    /// STANAG 4774 XML.
    Xml,
    /// A STIX 2.1 marking-definition carrying the label.
    Json,
    /// The human marking, e.g. `NATO SECRET//REL TO FRA, GBR, USA`.
    Marking,
}

pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let dir = data_dir(args.policies, "policies");
    let policies = PolicySet::load(&dir)
        .with_context(|| format!("cannot load the policies in {}", dir.display()))?;
    match args.command {
        Command::Parse { marking, json } => {
            let label = read_marking(&policies, &marking)?;
            if json {
                output::print_json(&stix::to_marking_definition(&policies, &label)?)?;
            } else {
                output::print(forms::describe(&policies, &label)?)?;
            }
        }
        Command::Render { file } => {
            let (name, text) = read_input(&file, MAX_INPUT_BYTES, "a label")?;
            let label = read_any(&policies, &text).with_context(|| name.clone())?;
            output::print(render_marking(&policies, &label)?)?;
        }
        Command::Convert { to, file } => {
            let file = file.unwrap_or_else(|| PathBuf::from("-"));
            let (name, text) = read_input(&file, MAX_INPUT_BYTES, "a label")?;
            let label = read_any(&policies, &text).with_context(|| name.clone())?;
            match to {
                Form::Marking => output::print(render_marking(&policies, &label)?)?,
                Form::Json => output::print_json(&stix::to_marking_definition(&policies, &label)?)?,
                Form::Xml => output::print(xml::to_xml(&policies, &label)?.trim_end())?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
