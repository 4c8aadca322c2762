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
use crate::reduction::Reduce;
use crate::report::{exit_code, CheckReport};
use crate::shard::{Shard, ShardFile};
use crate::system::NetworkKind;
use clap::{Args, Parser, Subcommand, ValueEnum};
use serde_json::json;
use std::path::PathBuf;
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
    /// Combine the shard results in a directory (written by `check --shard I/N --out-dir`).
    Merge(MergeArgs),
    /// Print (or write) a Slurm job script that runs a search in shards, then merges them.
    Slurm(SlurmArgs),
    /// Reproduce a model's minimal counterexample on real database servers on loopback.
    Replay(ReplayArgs),
    /// Check a history recorded from a real system (Jepsen log, history.edn, JSON) for
    /// linearizability: exit 0 holds, 1 violated, 2 bad input, 3 unknown (a limit hit).
    History(HistoryArgs),
}

/// Real systems `replay` runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ReplayTarget {
    Postgres,
    Mariadb,
}

#[derive(Args, Debug)]
struct ReplayArgs {
    /// Model name: read-replica, central-db (PostgreSQL) or master-master (MariaDB).
    model: String,
    /// Variant (default: the model's first variant that breaks the property). A fixed
    /// variant replays the workload and schedule that broke the unfixed one.
    #[arg(long)]
    variant: Option<String>,
    /// Property judged on the real client history (default: the scenario's).
    #[arg(long)]
    property: Option<String>,
    /// The real system (default: the model's).
    #[arg(long, value_enum)]
    target: Option<ReplayTarget>,
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
    #[command(flatten)]
    search: SearchArgs,
    /// Random and swarm search: make only part I of N (runs k with k % N == I, I from 0).
    /// The parts together make exactly the whole search. Default: the Slurm array task
    /// (SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT) when those are set.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Also write the result, for `splitbrain merge`, to FILE (atomically).
    #[arg(long, value_name = "FILE", conflicts_with = "out_dir")]
    out: Option<PathBuf>,
    /// Also write the result, for `splitbrain merge`, to DIR/shard-I-of-N.json (atomically).
    #[arg(long, value_name = "DIR")]
    out_dir: Option<PathBuf>,
}

/// What to check and how: the arguments `check` and `slurm` share.
#[derive(Args, Debug)]
struct SearchArgs {
    /// Model name (see `splitbrain list`) or the path of a topology file (.toml).
    model: String,
    /// Variant to check (default: every variant of the model).
    #[arg(long)]
    variant: Option<String>,
    /// Property to check; repeat for several (default: every property).
    #[arg(long = "property")]
    properties: Vec<String>,
    /// Engine: exhaustive BFS (shortest traces), random schedules (proptest), or a swarm
    /// of diversified bounded depth-first searches (finds violations, never proves).
    #[arg(long, value_enum, default_value_t = Engine::Bfs)]
    engine: Engine,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    #[command(flatten)]
    bounds: BoundArgs,
    /// Worker threads. BFS expands each level on this many threads and merges what they
    /// find in a fixed order (same states, verdicts and shortest traces on any number);
    /// the random engine searches up to this many properties at once, a swarm makes this
    /// many searches at once.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    threads: u16,
    /// BFS: state-space reduction. `por` leaves out orders of steps that cannot change a
    /// verdict and crashes that only delay (partial-order reduction), and forgets
    /// messages nobody will read: same verdicts, fewer states, traces still the shortest
    /// (confirmed by a search without step sets to their depth). `symmetry` searches states that
    /// differ only by which interchangeable server is which once (where the model
    /// declares such servers). `all`: both.
    #[arg(long, value_enum, default_value_t = Reduce::None)]
    reduce: Reduce,
    /// Stop (incomplete) after this many unique states: BFS (default 5,000,000), or each
    /// search of a swarm (default 100,000).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    max_states: Option<u64>,
    /// BFS and swarm: do not expand states deeper than this many steps (BFS: incomplete
    /// if any would be).
    #[arg(long)]
    max_depth: Option<usize>,
    /// Stop (incomplete) after this many seconds: each variant's search gets this much
    /// (a check of every variant may take as many times as there are variants).
    #[arg(long, value_parser = parse_seconds, allow_negative_numbers = true)]
    timeout: Option<Duration>,
    /// BFS: stop (incomplete) when splitbrain's memory passes this many megabytes
    /// (default: half of the machine's or the container's memory, the smaller).
    #[arg(long, value_parser = clap::value_parser!(u64).range(16..=16_000_000))]
    max_memory: Option<u64>,
    /// No progress line and no summary line on stderr.
    #[arg(long)]
    quiet: bool,
    /// Random engine: runs per property (default 2,000). Swarm: depth-first searches
    /// (default 8).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..))]
    cases: Option<u32>,
    /// Random engine and swarm: seed (the same seed draws the same schedules and orders).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Random engine: longest schedule drawn.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    max_steps: u64,
}

