//! `splitbrain report` writes a self-contained page; headless Chromium renders it, takes
//! a screenshot, and the rendered DOM holds one arrow per message step of every trace.

use splitbrain::check::CheckOptions;
use splitbrain::matrix;
use splitbrain::report::Verdict;
use std::path::Path;
use std::process::Command;

fn chromium() -> Option<&'static str> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .into_iter()
        .find(|p| Path::new(p).exists())
}

fn headless(args: &[&str], profile: &Path) -> std::process::Output {
    let browser = chromium().expect("checked by the caller");
    Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

#[test]
fn report_page_renders_every_trace_as_a_diagram_in_chromium() {
    let dir = std::env::temp_dir().join(format!("splitbrain-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_splitbrain"))
        .args(["report", "--out"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let page = dir.join("index.html");
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(!html.contains("<script"), "the page must need no scripts");
    assert!(
        !html.contains("src=\"http") && !html.contains("href=\"http"),
        "no network needed"
    );

    // What the page must show: one arrow per message step of every violation's trace.
    let reports = matrix::compute(&CheckOptions::default()).unwrap();
    let mut traces = 0;
    let mut message_steps = 0;
    for r in &reports {
        for p in &r.results {
            if let (Verdict::Violated, Some(t)) = (p.verdict, &p.trace) {
                traces += 1;
                message_steps += t.steps.iter().filter(|s| s.to.is_some()).count();
            }
        }
    }
    assert!(traces >= 4);

    let Some(_) = chromium() else {
        eprintln!("skipped: chromium not installed, run .ci/run or apt-get install chromium");
        return;
    };
    let profile = dir.join("profile");
    let shot = dir.join("shot.png");
    let url = format!("file://{}", page.display());
    let taken = headless(
        &[
            &format!("--screenshot={}", shot.display()),
            "--window-size=1400,2400",
            &url,
        ],
        &profile,
    );
    let png = std::fs::read(&shot)
        .unwrap_or_else(|_| panic!("no screenshot: {}", String::from_utf8_lossy(&taken.stderr)));
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(png[20..24].try_into().unwrap());
    assert_eq!((width, height), (1400, 2400));
    assert!(
        png.len() > 50_000,
        "a blank page would compress far smaller: {} bytes",
        png.len()
    );

    let dom = headless(&["--dump-dom", &url], &profile);
    let dom = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(dom.matches("<svg").count(), traces, "one diagram per trace");
    assert_eq!(
        dom.matches("class=\"arrow").count(),
        message_steps,
        "one arrow per message step"
    );
    assert_eq!(
        dom.matches(" breaking\"").count(),
        traces,
        "the breaking step of each trace is marked"
    );
    assert!(
        dom.contains("master2 balance: 5 -&gt; -5") || dom.contains("master2 balance: 5 -> -5")
    );
    let _ = std::fs::remove_dir_all(&dir);
}
