//! A real Slurm: a one-node cluster on 127.0.0.1 in a temporary directory (Debian's
//! `slurm-wlm` and `munge`, daemons started by hand, no systemd, no cgroups:
//! `proctrack/linuxproc`, `task/none`) runs the script `splitbrain slurm` writes: an
//! array of shards of a real random search and the dependent merge job. The merged
//! verdicts must equal an unsharded run's, with counterexamples no longer. Every daemon
//! is stopped afterwards, also when the test fails (a Drop guard), and the test checks
//! that no process of the cluster is left behind.
//!
//! Without Slurm installed the test says it was skipped, and why.

use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const SHARDS: u32 = 8;
/// The search: burrito and taco with three clients and three masters, 40,000 random
/// runs per property (about 5 s on one core).
const CHECK: [&str; 11] = [
    "master-master",
    "--variant",
    "async-ops",
    "--clients",
    "3",
    "--servers",
    "3",
    "--engine",
    "random",
    "--cases",
    "40000",
];

/// `prog` on PATH or in the sbin directories, where Debian puts the daemons.
fn find(prog: &str) -> Option<PathBuf> {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/sbin", "/sbin", "/usr/bin", "/bin"])
        .map(|d| Path::new(d).join(prog))
        .find(|p| p.is_file());
    found
}

