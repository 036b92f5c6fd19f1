//! Subcommands. Each module defines its clap `Args` and a `run` function that makes one library
//! call and renders the result through `crate::output`.

use std::process::ExitCode;

use crate::output::UsageError;

pub mod audit;
pub mod burden;
pub mod crisis;
pub mod demo;
pub mod docs;
pub mod exercise;
pub mod federation;
pub mod label;
pub mod node;
pub mod picture;
pub mod registry;
pub mod release;
pub mod search;
pub mod user;

#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Alliances, agreements and obligations, as of any date.
    Registry(registry::Args),
    /// Release decisions and tear-lined copies of STIX objects.
    Release(release::Args),
    /// Confidentiality labels: parse a marking, render and convert between marking, JSON and XML.
    Label(label::Args),
    /// Defence expenditure against the NATO guidelines, joint programmes, cost shares, charts.
    Burden(burden::Args),
    /// The demonstration: the shipped registry, walked through.
    Demo(demo::Args),
    /// The fused air picture: track, fuse, score, benchmark.
    Picture(picture::Args),
    /// Joint air policing exercises: validate, run (batch or live, DIS out), review.
    Exercise(exercise::Args),
    /// A national node: TAXII 2.1 server with enforced releasability (`node init` to set one up).
    Node(node::Args),
    /// The users of a node: nation, clearance, collection rights, passwords and tokens.
    User(user::Args),
    /// The verifiable audit log: keys, checkpoints, inclusion and consistency proofs.
    Audit(audit::Args),
    /// Federation between nodes: public identity, partners (export, import, list), rescan.
    Federation(federation::Args),
    /// Crisis rooms at a node: open one for an invoked clause, list, show, close.
    Crisis(crisis::Args),
    /// Search what a user of a node may read: words, fields, values; with facets.
    Search(search::SearchArgs),
    /// Objects a user may read that share a value with a value or an object (or its graph).
    Correlate(search::CorrelateArgs),
    /// A bundle's indicators against what a user may read, and the user's indicators against it.
    Match(search::MatchArgs),
    /// A shell completion script on stdout: bash, zsh, fish, elvish or powershell.
    Completions(docs::CompletionArgs),
    /// Man pages: `entente.1` and one page per subcommand, written to a directory.
    Man(docs::ManArgs),
}

/// Runs a subcommand; `cli` gives the whole command definition (for completions and man pages).
pub fn run(command: Command, cli: impl FnOnce() -> clap::Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Registry(args) => registry::run(args),
        Command::Release(args) => release::run(args),
        Command::Label(args) => label::run(args),
        Command::Burden(args) => burden::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Picture(args) => picture::run(args),
        Command::Exercise(args) => exercise::run(args),
        Command::Node(args) => node::run(args),
        Command::User(args) => user::run(args),
        Command::Audit(args) => audit::run(args),
        Command::Federation(args) => federation::run(args),
        Command::Crisis(args) => crisis::run(args),
        Command::Search(args) => search::search(args),
        Command::Correlate(args) => search::correlate(args),
        Command::Match(args) => search::match_bundle(args),
        Command::Completions(args) => docs::completions(args, cli()),
        Command::Man(args) => docs::man(args, cli()),
    }
}

/// The dataset folder `data/<sub>`: the explicit `--data` flag, else `$ENTENTE_DATA/<sub>`, else
/// `./data/<sub>` when it exists, else the copy in the source tree this binary was built from.
pub fn data_dir(explicit: Option<std::path::PathBuf>, sub: &str) -> std::path::PathBuf {
    if let Some(dir) = explicit {
        return dir;
    }
    if let Some(root) = std::env::var_os("ENTENTE_DATA") {
        return std::path::PathBuf::from(root).join(sub);
    }
    let local = std::path::Path::new("data").join(sub);
    if local.is_dir() {
        return local;
    }
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../data")
        .join(sub)
}

/// The folders `subs` of the data folder `root` (`--data`), else each found by [`data_dir`].
pub fn data_dirs<const N: usize>(
    root: Option<&std::path::Path>,
    subs: [&str; N],
) -> [std::path::PathBuf; N] {
    subs.map(|sub| match root {
        Some(root) => root.join(sub),
        None => data_dir(None, sub),
    })
}

/// The day a query is about: `--at YYYY-MM-DD`, or today (UTC). The only clock read of the CLI.
pub fn parse_day(at: Option<&str>) -> anyhow::Result<entente_types::Date> {
    match at {
        Some(text) => Ok(entente_types::parse_date(text)?),
        None => Ok(entente_node::clock::today()),
    }
}

/// The whole of `file`, or standard input for `-`, as UTF-8 text, with the name messages give it;
/// more than `limit` bytes of `what` is bad input.
pub fn read_input(
    file: &std::path::Path,
    limit: usize,
    what: &str,
) -> anyhow::Result<(String, String)> {
    use std::io::Read as _;
    let stdin = file.as_os_str() == "-";
    let name = if stdin {
        "<stdin>".to_owned()
    } else {
        file.display().to_string()
    };
    let mut bytes = Vec::new();
    let take = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let read = if stdin {
        std::io::stdin().lock().take(take).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(take).read_to_end(&mut bytes))
    };
    read.map_err(|e| UsageError(format!("cannot read {name}: {e}")))?;
    if bytes.len() > limit {
        let message = format!("{name}: too many bytes in {what}: at most {limit}");
        return Err(UsageError(message).into());
    }
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        UsageError(format!(
            "{name}: not UTF-8 text (invalid byte at offset {at})"
        ))
    })?;
    Ok((name, text))
}

/// `NATION=VALUE` arguments of flag `what` (`shape` names the value, e.g. `NATION=NUMBER`), each
/// value read by `value`; a nation named twice is bad input.
pub fn nation_pairs<T, C: FromIterator<(entente_types::NationCode, T)>>(
    items: &[String],
    (what, shape): (&str, &str),
    value: impl Fn(String) -> Result<T, String>,
) -> anyhow::Result<C> {
    let mut seen = std::collections::BTreeSet::new();
    let pair = |item: &String| -> anyhow::Result<(entente_types::NationCode, T)> {
        let (nation, text) = item
            .split_once('=')
            .ok_or_else(|| UsageError(format!("{what}: expected {shape}, found {item:?}")))?;
        let code: entente_types::NationCode = nation.trim().parse()?;
        if !seen.insert(code) {
            return Err(UsageError(format!("{what} names {code} twice")).into());
        }
        let value = value(text.trim().to_owned())
            .map_err(|e| UsageError(format!("{what}: {e} (in {item:?})")))?;
        Ok((code, value))
    };
    items.iter().map(pair).collect()
}
