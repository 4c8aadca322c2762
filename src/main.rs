//! The `splitbrain` binary: see `splitbrain --help`.

fn main() {
    // Rust ignores SIGPIPE, which turns `splitbrain matrix | head` into a panic on the
    // closed pipe; the default action ends the process quietly, as Unix tools do.
    // SAFETY: setting a signal's disposition to its default at start-up, before any
    // other thread exists, has no preconditions.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    std::process::exit(splitbrain::cli::main_with(std::env::args_os()));
}
