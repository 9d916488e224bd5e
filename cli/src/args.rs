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
    /// Find a person's PM endpoint (or key) from their identity URL or
    /// acct:user@host. Prints the endpoint as the first line of stdout, and
    /// nothing when there is none. Exit codes: 0 found, 1 none, 2 usage,
    /// 3 refused (a private or otherwise forbidden address), 4 error.
    Discover {
        /// The identity URL, or acct:user@host.
        target: String,
        /// Which relation to look for.
        #[arg(long, value_enum, default_value = "pm")]
        rel: Rel,
        /// Allow this exact host:port even on a private address (repeatable).
        #[arg(long = "allow", value_name = "HOST:PORT")]
        allow: Vec<String>,
        /// Allow every private and loopback address (local development only).
        #[arg(long)]
        allow_private: bool,
    },
    /// Invite someone (identity URL or acct:user@host) to a conversation.
    Invite {
        /// Their identity.
        identity: String,
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List your invitations, incoming and outgoing.
    Invitations {
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Accept an incoming invitation: a conversation opens both ways.
    Accept {
        /// The invitation id (from `cloudim invitations`).
        id: String,
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Decline an incoming invitation (the sender is told).
    Decline {
        /// The invitation id.
        id: String,
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Decline an incoming invitation and drop every later one from its sender.
    Block {
        /// The invitation id.
        id: String,
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Publish your armored public key on your identity page.
    PublishKey {
        /// A file holding the ASCII-armored public key.
        file: std::path::PathBuf,
        /// The key's fingerprint.
        #[arg(long)]
        fingerprint: String,
        /// Your provider and token.
        #[command(flatten)]
        client: ClientArgs,
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

/// The relation types discovery looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Rel {
    /// The private-messaging endpoint.
    Pm,
    /// The OpenPGP key.
    Pgpkey,
}

/// Where the client's account lives.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Your provider's base URL.
    #[arg(long, env = "CLOUDIM_PROVIDER")]
    pub provider: String,
    /// Your account's token.
    #[arg(long, env = "CLOUDIM_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Print the provider's JSON answer instead of text.
    #[arg(long)]
    pub json: bool,
}
