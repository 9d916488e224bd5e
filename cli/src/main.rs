//! `cloudim`: the local all-in-one provider and the admin commands (the
//! chat client grows here next).

mod args;
mod commands;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cloudim_bootstrap::init_tracing();
    let cli = args::Cli::parse();
    match commands::run(cli).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("cloudim: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