fn splitbrain(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(args)
        .env_remove("SLURM_ARRAY_TASK_ID")
        .output()
        .expect("splitbrain runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A free TCP port on loopback (released at once; Slurm binds it moments later).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A one-node Slurm cluster and its munge daemon, stopped on drop.
struct Cluster {
    dir: PathBuf,
    conf: PathBuf,
    daemons: Vec<(&'static str, Child)>,
    stopped: bool,
    // Last, so the directory is removed after the daemons are stopped.
    _tmp: tempfile::TempDir,
}

impl Cluster {
    fn start(bins: &Bins) -> Cluster {
        let tmp = tempfile::Builder::new()
            .prefix("splitbrain-slurm-")
            .tempdir()
            .expect("a temporary directory");
        let dir = tmp.path().to_path_buf();
        let mut cluster = Cluster {
            conf: dir.join("slurm.conf"),
            dir: dir.clone(),
            daemons: Vec::new(),
            stopped: false,
            _tmp: tmp,
        };
        for sub in ["munge", "state", "spool", "log", "jobs"] {
            std::fs::create_dir(dir.join(sub)).unwrap();
        }
        // munge: a fresh key, readable by its owner only, and a socket of our own.
        let mut key = vec![0u8; 1024];
        std::fs::File::open("/dev/urandom")
            .and_then(|mut f| f.read_exact(&mut key))
            .expect("random bytes for the munge key");
        let key_path = dir.join("munge/munge.key");
        std::fs::write(&key_path, &key).unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o400)).unwrap();
        let socket = dir.join("munge/munge.socket");
        let conf = format!(
            "# A one-node cluster on loopback for splitbrain's tests.
ClusterName=splitbrain
SlurmctldHost=localhost(127.0.0.1)
SlurmctldPort={ctld_port}
SlurmdPort={slurmd_port}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket={socket}
StateSaveLocation={dir}/state
SlurmdSpoolDir={dir}/spool
SlurmctldPidFile={dir}/slurmctld.pid
SlurmdPidFile={dir}/slurmd.pid
SlurmctldLogFile={dir}/log/slurmctld.log
SlurmdLogFile={dir}/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
MpiDefault=none
SwitchType=switch/none
SchedulerType=sched/builtin
SchedulerParameters=sched_interval=1,batch_sched_delay=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
NodeName=sbnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs={cpus} RealMemory=1000 State=UNKNOWN
PartitionName=debug Nodes=sbnode Default=YES MaxTime=INFINITE State=UP
",
            ctld_port = free_port(),
            slurmd_port = free_port(),
            socket = socket.display(),
            dir = dir.display(),
            cpus = std::thread::available_parallelism().map_or(1, |n| n.get()),
        );
        std::fs::write(&cluster.conf, conf).unwrap();

        let log = |name: &str| {
            std::fs::File::create(dir.join("log").join(format!("{name}.out"))).unwrap()
        };
        let spawn = |cluster: &mut Cluster, name: &'static str, cmd: &mut Command| {
            let child = cmd
                .current_dir(&dir)
                .env("SLURM_CONF", &cluster.conf)
                .stdin(Stdio::null())
                .stdout(log(name))
                .stderr(log(name))
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
            cluster.daemons.push((name, child));
        };
        spawn(
            &mut cluster,
            "munged",
            Command::new(&bins.munged).args([
                "--foreground".to_string(),
                "--force".to_string(),
                format!("--socket={}", socket.display()),
                format!("--key-file={}", key_path.display()),
                format!("--log-file={}/log/munged.log", dir.display()),
                format!("--pid-file={}/munge/munged.pid", dir.display()),
                format!("--seed-file={}/munge/munged.seed", dir.display()),
            ]),
        );
        cluster.wait_for("munged's socket", Duration::from_secs(10), |c| {
            c.dir.join("munge/munge.socket").exists()
        });
        let conf = cluster.conf.clone();
        spawn(
            &mut cluster,
            "slurmctld",
            Command::new(&bins.slurmctld)
                .args(["-D", "-i", "-f"])
                .arg(&conf),
        );
        spawn(
            &mut cluster,
            "slurmd",
            Command::new(&bins.slurmd)
                .args(["-D", "-N", "sbnode", "-f"])
                .arg(&conf),
        );
        cluster.wait_for("the node to be idle", Duration::from_secs(30), |c| {
            c.output("sinfo", &["-h", "-o", "%t"]).trim() == "idle"
        });
        cluster
    }

    /// Runs a Slurm client command against this cluster; returns its stdout.
    fn output(&self, prog: &str, args: &[&str]) -> String {
        Command::new(prog)
            .args(args)
            .env("SLURM_CONF", &self.conf)
            .current_dir(&self.dir)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default()
    }

    /// Waits until `ready`, or fails with the daemons' logs.
    fn wait_for(&mut self, what: &str, limit: Duration, ready: impl Fn(&Cluster) -> bool) {
        let started = Instant::now();
        while !ready(self) {
            for (name, child) in &mut self.daemons {
                if let Ok(Some(status)) = child.try_wait() {
                    panic!(
                        "{name} exited ({status}) while waiting for {what}:\n{}",
                        self_logs(&self.dir)
                    );
                }
            }
            if started.elapsed() > limit {
                panic!("waited {limit:?} for {what}:\n{}", self_logs(&self.dir));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The state and exit code of every job (array tasks one by one).
    fn jobs(&self) -> Vec<(String, String, String)> {
        self.output("scontrol", &["show", "job", "--oneliner"])
            .lines()
            .filter_map(|l| {
                let field = |k: &str| {
                    l.split_whitespace()
                        .find_map(|f| f.strip_prefix(k))
                        .map(str::to_string)
                };
                let id = match (field("ArrayJobId="), field("ArrayTaskId=")) {
                    (Some(a), Some(t)) => format!("{a}_{t}"),
                    _ => field("JobId=")?,
                };
                Some((id, field("JobState=")?, field("ExitCode=")?))
            })
            .collect()
    }

    /// Stops every job and daemon; returns the processes of the cluster still alive
    /// afterwards (which it then kills), if any.
    fn stop(&mut self) -> Vec<String> {
        if self.stopped {
            return Vec::new();
        }
        self.stopped = true;
        let ids: Vec<String> = self
            .output("squeue", &["-h", "-o", "%i"])
            .split_whitespace()
            .map(str::to_string)
            .collect();
        if !ids.is_empty() {
            let mut args = vec!["--quiet"];
            args.extend(ids.iter().map(String::as_str));
            self.output("scancel", &args);
            let started = Instant::now();
            while started.elapsed() < Duration::from_secs(10)
                && !self.output("squeue", &["-h"]).trim().is_empty()
            {
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        // slurmctld and slurmd shut down cleanly on request; munged on SIGTERM.
        self.output("scontrol", &["shutdown"]);
        let started = Instant::now();
        for (name, child) in &mut self.daemons {
            if *name == "munged" {
                let _ = Command::new("kill")
                    .args(["-TERM", &child.id().to_string()])
                    .status();
            }
            while started.elapsed() < Duration::from_secs(10) {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Anything else of this cluster: slurmstepd and job processes run in its
        // directory or carry its configuration in their environment.
        let left = cluster_processes(&self.dir);
        for (pid, _) in &left {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
        left.into_iter()
            .map(|(pid, cmd)| format!("{pid} {cmd}"))
            .collect()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let left = self.stop();
        if !left.is_empty() {
            eprintln!("killed processes the cluster left behind: {left:?}");
        }
    }
}

fn self_logs(dir: &Path) -> String {
    let mut out = String::new();
    for name in [
        "munged.out",
        "munged.log",
        "slurmctld.out",
        "slurmctld.log",
        "slurmd.out",
        "slurmd.log",
    ] {
        if let Ok(text) = std::fs::read_to_string(dir.join("log").join(name)) {
            let tail: Vec<&str> = text.lines().rev().take(15).collect();
            out.push_str(&format!("--- {name}\n"));
            for l in tail.iter().rev() {
                out.push_str(l);
                out.push('\n');
            }
        }
    }
    out
}

/// Processes (other than this one) whose working directory lies in `dir` or whose
/// environment names it: the cluster's daemons, slurmstepd and the jobs.
fn cluster_processes(dir: &Path) -> Vec<(u32, String)> {
    let me = std::process::id();
    let needle = dir.display().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| pid != me)
        .filter(|pid| {
            let proc = PathBuf::from(format!("/proc/{pid}"));
            // A zombie is already dead, only waiting for its parent to reap it.
            let zombie = std::fs::read_to_string(proc.join("stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .map(|r| r.trim_start().starts_with('Z'))
                })
                .unwrap_or(true);
            let cwd = std::fs::read_link(proc.join("cwd")).is_ok_and(|c| c.starts_with(dir));
            let env = std::fs::read(proc.join("environ"))
                .is_ok_and(|e| String::from_utf8_lossy(&e).contains(&needle));
            !zombie && (cwd || env)
        })
        .map(|pid| {
            let cmd = std::fs::read(format!("/proc/{pid}/cmdline"))
                .map(|c| String::from_utf8_lossy(&c).replace('\0', " "))
                .unwrap_or_default();
            (pid, cmd)
        })
        .collect()
}

fn current_user() -> String {
    Command::new("id")
        .arg("-un")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| "root".to_string())
}

struct Bins {
    munged: PathBuf,
    slurmctld: PathBuf,
    slurmd: PathBuf,
}

/// (variant, property, verdict, trace length) of JSON reports, one per line.
fn verdicts(json_lines: &str) -> Vec<(String, String, String, usize)> {
    json_lines
        .lines()
        .flat_map(|l| {
            let r: Value = serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"));
            let variant = r["variant"].as_str().unwrap_or_default().to_string();
            r["results"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |p| {
                    (
                        variant.clone(),
                        p["property"].as_str().unwrap_or_default().to_string(),
                        p["verdict"].as_str().unwrap_or_default().to_string(),
                        p["trace"].as_array().map_or(0, Vec::len),
                    )
                })
        })
        .collect()
}

#[test]
fn a_sharded_search_runs_and_merges_on_a_real_slurm_cluster() {
    let need = [
        "slurmctld",
        "slurmd",
        "munged",
        "sbatch",
        "squeue",
        "sinfo",
        "scontrol",
        "scancel",
    ];
    let missing: Vec<&str> = need.iter().copied().filter(|p| find(p).is_none()).collect();
    if !missing.is_empty() {
        let msg = format!(
            "skipped: slurm not installed, run .ci/run or apt-get install slurm-wlm munge (missing: {})",
            missing.join(", ")
        );
        println!("{msg}");
        eprintln!("{msg}");
        return;
    }
    if current_user() != "root" {
        let msg =
            "skipped: this test starts slurmd, which runs jobs as their user and so needs root";
        println!("{msg}");
        eprintln!("{msg}");
        return;
    }
    let bins = Bins {
        munged: find("munged").unwrap_or_default(),
        slurmctld: find("slurmctld").unwrap_or_default(),
        slurmd: find("slurmd").unwrap_or_default(),
    };

    // The unsharded search, for comparison.
    let mut whole_args = vec!["check"];
    whole_args.extend(CHECK);
    whole_args.extend(["--format", "json", "--quiet"]);
    let t = Instant::now();
    let (code, whole, err) = splitbrain(&whole_args);
    let whole_seconds = t.elapsed().as_secs_f64();
    assert_eq!(code, 3, "{err}");
    let whole = verdicts(&whole);

    let t = Instant::now();
    let mut cluster = Cluster::start(&bins);
    let up = t.elapsed().as_secs_f64();

    let script = cluster.dir.join("jobs/job.sh");
    let results = cluster.dir.join("jobs/results");
    let shards = SHARDS.to_string();
    let mut args = vec!["slurm"];
    args.extend(CHECK);
    args.extend([
        "--shards",
        &shards,
        "--results",
        results.to_str().unwrap(),
        "--out",
        script.to_str().unwrap(),
    ]);
    let (code, _, err) = splitbrain(&args);
    assert_eq!(code, 0, "{err}");

    let t = Instant::now();
    let submit = Command::new("bash")
        .arg(&script)
        .current_dir(cluster.dir.join("jobs"))
        .env("SLURM_CONF", &cluster.conf)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&submit.stdout).into_owned();
    assert!(
        submit.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&submit.stderr)
    );
    // "submitted: shards job 1 (4 tasks), merge job 2"
    let merge_job = said
        .split("merge job ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .unwrap_or_else(|| panic!("no merge job id in: {said}"))
        .to_string();
    cluster.wait_for("the merge job to end", Duration::from_secs(90), |c| {
        c.jobs().iter().any(|(id, state, _)| {
            *id == merge_job && !["PENDING", "RUNNING", "COMPLETING"].contains(&state.as_str())
        })
    });
    let ran = t.elapsed().as_secs_f64();
    let jobs = cluster.jobs();

    // Every shard ran and exited as check does for random search (3: incomplete, nothing
    // unexpected); the merge too.
    let tasks: Vec<_> = jobs.iter().filter(|(id, _, _)| id.contains('_')).collect();
    assert_eq!(tasks.len(), SHARDS as usize, "{jobs:?}");
    for (id, _, code) in &jobs {
        assert_eq!(
            code,
            "3:0",
            "job {id} exit code: {jobs:?}\n{}",
            self_logs(&cluster.dir)
        );
    }
    for i in 0..SHARDS {
        assert!(results
            .join(format!("shard-{i}-of-{SHARDS}.json"))
            .is_file());
    }
    let merged_text = std::fs::read_to_string(results.join("merged.txt")).unwrap_or_default();
    assert!(
        merged_text.contains(&format!("shards: {SHARDS} of {SHARDS} merged")),
        "{merged_text}"
    );
    let merged = verdicts(&std::fs::read_to_string(results.join("merged.json")).unwrap());
    assert_eq!(merged.len(), whole.len());
    for (w, m) in whole.iter().zip(&merged) {
        assert_eq!(
            (&w.0, &w.1, &w.2),
            (&m.0, &m.1, &m.2),
            "merged vs unsharded"
        );
        assert!(m.3 <= w.3, "merged trace longer: {m:?} vs {w:?}");
    }
    assert!(merged.iter().any(|m| m.2 == "violated"), "{merged:?}");
    // And merging again here gives the same.
    let (code, again, _) = splitbrain(&[
        "merge",
        results.to_str().unwrap(),
        "--format",
        "json",
        "--quiet",
    ]);
    assert_eq!(code, 3);
    assert_eq!(verdicts(&again), merged);

    let per_shard: Vec<f64> = std::fs::read_dir(&results)
        .unwrap()
        .filter_map(|e| {
            let p = e.ok()?.path();
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&p).ok()?).ok()?;
            v["seconds"].as_f64().filter(|_| v["format"].is_string())
        })
        .collect();

    let t = Instant::now();
    let left = cluster.stop();
    let down = t.elapsed().as_secs_f64();
    assert!(left.is_empty(), "processes left behind: {left:?}");
    for (name, child) in &mut cluster.daemons {
        assert!(
            matches!(child.try_wait(), Ok(Some(_))),
            "{name} still running"
        );
    }
    eprintln!(
        "slurm: cluster up in {up:.2}s; {SHARDS}-shard array + merge ran in {ran:.1}s (shards {:?}s each; unsharded {whole_seconds:.2}s); stopped in {down:.2}s",
        per_shard.iter().map(|s| (s * 100.0).round() / 100.0).collect::<Vec<_>>()
    );
}
