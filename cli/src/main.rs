//! The `cloudim` binary.

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cloudim_bootstrap::init_tracing();
    let cli = cloudim::args::Cli::parse();
    std::process::ExitCode::from(cloudim::commands::run(cli).await)
}
