//! The `splitbrain` binary: see `splitbrain --help`.

fn main() {
    std::process::exit(splitbrain::cli::main_with(std::env::args_os()));
}