/// Default runs of a random search, per property.
const RANDOM_CASES: u32 = 2_000;
/// Default searches of a swarm.
const SWARM_SEARCHES: u32 = 8;
/// Default state limit of BFS.
const BFS_MAX_STATES: u64 = 5_000_000;
/// Default state limit of each search of a swarm.
const SWARM_MAX_STATES: u64 = 100_000;

impl SearchArgs {
    /// `--cases`, or the engine's default.
    fn cases(&self) -> u32 {
        self.cases.unwrap_or(match self.engine {
            Engine::Swarm => SWARM_SEARCHES,
            _ => RANDOM_CASES,
        })
    }

    /// `--max-states`, or the engine's default.
    fn max_states(&self) -> u64 {
        self.max_states.unwrap_or(match self.engine {
            Engine::Swarm => SWARM_MAX_STATES,
            _ => BFS_MAX_STATES,
        })
    }

    /// What is searched, for a shard result: every shard of one search has the same.
    fn spec(&self) -> serde_json::Value {
        json!({
            "model": self.model,
            "variant": self.variant,
            "properties": self.properties,
            "engine": self.engine.as_str(),
            "seed": self.seed,
            "cases": self.cases(),
            "max_steps": self.max_steps,
            "max_states": self.max_states(),
            "max_depth": self.max_depth,
            "timeout": self.timeout.map(|t| t.as_secs_f64()),
            "bounds": {
                "clients": self.bounds.clients,
                "ops": self.bounds.ops,
                "servers": self.bounds.servers,
                "balance": self.bounds.balance,
                "network": self.bounds.network.map(|n| n.as_str()),
                "loss": self.bounds.loss,
                "crashes": self.bounds.crashes,
            },
        })
    }

    /// The arguments of `splitbrain check` that make this search (model first).
    fn to_args(&self) -> Vec<String> {
        let mut a = vec![self.model.clone()];
        let mut flag = |name: &str, v: String| {
            a.push(format!("--{name}"));
            a.push(v);
        };
        if let Some(v) = &self.variant {
            flag("variant", v.clone());
        }
        for p in &self.properties {
            flag("property", p.clone());
        }
        flag("engine", self.engine.as_str().to_string());
        let b = &self.bounds;
        let bounds: [(&str, Option<String>); 7] = [
            ("clients", b.clients.map(|v| v.to_string())),
            ("ops", b.ops.map(|v| v.to_string())),
            ("servers", b.servers.map(|v| v.to_string())),
            ("balance", b.balance.map(|v| v.to_string())),
            ("network", b.network.map(|v| v.as_str().to_string())),
            ("loss", b.loss.map(|v| v.to_string())),
            ("crashes", b.crashes.map(|v| v.to_string())),
        ];
        for (name, v) in bounds {
            if let Some(v) = v {
                flag(name, v);
            }
        }
        if self.threads != 1 {
            flag("threads", self.threads.to_string());
        }
        if self.reduce != Reduce::None {
            flag("reduce", self.reduce.as_str().to_string());
        }
        flag("seed", self.seed.to_string());
        flag("cases", self.cases().to_string());
        match self.engine {
            Engine::Random => flag("max-steps", self.max_steps.to_string()),
            _ => flag("max-states", self.max_states().to_string()),
        }
        if let Some(d) = self.max_depth {
            flag("max-depth", d.to_string());
        }
        if let Some(t) = self.timeout {
            flag("timeout", t.as_secs_f64().to_string());
        }
        if let Some(m) = self.max_memory {
            flag("max-memory", m.to_string());
        }
        if self.format != Format::Text {
            flag(
                "format",
                self.format
                    .to_possible_value()
                    .map(|v| v.get_name().to_string())
                    .unwrap_or_default(),
            );
        }
        a
    }
}

