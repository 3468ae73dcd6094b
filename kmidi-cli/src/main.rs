//! The `kmidi` binary: parses arguments, sets up logging and signals, and hands each
//! subcommand to its module under `commands`. Errors reach the user here, with their
//! context.

mod cli;
mod commands;
mod connect;
mod faults;
mod ids;
mod kafka_sh;
mod lab;
mod leaders;
mod load;
mod metrics;
mod outputs;
mod report;
mod session;
mod signals;
mod songs;
mod term;
mod verdict;
mod web;

use clap::Parser;
use tracing_subscriber::EnvFilter;

use crate::cli::{Cli, Command, TopicCommand};
use crate::signals::SignalStop;

fn main() {
    let cli = Cli::parse();
    // librdkafka logs at debug level only when `-X debug=...` asks it to: let those
    // lines through without -v, as kcat does.
    let default = match cli.verbose {
        0 => "warn,librdkafka=debug",
        1 => "debug",
        _ => "trace",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default)),
        )
        .with_writer(std::io::stderr)
        // Colour codes only for a terminal, never into logs or pipes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .without_time()
        .init();
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            1
        }
    };
    std::process::exit(code);
}

fn run(cli: Cli) -> anyhow::Result<i32> {
    use commands::*;
    match cli.command {
        Command::Player(args) => player::run(args, SignalStop::from_signals()?),
        Command::Instrument(args) => instrument::run(args, SignalStop::from_signals()?),
        Command::Demo(args) => demo::run(args, SignalStop::from_signals()?),
        Command::Compare(args) => compare::run(args, SignalStop::from_signals()?),
        Command::Topic(TopicCommand::Create(args)) => topic::create(args),
        Command::Ports => ports::run(),
        Command::Transports(args) => transports::run(args),
        Command::Member(args) => member::run(args.member_id),
        Command::LoadWorker => load_worker::run(),
    }
}
