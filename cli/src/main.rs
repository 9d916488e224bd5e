//! `cloudim`: the local all-in-one provider and the admin commands (the
//! chat client grows here next).

mod args;
mod client;
mod commands;
mod discover;

use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    cloudim_bootstrap::init_tracing();
    let cli = args::Cli::parse();
    match commands::run(cli).await {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("cloudim: {e:#}");
            std::process::ExitCode::from(4)
        }
    }
}