#[derive(Args, Debug)]
struct HistoryArgs {
    /// The history file (with --bench: a folder of JSON histories, or none for the
    /// seeded set).
    #[arg(required_unless_present = "bench")]
    file: Option<PathBuf>,
    /// Measure the checker against stateright's linearizability tester, side by side,
    /// on a folder of histories or on a seeded set; exit 1 if their verdicts differ.
    #[arg(long)]
    bench: bool,
    /// Internal: judge FILE with stateright's tester (the bench's baseline).
    #[arg(long, hide = true)]
    baseline: bool,
    /// Its format (default: by extension, .edn or .json; jepsen-log otherwise).
    #[arg(long, value_enum)]
    input: Option<crate::recorded::Input>,
    /// What the operations are: register (read, write), cas-register (and
    /// compare-and-set) or kv (registers by key; values are [key value]).
    #[arg(long, value_enum, default_value_t = crate::recorded::Model::CasRegister)]
    model: crate::recorded::Model,
    /// Properties to judge (only `linearizable` for recorded histories).
    #[arg(long = "property")]
    properties: Vec<String>,
    /// Give up (unknown, exit 3) after this many seconds.
    #[arg(long, value_parser = parse_seconds, default_value = "60")]
    timeout: Duration,
    /// Output format: text or json.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Text)]
    format: HistoryFormat,
}

/// Output formats of `history`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum HistoryFormat {
    /// The verdict, and the operations that cannot be ordered on a time line.
    Text,
    /// One JSON object.
    Json,
}

#[derive(Args, Debug)]
struct MergeArgs {
    /// Directory holding the shard results (shard-I-of-N.json).
    dir: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// States the breadth-first search that looks for a trace shorter than the shortest
    /// found may visit (0: do not look).
    #[arg(long, default_value_t = 200_000)]
    max_states: u64,
    /// No summary line on stderr.
    #[arg(long)]
    quiet: bool,
}

#[derive(Args, Debug)]
struct SlurmArgs {
    #[command(flatten)]
    search: SearchArgs,
    /// Shards: the array job's tasks.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    shards: u32,
    /// Write the script to FILE (executable) instead of printing it.
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Results directory the shards write to and the merge reads (shared by every node;
    /// the RESULTS variable overrides it when the script runs).
    #[arg(long, default_value = "splitbrain-results")]
    results: String,
    /// Slurm partition.
    #[arg(long)]
    partition: Option<String>,
    /// Slurm time limit of each task (sbatch --time, e.g. 30 or 2:00:00).
    #[arg(long)]
    time: Option<String>,
    /// Slurm job name.
    #[arg(long, default_value = "splitbrain")]
    job_name: String,
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
    /// Output format: a table, or one JSON object per measured run.
    #[arg(long, value_enum, default_value_t = bench::Format::Text)]
    format: bench::Format,
    /// Internal: measure one run in this process and print it as JSON.
    #[arg(long, hide = true, num_args = 3, value_names = ["MODEL", "VARIANT", "ENGINE"])]
    one: Vec<String>,
}

/// Half of the memory this process may use: the machine's (`MemTotal` in /proc/meminfo)
/// or its container's (the cgroup's memory limit), whichever is smaller; 4 GB if neither
/// is known. The other half leaves room to finish the report when the limit is hit.
fn default_memory_limit() -> u64 {
    let machine = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let line = m.lines().find(|l| l.starts_with("MemTotal:"))?.to_string();
        let kb = line.split_whitespace().nth(1)?.parse::<u64>().ok()?;
        Some(kb * 1024)
    });
    match (machine, cgroup_memory_limit()) {
        (Some(m), Some(c)) => m.min(c) / 2,
        (Some(x), None) | (None, Some(x)) => x / 2,
        (None, None) => 4_000_000_000,
    }
}

