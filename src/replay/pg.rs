//! Real PostgreSQL servers for replays: found on the machine, started on free loopback
//! ports in a temporary directory, talked to with `psql`, and stopped by a drop guard
//! (also on failure, and on Ctrl-C through [`super::stop_all`]).

use super::{register, unregister, Stopper};
use crate::error::Error;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The PostgreSQL installation used: its binaries and version.
#[derive(Clone, Debug)]
pub struct Install {
    /// Directory of `initdb`, `pg_ctl`, `postgres`, `pg_basebackup`, `psql`.
    pub bin: PathBuf,
    /// `15.18`, from `postgres --version`.
    pub version: String,
}

/// What to say when PostgreSQL is missing.
pub const MISSING: &str = "postgresql not installed: the replay needs the PostgreSQL server binaries (initdb, pg_ctl, postgres, pg_basebackup, psql); install the Debian packages with: apt-get install postgresql (or run .ci/run)";

/// Finds the newest PostgreSQL under `/usr/lib/postgresql/<ver>/bin` (or under
/// `$SPLITBRAIN_POSTGRES_ROOT/<ver>/bin`).
pub fn find() -> Result<Install, Error> {
    let root = std::env::var_os("SPLITBRAIN_POSTGRES_ROOT")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/lib/postgresql"));
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir(root)
        .map_err(|_| Error::BadInput(MISSING.into()))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let ver: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            ["initdb", "pg_ctl", "postgres", "pg_basebackup", "psql"]
                .iter()
                .all(|b| bin.join(b).exists())
                .then_some((ver, bin))
        })
        .collect();
    found.sort();
    let (_, bin) = found.pop().ok_or_else(|| Error::BadInput(MISSING.into()))?;
    let out = Command::new(bin.join("postgres"))
        .arg("--version")
        .output()
        .map_err(|e| Error::BadInput(format!("{MISSING} ({e})")))?;
    // "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let mut words = text.split_whitespace().skip_while(|w| *w != "(PostgreSQL)");
    let version = words.nth(1).unwrap_or("?").to_string();
    Ok(Install { bin, version })
}

/// A free TCP port on 127.0.0.1 (bound, read, released).
pub fn free_port() -> Result<u16, Error> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| Error::BadInput(format!("no free port on 127.0.0.1: {e}")))
}

pub(crate) fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// A command run as the `postgres` user when we are root (PostgreSQL refuses root).
fn as_pg(install: &Install, tool: &str) -> Command {
    let path = install.bin.join(tool);
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(path);
        c
    } else {
        Command::new(path)
    }
}

