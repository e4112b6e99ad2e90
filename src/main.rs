use clap::Parser;

fn main() {
    let cli = migtop::cli::Cli::parse();
    std::process::exit(migtop::cli::run(cli));
}