/// The smallest memory limit of this process's cgroup and its ancestors (cgroup v2), or
/// of its v1 memory cgroup; `None` where none is set.
fn cgroup_memory_limit() -> Option<u64> {
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    cgroup_limit_under(std::path::Path::new("/sys/fs/cgroup"), &own)
}

/// [`cgroup_memory_limit`] with the cgroup file system at `root` and `/proc/self/cgroup`
/// read as `own`.
fn cgroup_limit_under(root: &std::path::Path, own: &str) -> Option<u64> {
    let read = |p: &std::path::Path| -> Option<u64> {
        std::fs::read_to_string(p).ok()?.trim().parse::<u64>().ok()
    };
    let v2 = own.lines().find_map(|l| l.strip_prefix("0::"));
    let mut limits = Vec::new();
    if let Some(path) = v2 {
        let mut dir = root.join(path.trim_start_matches('/'));
        loop {
            limits.extend(read(&dir.join("memory.max")));
            if !dir.pop() || !dir.starts_with(root) {
                break;
            }
        }
    }
    // v1: "unlimited" reads as a number near 2^63.
    let v1 = read(&root.join("memory/memory.limit_in_bytes"));
    limits.extend(v1.filter(|&b| b < 1 << 60));
    limits.into_iter().min()
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
        Command::Bench(a) => bench::run(&a.models, &a.one, a.format),
        Command::New { name } => crate::starter::write(&name).map(|path| {
            println!(
                "wrote {}; check it with: splitbrain check {}",
                path.display(),
                path.display()
            );
            0
        }),
        Command::Merge(a) => merge(&a),
        Command::Slurm(a) => slurm(&a),
        Command::Replay(a) => replay(&a),
        Command::History(a) => history(&a),
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
                let props = a.properties();
                let pw = props.iter().map(|p| p.name.len()).max().unwrap_or(0);
                let vw = a.variants().iter().map(|v| v.name.len()).max().unwrap_or(0);
                let mw = a.mutants().iter().map(|m| m.name.len()).max().unwrap_or(0);
                println!("  properties:");
                for p in props {
                    println!("    {:<pw$} {:<10} {}", p.name, p.kind.as_str(), p.claim);
                }
                println!("  variants (expected verdicts):");
                for v in a.variants() {
                    println!("    {:<vw$} {}", v.name, v.about);
                    let exp: Vec<String> =
                        v.expect.iter().map(|(p, e)| format!("{p}={e}")).collect();
                    println!("    {:<vw$} {}", "", exp.join(" "));
                }
                if !a.mutants().is_empty() {
                    println!("  mutants (seeded bugs the properties must catch; checkable with --variant):");
                    for m in a.mutants() {
                        println!("    {:<mw$} {}", m.name, m.about);
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
    arch.explore(variant, &bounds_of(arch, &args.bounds)?, args.addr)?;
    Ok(0)
}

fn bounds_of(a: &dyn Architecture, args: &BoundArgs) -> Result<Bounds, Error> {
    let d = a.default_bounds();
    // A topology file fixes its clients, workloads, servers and balances: the flags are
    // refused even where they repeat the file's value.
    if crate::models::find(a.name()).is_err() {
        let given = [
            ("clients", args.clients.map(i64::from)),
            ("ops", args.ops.map(i64::from)),
            ("servers", args.servers.map(i64::from)),
            ("balance", args.balance.map(i64::from)),
        ];
        if let Some((flag, Some(value))) = given.iter().find(|(_, g)| g.is_some()) {
            return Err(Error::BadInput(format!(
                "--{flag} {value} does not apply to a topology file: {} lists its clients, workloads, servers and balances; edit the file instead",
                a.name()
            )));
        }
    }
    Ok(Bounds {
        clients: args.clients.unwrap_or(d.clients),
        ops: args.ops.unwrap_or(d.ops),
        servers: args.servers.unwrap_or(d.servers),
        balance: args.balance.unwrap_or(d.balance),
        network: args.network.unwrap_or(d.network),
        loss: args.loss.unwrap_or(d.loss),
        crashes: args.crashes.unwrap_or(d.crashes),
    })
}

/// The shard to run: `--shard`, else the Slurm array task for engines that shard.
fn shard_of(args: &CheckArgs) -> Result<Shard, Error> {
    let engine = args.search.engine;
    if let Some(s) = args.shard {
        if !engine.shards() {
            return Err(Error::BadInput(format!(
                "--shard {s} with --engine {}: only random and swarm search split into independent shards (an exhaustive proof needs one visited set; see docs/engines.md, Scaling); use --engine random or --engine swarm",
                engine.as_str()
            )));
        }
        return Ok(s);
    }
    if !engine.shards() {
        return Ok(Shard::WHOLE);
    }
    match Shard::from_slurm_env(|k| std::env::var(k).ok()) {
        Ok(Some(s)) => {
            if !args.search.quiet {
                eprintln!("splitbrain: shard {s}, from the Slurm array task (SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_COUNT)");
            }
            Ok(s)
        }
        Ok(None) => Ok(Shard::WHOLE),
        Err(e) => Err(Error::BadInput(e)),
    }
}

fn check(args: &CheckArgs) -> Result<i32, Error> {
    let started = std::time::Instant::now();
    let s = &args.search;
    let shard = shard_of(args)?;
    let out = match (&args.out, &args.out_dir) {
        (Some(f), _) => Some(f.clone()),
        (None, Some(d)) => Some(d.join(shard.file_name())),
        (None, None) => None,
    };
    if out.is_some() && !s.engine.shards() {
        return Err(Error::BadInput(format!(
            "--out and --out-dir write a shard result for `splitbrain merge`, which merges random and swarm searches; with --engine {} use --format json",
            s.engine.as_str()
        )));
    }
    let reports = run_check(s, shard)?;
    let code = match exit_code(&reports) {
        // Ctrl-C stopped the command before every variant was checked.
        0 if crate::exhaustive::interrupted() => 3,
        code => code,
    };
    if let Some(path) = out {
        if crate::exhaustive::interrupted() {
            eprintln!(
                "splitbrain: interrupted: not writing {} (merge reports the shard missing)",
                path.display()
            );
        } else {
            let file = ShardFile {
                format: crate::shard::FORMAT.to_string(),
                shard,
                search: s.spec(),
                host: crate::shard::host_name(),
                seconds: started.elapsed().as_secs_f64(),
                exit_code: code,
                reports: reports.iter().map(CheckReport::to_json).collect(),
            };
            crate::shard::write_atomic(&path, &file)?;
            if !s.quiet {
                eprintln!("splitbrain: wrote shard {shard} to {}", path.display());
            }
        }
    }
    Ok(code)
}

fn replay(args: &ReplayArgs) -> Result<i32, Error> {
    // Ctrl-C stops every server the replay started before the process ends.
    let _ = ctrlc::set_handler(|| {
        crate::replay::stop_all();
        eprintln!("interrupted: replay servers stopped");
        std::process::exit(130);
    });
    let req = crate::replay::Request {
        model: args.model.clone(),
        variant: args.variant.clone(),
        property: args.property.clone(),
        target: args.target.map(|t| match t {
            ReplayTarget::Postgres => crate::replay::Target::Postgres,
            ReplayTarget::Mariadb => crate::replay::Target::Mariadb,
        }),
    };
    let r = crate::replay::run(&req);
    if crate::replay::stopping() {
        // Ctrl-C: the handler is stopping the servers and ends the process.
        std::thread::sleep(std::time::Duration::from_secs(30));
    }
    let r = r?;
    print!("{}", r.to_text());
    Ok(r.exit_code())
}

fn run_check(args: &SearchArgs, shard: Shard) -> Result<Vec<CheckReport>, Error> {
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
    if args.reduce != Reduce::None && args.engine != Engine::Bfs {
        return Err(Error::BadInput(format!(
            "--reduce {} reduces the exhaustive search only; with --engine {} use --reduce none",
            args.reduce.as_str(),
            args.engine.as_str()
        )));
    }
    let opts = CheckOptions {
        engine: args.engine,
        limits: Limits {
            max_states: Some(args.max_states() as usize),
            max_depth: args.max_depth,
            timeout: args.timeout,
            max_memory: Some(
                args.max_memory
                    .map(|mb| mb * 1_000_000)
                    .unwrap_or_else(default_memory_limit),
            ),
            until_found: false,
        },
        random: RandomOptions {
            cases: args.cases(),
            max_steps: args.max_steps as usize,
            seed: args.seed,
        },
        properties: args.properties.clone(),
        threads: args.threads as usize,
        progress: !args.quiet,
        shard,
        replay: None,
        reduce: args.reduce,
    };
    let bounds = bounds_of(arch, &args.bounds)?;
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
    Ok(reports)
}

/// The largest history file read.
const MAX_HISTORY_BYTES: u64 = 512 * 1024 * 1024;

fn history(args: &HistoryArgs) -> Result<i32, Error> {
    use crate::recorded::Input;
    if let Some(p) = args
        .properties
        .iter()
        .find(|p| p.as_str() != "linearizable")
    {
        return Err(Error::BadInput(format!(
            "--property {p}: a recorded history is judged for linearizable only; session guarantees \
             (read_your_writes, monotonic_reads, ...) need each read's and write's version, which \
             recorded register histories do not carry"
        )));
    }
    if args.bench {
        let rows = crate::bench::histories::run(args.file.as_deref(), args.timeout)?;
        print!("{}", crate::bench::histories::to_text(&rows, args.timeout));
        return Ok(crate::bench::histories::exit_code(&rows));
    }
    let Some(file) = &args.file else {
        return Err(Error::BadInput("give the history file".into()));
    };
    let input = args
        .input
        .unwrap_or_else(|| match file.extension().and_then(|e| e.to_str()) {
            Some("edn") => Input::Edn,
            Some("json") => Input::Json,
            _ => Input::JepsenLog,
        });
    let bytes = crate::files::read_input(file, "a history file", MAX_HISTORY_BYTES)?;
    let name = file.display().to_string();
    let text = String::from_utf8(bytes)
        .map_err(|e| Error::BadInput(format!("{name}: not UTF-8 text: {e}")))?;
    let h = crate::recorded::parse(&text, input, args.model, &name)?;
    if args.baseline {
        return Ok(match crate::bench::histories::baseline(&h) {
            Some(true) => 0,
            Some(false) => 1,
            None => 3,
        });
    }
    let limits = crate::linearizability::Limits {
        timeout: Some(args.timeout),
    };
    let report = crate::linearizability::check(&h, &limits);
    match args.format {
        HistoryFormat::Text => print!("{}", report.to_text(&h)),
        HistoryFormat::Json => println!("{}", report.to_json(&h)),
    }
    Ok(report.exit_code())
}

fn merge(args: &MergeArgs) -> Result<i32, Error> {
    let m = crate::shard::merge(&args.dir, args.max_states as usize)?;
    if m.reports.is_empty() {
        eprintln!(
            "splitbrain: the shards in {} hold no report: no variant was checked (were they interrupted?)",
            args.dir.display()
        );
    }
    match args.format {
        Format::Text => print!("{}", m.to_text()),
        Format::Json => print!("{}", m.to_json_lines()),
        Format::Mermaid => print!("{}", m.to_mermaid()),
    }
    if !args.quiet {
        for r in &m.reports {
            eprintln!("{}", r.report.summary());
        }
        if !m.missing.is_empty() {
            eprintln!(
                "splitbrain: {} of {} shards missing: {}",
                m.missing.len(),
                m.count,
                m.missing
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(m.exit_code())
}

fn slurm(args: &SlurmArgs) -> Result<i32, Error> {
    let s = &args.search;
    if !s.engine.shards() {
        return Err(Error::BadInput(format!(
            "splitbrain slurm splits a random or swarm search into shards; --engine {} cannot be split (see docs/engines.md, Scaling): add --engine random or --engine swarm",
            s.engine.as_str()
        )));
    }
    // Catch bad names here rather than on the cluster.
    let arch = crate::topology::resolve(&s.model)?;
    if let Some(v) = &s.variant {
        arch.variant(v)?;
    }
    let known: Vec<&str> = arch.properties().iter().map(|p| p.name).collect();
    if let Some(p) = s.properties.iter().find(|p| !known.contains(&p.as_str())) {
        return Err(Error::BadInput(format!(
            "unknown property '{p}'; valid choices: {}",
            known.join(", ")
        )));
    }
    let binary = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "splitbrain".to_string());
    let mut written_by = vec!["splitbrain".to_string(), "slurm".to_string()];
    written_by.extend(s.to_args());
    written_by.extend(["--shards".to_string(), args.shards.to_string()]);
    let spec = crate::slurm::JobSpec {
        check_args: s.to_args(),
        shards: args.shards,
        results: args.results.clone(),
        binary,
        name: args.job_name.clone(),
        partition: args.partition.clone(),
        time: args.time.clone(),
        cpus: s.threads,
        written_by: written_by
            .iter()
            .map(|a| crate::slurm::quote(a))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let script = crate::slurm::script(&spec);
    match &args.out {
        None => print!("{script}"),
        Some(path) => {
            let existing = crate::files::Existing::Replace;
            crate::files::write_output(path, script.as_bytes(), existing, Some(0o755))?;
            if !s.quiet {
                eprintln!(
                    "splitbrain: wrote {}; submit it with: bash {}",
                    path.display(),
                    path.display()
                );
            }
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_memory_limit_heeds_the_containers() {
        let root = tempfile::tempdir().unwrap();
        let job = root.path().join("machine.slice/job");
        std::fs::create_dir_all(&job).unwrap();
        std::fs::write(job.join("memory.max"), "max\n").unwrap();
        std::fs::write(root.path().join("machine.slice/memory.max"), "209715200\n").unwrap();
        let own = "0::/machine.slice/job\n";
        assert_eq!(
            cgroup_limit_under(root.path(), own),
            Some(200 * 1024 * 1024)
        );
        assert_eq!(cgroup_limit_under(root.path(), "0::/elsewhere\n"), None);
        let v1 = root.path().join("memory");
        std::fs::create_dir_all(&v1).unwrap();
        std::fs::write(v1.join("memory.limit_in_bytes"), "9223372036854771712\n").unwrap();
        assert_eq!(
            cgroup_limit_under(root.path(), "1:memory:/\n"),
            None,
            "v1 unlimited"
        );
        std::fs::write(v1.join("memory.limit_in_bytes"), "104857600\n").unwrap();
        assert_eq!(
            cgroup_limit_under(root.path(), "1:memory:/\n"),
            Some(100 * 1024 * 1024)
        );
    }
}
