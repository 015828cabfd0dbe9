//! WASI command test guest: `_start` runs `main` once per run. It echoes its arguments, counts
//! the lines and bytes of stdin, reads an environment variable, writes to stderr, and exits with
//! the code given as `--exit N`.

use std::io::{Read, Write};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mut input = Vec::new();
    std::io::stdin().read_to_end(&mut input).expect("stdin");
    let lines = input.iter().filter(|&&b| b == b'\n').count();
    println!("args: {}", args.join(" "));
    println!("stdin: {} lines, {} bytes", lines, input.len());
    println!("GREETING: {}", std::env::var("GREETING").unwrap_or_else(|_| "(none)".into()));
    eprintln!("to stderr");
    std::io::stdout().flush().expect("stdout");
    let code = args
        .iter()
        .position(|a| a == "--exit")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    std::process::exit(code);
}
