//! Real MariaDB servers for replays: `mariadb-install-db` into a temporary directory,
//! `mariadbd` started as a child process on a free loopback port (as the `mysql` user
//! when we are root), the `mariadb` client for SQL, killed by a drop guard.

use super::pg::{free_port, is_root, run, WorkDir};
use super::{register, unregister, Stopper};
use crate::error::Error;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// What to say when MariaDB is missing.
pub const MISSING: &str = "mariadb not installed: the replay needs the MariaDB server and client (mariadbd, mariadb-install-db, mariadb); install the Debian package with: apt-get install mariadb-server (or run .ci/run)";

/// The MariaDB installation used.
#[derive(Clone, Debug)]
pub struct Install {
    /// `mariadbd`.
    pub server: PathBuf,
    /// `mariadb-install-db`.
    pub install_db: PathBuf,
    /// `mariadb` (the client).
    pub client: PathBuf,
    /// `10.11.19`.
    pub version: String,
}

fn which(name: &str, dirs: &[&str]) -> Option<PathBuf> {
    dirs.iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
}

/// Finds MariaDB in the usual Debian places (or only in `$SPLITBRAIN_MARIADB_BIN`).
pub fn find() -> Result<Install, Error> {
    let own = std::env::var("SPLITBRAIN_MARIADB_BIN").ok();
    let dirs: Vec<&str> = match &own {
        Some(d) => vec![d.as_str()],
        None => vec!["/usr/sbin", "/usr/bin", "/usr/local/sbin", "/usr/local/bin"],
    };
    let missing = || Error::BadInput(MISSING.into());
    let server = which("mariadbd", &dirs).ok_or_else(missing)?;
    let install_db = which("mariadb-install-db", &dirs).ok_or_else(missing)?;
    let client = which("mariadb", &dirs).ok_or_else(missing)?;
    let out = Command::new(&server)
        .arg("--version")
        .output()
        .map_err(|e| Error::BadInput(format!("{MISSING} ({e})")))?;
    // "mariadbd  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu ..."
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let version = text
        .split_whitespace()
        .skip_while(|w| *w != "Ver")
        .nth(1)
        .and_then(|v| v.split('-').next())
        .unwrap_or("?")
        .to_string();
    Ok(Install {
        server,
        install_db,
        client,
        version,
    })
}

/// A running `mariadbd`; killed when dropped.
pub struct Server {
    client: PathBuf,
    child: Child,
    data: PathBuf,
    /// Its port on 127.0.0.1.
    pub port: u16,
}

impl Server {
    /// Initializes a data directory and starts a server with binary logging in
    /// `binlog_format`, as replication server `server_id`, replication not started.
    pub fn start(
        install: &Install,
        work: &WorkDir,
        name: &str,
        server_id: u32,
        binlog_format: &str,
    ) -> Result<Server, Error> {
        let data = work.path().join(name);
        let mut c = Command::new(&install.install_db);
        c.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg("--auth-root-authentication-method=normal");
        if is_root() {
            c.arg("--user=mysql");
        }
        run(c, "mariadb-install-db")?;
        let port = free_port()?;
        let mut c = Command::new(&install.server);
        c.arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}/mariadb.sock", data.display()))
            .arg(format!("--port={port}"))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--server-id={server_id}"))
            .arg(format!("--log-bin={}/bin", data.display()))
            .arg(format!("--binlog-format={binlog_format}"))
            .arg(format!("--log-error={}/error.log", data.display()))
            .arg("--skip-grant-tables")
            .arg("--skip-slave-start")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if is_root() {
            c.arg("--user=mysql");
        }
        let child = c
            .spawn()
            .map_err(|e| Error::BadInput(format!("mariadbd: cannot start: {e}")))?;
        register(&data, Stopper::Pid(child.id()));
        let mut server = Server {
            client: install.client.clone(),
            child,
            data,
            port,
        };
        let start = Instant::now();
        loop {
            if server.sql("SELECT 1").is_ok() {
                return Ok(server);
            }
            if let Ok(Some(status)) = server.child.try_wait() {
                let log =
                    std::fs::read_to_string(server.data.join("error.log")).unwrap_or_default();
                return Err(Error::BadInput(format!(
                    "mariadbd {name} exited ({status}):\n{log}"
                )));
            }
            if start.elapsed() > Duration::from_secs(30) {
                return Err(Error::BadInput(format!(
                    "mariadbd {name}: not answering on 127.0.0.1:{port} after 30 s"
                )));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Runs SQL with the `mariadb` client (a fresh connection), tab-separated, no headers.
    pub fn sql(&self, sql: &str) -> Result<String, Error> {
        let mut c = Command::new(&self.client);
        c.args([
            "-h",
            "127.0.0.1",
            "-u",
            "root",
            "-N",
            "-B",
            "--connect-timeout=10",
        ])
        .arg(format!("-P{}", self.port))
        .args(["-e", sql]);
        run(c, &format!("mariadb on port {}", self.port))
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

    /// `SHOW SLAVE STATUS` as field name -> value.
    pub fn slave_status(&self) -> Result<Vec<(String, String)>, Error> {
        let mut c = Command::new(&self.client);
        c.args([
            "-h",
            "127.0.0.1",
            "-u",
            "root",
            "-E",
            "--connect-timeout=10",
        ])
        .arg(format!("-P{}", self.port))
        .args(["-e", "SHOW SLAVE STATUS"]);
        let out = run(c, &format!("mariadb on port {}", self.port))?;
        Ok(out
            .lines()
            .filter_map(|l| {
                let (k, v) = l.split_once(':')?;
                Some((k.trim().to_string(), v.trim().to_string()))
            })
            .collect())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        unregister(&self.data);
    }
}