pub(crate) fn run(mut c: Command, what: &str) -> Result<String, Error> {
    let out = c
        .output()
        .map_err(|e| Error::BadInput(format!("{what}: cannot run: {e}")))?;
    if !out.status.success() {
        return Err(Error::BadInput(format!(
            "{what} failed: {}{}",
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).to_string())
}

/// A temporary directory that the `postgres` user owns, removed on drop.
pub struct WorkDir {
    dir: tempfile::TempDir,
}

impl WorkDir {
    /// Creates it under the system temporary directory, owned by `postgres`.
    pub fn new() -> Result<WorkDir, Error> {
        WorkDir::owned_by("postgres")
    }

    /// Creates it under the system temporary directory; when we are root, `owner` owns it.
    pub fn owned_by(owner: &str) -> Result<WorkDir, Error> {
        let dir = tempfile::Builder::new()
            .prefix("splitbrain-replay-")
            .tempdir()
            .map_err(|e| Error::BadInput(format!("cannot create a temporary directory: {e}")))?;
        if is_root() {
            let mut c = Command::new("chown");
            c.arg(format!("{owner}:")).arg(dir.path());
            run(c, "chown")?;
        }
        super::register_work_dir(dir.path());
        Ok(WorkDir { dir })
    }
    /// Its path.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        super::unregister_work_dir(self.dir.path());
    }
}

/// A running PostgreSQL server; stopped (immediate shutdown) when dropped.
pub struct Server {
    install: Install,
    /// Its data directory.
    pub data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Server {
    /// `initdb` and start a primary.
    pub fn primary(install: &Install, work: &WorkDir, name: &str) -> Result<Server, Error> {
        let data = work.path().join(name);
        let mut c = as_pg(install, "initdb");
        c.arg("-D")
            .arg(&data)
            .args(["--auth=trust", "-U", "postgres", "--no-sync"]);
        run(c, "initdb")?;
        Server::start(install, work, data)
    }

    /// `pg_basebackup -R` from `primary` and start it as a streaming standby.
    pub fn standby(
        install: &Install,
        work: &WorkDir,
        primary: &Server,
        name: &str,
    ) -> Result<Server, Error> {
        let data = work.path().join(name);
        let mut c = as_pg(install, "pg_basebackup");
        c.args([
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-R",
            "-X",
            "stream",
            "-c",
            "fast",
        ])
        .args(["-p", &primary.port.to_string(), "-D"])
        .arg(&data);
        run(c, "pg_basebackup")?;
        Server::start(install, work, data)
    }

    fn start(install: &Install, work: &WorkDir, data: PathBuf) -> Result<Server, Error> {
        let log = work.path().join(format!(
            "{}.log",
            data.file_name().and_then(|n| n.to_str()).unwrap_or("pg")
        ));
        // A port taken between our probe and the server's bind: try a few.
        let mut last = None;
        for _ in 0..5 {
            let port = free_port()?;
            register(&data, Stopper::Pg(install.bin.clone()));
            let server = Server {
                install: install.clone(),
                data: data.clone(),
                port,
            };
            let mut c = as_pg(install, "pg_ctl");
            c.arg("-D")
                .arg(&data)
                .arg("-l")
                .arg(&log)
                .args(["-w", "-t", "30", "-o"])
                .arg(format!(
                    "-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories='' -c fsync=off"
                ))
                .arg("start");
            match run(c, "pg_ctl start") {
                Ok(_) => return Ok(server),
                Err(e) => {
                    let log = std::fs::read_to_string(&log).unwrap_or_default();
                    last = Some(Error::BadInput(format!("{e}\n{log}")));
                    drop(server);
                }
            }
        }
        Err(last.expect("tried at least once"))
    }

    /// Runs SQL with `psql` (one connection) and returns its unaligned, tuples-only output.
    pub fn sql(&self, sql: &str) -> Result<String, Error> {
        psql(&self.install, self.port, sql)
    }

    /// Runs SQL and returns the first line of output.
    pub fn one(&self, sql: &str) -> Result<String, Error> {
        Ok(self
            .sql(sql)?
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string())
    }

    /// Waits until `cond` (a boolean SQL expression) is true, up to 20 s.
    pub fn wait_until(&self, cond: &str) -> Result<(), Error> {
        let start = Instant::now();
        loop {
            if self.one(&format!("SELECT {cond}"))? == "t" {
                return Ok(());
            }
            if start.elapsed() > Duration::from_secs(20) {
                return Err(Error::BadInput(format!(
                    "PostgreSQL on port {}: still not true after 20 s: {cond}",
                    self.port
                )));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Runs SQL with `psql` against 127.0.0.1:`port` (a fresh connection).
pub fn psql(install: &Install, port: u16, sql: &str) -> Result<String, Error> {
    let mut c = Command::new(install.bin.join("psql"));
    c.args(["-h", "127.0.0.1", "-U", "postgres", "-X", "-q", "-t", "-A"])
        .args(["-v", "ON_ERROR_STOP=1", "-p", &port.to_string(), "-c", sql])
        .env("PGCONNECT_TIMEOUT", "10");
    run(c, &format!("psql on port {port}"))
}

/// Stops the server in `data` (immediate shutdown), waiting for it to exit.
pub fn stop(bin: &Path, data: &Path) {
    if !data.join("postmaster.pid").exists() {
        return;
    }
    let install = Install {
        bin: bin.to_path_buf(),
        version: String::new(),
    };
    let mut c = as_pg(&install, "pg_ctl");
    c.arg("-D")
        .arg(data)
        .args(["-m", "immediate", "-w", "stop"]);
    let _ = c.output();
}

impl Drop for Server {
    fn drop(&mut self) {
        stop(&self.install.bin, &self.data);
        unregister(&self.data);
    }
}
