//! `splitbrain explore` serves stateright's Explorer on loopback with the model's names.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Kills the explorer when the test ends, pass or fail.
struct Running(Child);
impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).expect("the explorer accepts connections");
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(s, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n").unwrap();
    let mut body = String::new();
    s.read_to_string(&mut body).unwrap();
    body
}

#[test]
fn explorer_answers_on_loopback_with_named_actors() {
    let child = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args([
            "explore",
            "master-master",
            "--variant",
            "async-ops",
            "--addr",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary runs");
    let mut running = Running(child);
    let mut line = String::new();
    BufReader::new(running.0.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"));
    let addr = url.trim_start_matches("http://").trim_end_matches('/');
    assert!(addr.starts_with("127.0.0.1:"), "{addr}");
    // The server may need a moment after printing its address.
    let mut states = String::new();
    for _ in 0..50 {
        if TcpStream::connect(addr).is_ok() {
            states = get(addr, "/.states");
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(states.contains("200 OK"), "{states}");
    for name in ["jose", "master1", "master2", "withdraw $10 (burrito)"] {
        assert!(states.contains(name), "{name} missing from {states}");
    }
    assert!(
        !states.contains("Id("),
        "raw actor ids leak into the explorer: {states}"
    );
    let step = get(addr, "/.states/0");
    assert!(
        step.contains("jose -> master1: withdraw $10 (burrito)"),
        "{step}"
    );
    assert!(step.contains("master1 balance: 10 -> 0"), "{step}");
    let status = get(addr, "/.status");
    assert!(status.contains("no_negative_balance"), "{status}");
}

#[test]
fn a_busy_address_is_a_clear_error() {
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["explore", "master-master", "--addr", &addr])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("cannot listen on"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
