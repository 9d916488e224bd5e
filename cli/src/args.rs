//! The command line, as clap definitions only.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};
use cloudim_bootstrap::Config;

/// cloudim: private messaging over RSS and rssCloud.
#[derive(Parser)]
#[command(name = "cloudim", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Subcommand)]
pub enum Command {
    /// Run a local provider: all four functions in one process.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "CLOUDIM_LISTEN", default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Refuse outbound requests to private and loopback addresses, as on
        /// Lambda (by default the local provider allows them, for development).
        #[arg(long)]
        strict_outbound: bool,
        /// Provider configuration.
        #[command(flatten)]
        config: Config,
    },
    /// Administer a provider.
    Admin {
        /// The admin command.
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Admin commands.
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account and print its token (shown once).
    CreateAccount {
        /// The account name (lowercase letters, digits, '_' and '-').
        name: String,
        /// Create it through a running provider's `/admin/accounts` (needs
        /// `CLOUDIM_ADMIN_TOKEN`); the tenant is that URL's host.
        #[arg(long)]
        provider: Option<String>,
        /// Without `--provider`: write directly to the configured store, for
        /// this tenant (host name).
        #[arg(long, default_value = "127.0.0.1")]
        tenant: String,
        /// Store configuration (without `--provider`).
        #[command(flatten)]
        config: Config,
    },
}
