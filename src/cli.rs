//! The `splitbrain` command line. Exit codes: 0 every verdict as expected, 1 a verdict
//! differs from its variant's expectation, 2 bad input, 3 a search was incomplete.

use crate::architecture::Architecture;
use crate::bench;
use crate::bounds::Bounds;
use crate::check::{CheckOptions, Engine};
use crate::error::Error;
use crate::exhaustive::Limits;
use crate::models;
use crate::random::RandomOptions;
use crate::report::{exit_code, CheckReport};
use crate::system::NetworkKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::time::Duration;

/// Finds the bugs distributed architectures hide.
#[derive(Parser, Debug)]
#[command(name = "splitbrain", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// The catalog: models, variants, properties and expected verdicts.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ListFormat::Text)]
        format: ListFormat,
    },
    /// Check a model's properties and print verdicts and minimal traces.
    Check(CheckArgs),
    /// Write a self-contained HTML report: the matrix and every trace as a diagram.
    Report {
        /// Directory to write index.html into.
        #[arg(long, default_value = "report")]
        out: std::path::PathBuf,
    },
    /// Serve stateright's Explorer for a model on loopback, with actors named.
    Explore(ExploreArgs),
    /// Every model and variant against every property: the article's conclusions, computed.
    Matrix {
        /// Output format.
        #[arg(long, value_enum, default_value_t = MatrixFormat::Text)]
        format: MatrixFormat,
    },
    /// Measure both engines and plain stateright BFS on every variant.
    Bench(BenchArgs),
    /// Write NAME.toml: a commented starter topology that checks cleanly.
    New {
        /// Name of the topology (the file written is NAME.toml; an existing file is kept).
        name: std::path::PathBuf,
    },
}

/// Output formats of `matrix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum MatrixFormat {
    Text,
    Markdown,
    Json,
}

/// Output formats of `list`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ListFormat {
    Text,
    Json,
}

/// Output formats of `check`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Verdicts, then each trace as a numbered story.
    Text,
    /// One JSON object per checked variant, one per line.
    Json,
    /// Each trace as a Mermaid sequence diagram.
    Mermaid,
}

#[derive(Args, Debug)]
struct CheckArgs {
    /// Model name (see `splitbrain list`) or the path of a topology file (.toml).
    model: String,
    /// Variant to check (default: every variant of the model).
    #[arg(long)]
    variant: Option<String>,
    /// Property to check; repeat for several (default: every property).
    #[arg(long = "property")]
    properties: Vec<String>,
    /// Engine: exhaustive BFS (shortest traces) or random schedules (proptest).
    #[arg(long, value_enum, default_value_t = Engine::Bfs)]
    engine: Engine,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    bounds: BoundArgs,
    /// Worker threads. BFS runs on one (the only way to keep traces shortest); the
    /// random engine searches up to this many properties at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// BFS: stop (incomplete) after this many unique states.
    #[arg(long, default_value_t = 5_000_000, value_parser = clap::value_parser!(u64).range(1..))]
    max_states: u64,
    /// BFS: do not expand states deeper than this many steps (incomplete if any would be).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop (incomplete) after this many seconds.
    #[arg(long, value_parser = parse_seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// BFS: stop (incomplete) when splitbrain's memory passes this many megabytes
    /// (default: half of the machine's memory).
    #[arg(long, value_parser = clap::value_parser!(u64).range(16..=16_000_000))]
    max_memory: Option<u64>,
    /// No progress line and no summary line on stderr.
    #[arg(long)]
    quiet: bool,
    /// Random engine: runs per property.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u32).range(1..))]
    cases: u32,
    /// Random engine: seed (the same seed draws the same schedules).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Random engine: longest schedule drawn.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_steps: u64,
}

