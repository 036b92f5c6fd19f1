//! `entente search`, `entente correlate` and `entente match`: a node's holdings as one user may
//! read them, searched, correlated and matched against indicators, straight from its store.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use entente_node::search::SearchView;
use entente_node::Node;
use entente_search::{CorrelationOptions, Observable, Query, Sort};

use crate::cmd::node::{load_config, runtime};
use crate::output::{self, UsageError};

/// Whose view: the node and the user.
#[derive(Debug, clap::Args)]
pub struct Reader {
    /// The node's configuration file.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The user whose view is searched (its nation, clearance and readable collections).
    #[arg(long, value_name = "NAME")]
    user: String,
    /// JSON instead of a table.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, clap::Args)]
pub struct SearchArgs {
    /// The query: words, "quoted text", type:, label:, originator:, added: (2024-08, A..B,
    /// >=A), value: and bare values; -term excludes.
    #[arg(value_name = "QUERY", default_value = "")]
    query: String,
    #[command(flatten)]
    reader: Reader,
    /// relevance, newest, oldest, name, type or originator.
    #[arg(long, default_value = "relevance")]
    sort: String,
    #[arg(long, default_value_t = 50)]
    limit: usize,
    #[arg(long, default_value_t = 0)]
    offset: usize,
}

#[derive(Debug, clap::Args)]
pub struct CorrelateArgs {
    /// An observable value (address, network, domain, URL, e-mail, hash, MAC, AS number, CVE)
    /// or an object's id.
    #[arg(value_name = "VALUE|ID")]
    target: String,
    #[command(flatten)]
    reader: Reader,
    /// Use values on a warning list too (by default they link nothing).
    #[arg(long)]
    include_warned: bool,
    /// Print the graph of references around the object (1 or 2 hops) instead.
    #[arg(long, value_name = "HOPS")]
    graph: Option<usize>,
}

/// The user's search view, from the node's store.
fn view_of(reader: &Reader) -> anyhow::Result<(tokio::runtime::Runtime, Arc<SearchView>)> {
    let config = load_config(&reader.config)?;
    let runtime = runtime()?;
    let view = runtime.block_on(async {
        let node = Node::open(config).await?;
        let user = node.store().user(&reader.user).await?.ok_or_else(|| {
            UsageError(format!(
                "--user {:?}: no such user on this node",
                reader.user
            ))
        })?;
        anyhow::Ok(
            node.search_view(&user, entente_node::clock::today())
                .await?,
        )
    })?;
    Ok((runtime, view))
}

pub fn search(args: SearchArgs) -> anyhow::Result<ExitCode> {
    let query = Query::parse(&args.query).map_err(|e| UsageError(e.to_string()))?;
    let sort = Sort::parse(&args.sort).ok_or_else(|| {
        UsageError(format!(
            "--sort {:?}: one of relevance, newest, oldest, name, type, originator",
            args.sort
        ))
    })?;
    let (_runtime, view) = view_of(&args.reader)?;
    let results = view.search(&query, sort, args.offset, args.limit);
    if args.reader.json {
        output::print_json(&results)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::table(["type", "name", "originator", "label", "id", "warning lists"]);
    for hit in &results.hits {
        let warned: Vec<String> = hit
            .warnings
            .iter()
            .map(|w| format!("{}: {}", w.value, w.lists.join(", ")))
            .collect();
        table.add_row([
            hit.kind.as_str(),
            hit.name.as_str(),
            hit.originator.as_str(),
            hit.label.as_str(),
            hit.id.as_str(),
            &warned.join("; "),
        ]);
    }
    output::print(table)?;
    let facet = |name: &str, counts: &std::collections::BTreeMap<String, usize>| {
        let parts: Vec<String> = counts.iter().map(|(k, n)| format!("{k} {n}")).collect();
        format!("{name}: {}", parts.join(", "))
    };
    output::print(format!(
        "{} of {} objects shown\n{}\n{}\n{}",
        results.hits.len(),
        results.total,
        facet("by type", &results.facets.types),
        facet("by originator", &results.facets.originators),
        facet("by label", &results.facets.labels),
    ))?;
    Ok(ExitCode::SUCCESS)
}

pub fn correlate(args: CorrelateArgs) -> anyhow::Result<ExitCode> {
    let options = CorrelationOptions {
        include_warned: args.include_warned,
    };
    let (_runtime, view) = view_of(&args.reader)?;
    if let Some(hops) = args.graph {
        if !(1..=2).contains(&hops) {
            return Err(UsageError(format!("--graph {hops}: 1 or 2")).into());
        }
        let graph = view.graph(&args.target, hops, 200).ok_or_else(|| {
            UsageError(format!("no object {:?} in this user's view", args.target))
        })?;
        if args.reader.json {
            output::print_json(&graph)?;
            return Ok(ExitCode::SUCCESS);
        }
        let mut table = output::table(["source", "relation", "target"]);
        for e in &graph.edges {
            table.add_row([e.source.as_str(), e.label.as_str(), e.target.as_str()]);
        }
        output::print(table)?;
        output::print(format!(
            "{} objects within {hops} hops{}",
            graph.nodes.len(),
            if graph.truncated { " (truncated)" } else { "" }
        ))?;
        return Ok(ExitCode::SUCCESS);
    }
    let found = if args.target.contains("--") && Observable::guess(&args.target).is_none() {
        view.correlate_object(&args.target, options)
            .ok_or_else(|| UsageError(format!("no object {:?} in this user's view", args.target)))?
    } else {
        let value = Observable::guess(&args.target)
            .with_context(|| {
                format!(
                    "{:?} is neither an object id nor an observable value",
                    args.target
                )
            })
            .map_err(|e| UsageError(e.to_string()))?;
        view.correlate_value(&value, options)
    };
    if args.reader.json {
        output::print_json(&found)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::table(["type", "name", "originator", "id", "through"]);
    for o in &found.objects {
        let through: Vec<String> = o
            .through
            .iter()
            .map(|l| format!("{} ({} of {})", l.value, l.relation.describe(), l.asked))
            .collect();
        table.add_row([
            o.kind.as_str(),
            o.name.as_str(),
            o.originator.as_str(),
            o.id.as_str(),
            &through.join("; "),
        ]);
    }
    output::print(table)?;
    for w in &found.ignored {
        output::print(format!(
            "ignored {} (on {}); --include-warned uses it",
            w.value,
            w.lists.join(", ")
        ))?;
    }
    output::print(format!("{} objects correlate", found.objects.len()))?;
    Ok(ExitCode::SUCCESS)
}

#[derive(Debug, clap::Args)]
pub struct MatchArgs {
    /// A STIX bundle (`-` for standard input): its indicators are matched against the observed
    /// data and observables the user may read, and the user's indicators against its own.
    #[arg(value_name = "BUNDLE")]
    bundle: PathBuf,
    #[command(flatten)]
    reader: Reader,
}

pub fn match_bundle(args: MatchArgs) -> anyhow::Result<ExitCode> {
    let (name, text) = crate::cmd::read_input(&args.bundle, 256 << 20, "a STIX bundle")?;
    let bundle: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{name}: not JSON"))?;
    let objects = bundle
        .get("objects")
        .and_then(serde_json::Value::as_array)
        .ok_or_else(|| UsageError(format!("{name}: no list \"objects\"")))?;
    let (_runtime, view) = view_of(&args.reader)?;
    let report = view.match_bundle(objects);
    if args.reader.json {
        output::print_json(&report)?;
        return Ok(ExitCode::SUCCESS);
    }
    let mut table = output::table(["indicator", "name", "hits", "whose"]);
    for (hits, whose) in [
        (&report.bundle_indicators, "bundle's, on held data"),
        (&report.held_indicators, "held, on the bundle's data"),
    ] {
        for hit in hits {
            table.add_row([
                hit.indicator.as_str(),
                hit.name.as_str(),
                &hit.observations.join(", "),
                whose,
            ]);
        }
    }
    output::print(table)?;
    for problem in &report.problems {
        output::print(format!("not matched: {problem}"))?;
    }
    Ok(ExitCode::SUCCESS)
}
