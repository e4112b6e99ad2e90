use clap::Parser;

use migtop::cli::{Cli, Command};
use migtop::commands;
use migtop::util::error::{self, EXIT_USAGE};

fn main() {
    let cli = Cli::parse();
    std::process::exit(run(cli));
}

/// Runs the parsed command on a small runtime and returns the process exit code.
fn run(cli: Cli) -> i32 {
    // The dashboard idles for seconds between polls: on one thread, its wake-ups (the tick,
    // each poll's I/O) cost no hand-over between workers. What it does between them is small
    // (a page decodes in about a millisecond), so the keys stay prompt.
    let one_thread = matches!(cli.command, None | Some(Command::Watch(_)));
    let mut builder = if one_thread {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut b = tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(2);
        b
    };
    let runtime = match builder.enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("migtop: cannot start the async runtime: {e}");
            return EXIT_USAGE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Some(Command::Status(args)) => commands::status::run(args).await,
            Some(Command::Watch(args)) => commands::watch::run(args).await,
            None => commands::watch::run(cli.watch).await,
            Some(Command::Wait(args)) => commands::wait::run(args).await,
            Some(Command::Switchover(args)) => commands::switchover::run(args).await,
            Some(Command::Demo(args)) => commands::demo::run(args).await,
            Some(Command::Replay(args)) => commands::replay::run(args).await,
            Some(Command::Report(args)) => commands::report::run(args).await,
            Some(Command::Simulate(args)) => commands::simulate::run(args).await,
            Some(Command::Exporter(args)) => commands::exporter::run(args).await,
            Some(Command::Lab(args)) => commands::lab::run(args).await,
            Some(Command::Config(args)) => commands::config::run(args).await,
            Some(Command::Completions(args)) => commands::docs::completions(args.shell),
            Some(Command::Man) => commands::docs::man(),
        }
    });
    error::report(result)
}