/// The bound flags shared by `check` and `explore`.
#[derive(Args, Debug)]
struct BoundArgs {
    /// Number of clients.
    #[arg(long)]
    clients: Option<u8>,
    /// Operations per client.
    #[arg(long)]
    ops: Option<u8>,
    /// Number of servers (masters, replicas).
    #[arg(long)]
    servers: Option<u8>,
    /// Starting balance of the account, in dollars.
    #[arg(long, allow_negative_numbers = true)]
    balance: Option<i16>,
    /// Messages the network may lose in one run.
    #[arg(long)]
    loss: Option<u8>,
    /// Servers that may be down at the same time.
    #[arg(long)]
    crashes: Option<u8>,
    /// Network semantics.
    #[arg(long, value_enum)]
    network: Option<NetworkKind>,
}

#[derive(Args, Debug)]
struct ExploreArgs {
    /// Model name (see `splitbrain list`) or the path of a topology file (.toml).
    model: String,
    /// Variant to explore (default: the model's first).
    #[arg(long)]
    variant: Option<String>,
    /// Address to serve on (loopback by default; a port of 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:3000")]
    addr: std::net::SocketAddr,
    #[command(flatten)]
    bounds: BoundArgs,
}

#[derive(Args, Debug)]
struct BenchArgs {
    /// Only these models (default: all).
    #[arg(long = "model")]
    models: Vec<String>,
    /// Internal: measure one run in this process and print it as JSON.
    #[arg(long, hide = true, num_args = 3, value_names = ["MODEL", "VARIANT", "ENGINE"])]
    one: Vec<String>,
}

/// Half of the machine's memory (`MemTotal` in /proc/meminfo), or 4 GB if unknown.
fn default_memory_limit() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(4_000_000_000, |kb| kb * 1024 / 2)
}

fn parse_seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .parse()
        .map_err(|_| format!("'{s}' is not a number of seconds"))?;
    if !v.is_finite() || !(0.001..=1e9).contains(&v) {
        return Err(format!(
            "'{s}' must be a number of seconds between 0.001 and 1000000000"
        ));
    }
    Ok(Duration::from_secs_f64(v))
}

/// Runs the command line; returns the process exit code.
pub fn main_with<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    let result = match cli.command {
        Command::List { format } => list(format),
        Command::Check(a) => check(&a),
        Command::Matrix { format } => matrix(format),
        Command::Explore(a) => explore(&a),
        Command::Report { out } => crate::html::write_report(&out).map(|(reports, path)| {
            println!("wrote {}", path.display());
            exit_code(&reports)
        }),
        Command::Bench(a) => bench::run(&a.models, &a.one),
        Command::New { name } => crate::starter::write(&name).map(|path| {
            println!(
                "wrote {}; check it with: splitbrain check {}",
                path.display(),
                path.display()
            );
            0
        }),
    };
    match result {
        Ok(code) => code,
        Err(Error::BadInput(msg)) => {
            eprintln!("error: {msg}");
            2
        }
    }
}

fn list(format: ListFormat) -> Result<i32, Error> {
    let catalog = models::catalog();
    match format {
        ListFormat::Json => {
            let v: Vec<_> = catalog
                .iter()
                .map(|a| {
                    json!({
                        "model": a.name(),
                        "about": a.about(),
                        "default_bounds": a.default_bounds(),
                        "properties": a.properties(),
                        "variants": a.variants().iter().map(|v| json!({
                            "variant": v.name,
                            "about": v.about,
                            "expected": v.expect.iter().map(|(p, e)| (p.to_string(), json!(e))).collect::<serde_json::Map<_, _>>(),
                        })).collect::<Vec<_>>(),
                        "mutants": a.mutants().iter().map(|m| json!({
                            "variant": m.name,
                            "about": m.about,
                        })).collect::<Vec<_>>(),
                    })
                })
                .collect();
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        ListFormat::Text => {
            for a in catalog {
                println!("{}  {}", a.name(), a.about());
                println!("  bounds: {}", a.default_bounds().describe());
                println!("  properties:");
                for p in a.properties() {
                    println!("    {:<26} {:<10} {}", p.name, p.kind.as_str(), p.claim);
                }
                println!("  variants (expected verdicts):");
                for v in a.variants() {
                    println!("    {:<14} {}", v.name, v.about);
                    let exp: Vec<String> =
                        v.expect.iter().map(|(p, e)| format!("{p}={e}")).collect();
                    println!("    {:<14} {}", "", exp.join(" "));
                }
                if !a.mutants().is_empty() {
                    println!("  mutants (seeded bugs the properties must catch; checkable with --variant):");
                    for m in a.mutants() {
                        println!("    {:<28} {}", m.name, m.about);
                    }
                }
                println!();
            }
        }
    }
    Ok(0)
}

fn matrix(format: MatrixFormat) -> Result<i32, Error> {
    let reports = crate::matrix::compute(&CheckOptions {
        limits: Limits {
            max_memory: Some(default_memory_limit()),
            ..Limits::default()
        },
        ..CheckOptions::default()
    })?;
    match format {
        MatrixFormat::Text => print!("{}", crate::matrix::to_text(&reports)),
        MatrixFormat::Markdown => print!("{}", crate::matrix::to_markdown(&reports)),
        MatrixFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&crate::matrix::to_json(&reports)).unwrap_or_default()
        ),
    }
    Ok(exit_code(&reports))
}

fn explore(args: &ExploreArgs) -> Result<i32, Error> {
    let arch = crate::topology::resolve(&args.model)?;
    let variant = match &args.variant {
        Some(v) => arch.variant(v)?,
        None => &arch.variants()[0],
    };
    arch.explore(variant, &bounds_of(arch, &args.bounds), args.addr)?;
    Ok(0)
}

fn bounds_of(a: &dyn Architecture, args: &BoundArgs) -> Bounds {
    let d = a.default_bounds();
    Bounds {
        clients: args.clients.unwrap_or(d.clients),
        ops: args.ops.unwrap_or(d.ops),
        servers: args.servers.unwrap_or(d.servers),
        balance: args.balance.unwrap_or(d.balance),
        network: args.network.unwrap_or(d.network),
        loss: args.loss.unwrap_or(d.loss),
        crashes: args.crashes.unwrap_or(d.crashes),
    }
}

fn check(args: &CheckArgs) -> Result<i32, Error> {
    let arch = crate::topology::resolve(&args.model)?;
    // Ctrl-C ends the search cleanly: it reports what it found, as incomplete. A second
    // Ctrl-C while the report prints is ignored; the check ends right after.
    let _ = ctrlc::set_handler(|| {
        crate::exhaustive::INTERRUPTED.store(true, std::sync::atomic::Ordering::Relaxed);
    });
    let variants = match &args.variant {
        Some(v) => vec![arch.variant(v)?],
        None => arch.variants().iter().collect(),
    };
    if args.engine == Engine::Bfs && args.threads > 1 {
        return Err(Error::BadInput(format!(
            "--threads {} with --engine bfs: the exhaustive engine runs on one thread, the only way it can promise shortest traces; use --threads with --engine random",
            args.threads
        )));
    }
    let opts = CheckOptions {
        engine: args.engine,
        limits: Limits {
            max_states: Some(args.max_states as usize),
            max_depth: args.max_depth,
            timeout: args.timeout,
            max_memory: Some(
                args.max_memory
                    .map(|mb| mb * 1_000_000)
                    .unwrap_or_else(default_memory_limit),
            ),
        },
        random: RandomOptions {
            cases: args.cases,
            max_steps: args.max_steps as usize,
            seed: args.seed,
        },
        properties: args.properties.clone(),
        threads: args.threads as usize,
        progress: !args.quiet,
    };
    let bounds = bounds_of(arch, &args.bounds);
    let mut reports: Vec<CheckReport> = Vec::new();
    for (i, v) in variants.iter().enumerate() {
        if i > 0 && crate::exhaustive::interrupted() {
            break;
        }
        let r = arch.check(v, &bounds, &opts)?;
        match args.format {
            Format::Text => {
                if i > 0 {
                    println!("{}", "=".repeat(72));
                }
                print!("{}", r.to_text());
            }
            Format::Json => println!("{}", r.to_json()),
            Format::Mermaid => print!("{}", r.to_mermaid()),
        }
        if !args.quiet {
            eprintln!("{}", r.summary());
        }
        reports.push(r);
    }
    Ok(exit_code(&reports))
}
