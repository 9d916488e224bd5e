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
    /// Keep the account, key and state under this directory instead of
    /// the XDG config and data directories (another device, a test).
    #[arg(long, global = true, env = "CLOUDIM_HOME")]
    pub home: Option<std::path::PathBuf>,
    /// Print JSON (one object per line) instead of text.
    #[arg(long, global = true)]
    pub json: bool,
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
    /// Create your key and account: `--name` registers a new account (if
    /// the provider allows open registration), `--token` signs in to an
    /// existing one (a second device brings its key with `--key`).
    Init {
        /// Your provider's base URL.
        #[arg(long, env = "CLOUDIM_PROVIDER")]
        provider: String,
        /// A new account's name.
        #[arg(long, conflicts_with = "token")]
        name: Option<String>,
        /// An existing account's token.
        #[arg(long, env = "CLOUDIM_TOKEN", hide_env_values = true)]
        token: Option<String>,
        /// Use this secret key (from `cloudim key export` or `gpg --export-secret-keys --armor`).
        #[arg(long)]
        key: Option<std::path::PathBuf>,
    },
    /// Send a message (the text argument, or standard input).
    Send {
        /// Who: their identity URL, acct:name@host, or name.
        peer: String,
        /// The message; read from standard input when absent.
        message: Option<String>,
    },
    /// Show a conversation's history, both ways.
    Read {
        /// Who.
        peer: String,
        /// How many of the newest messages.
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },
    /// List conversations with unread counts, and invitations waiting.
    Chats,
    /// Stay connected and print new messages from every conversation.
    Watch {
        /// Stop after this many messages.
        #[arg(long)]
        count: Option<usize>,
        /// Stop after this many seconds.
        #[arg(long)]
        timeout: Option<u64>,
    },
    /// Trust a peer's new key after checking its fingerprint with them.
    Trust {
        /// Who.
        peer: String,
        /// The fingerprint they told you.
        fingerprint: String,
    },
    /// Your key: show, export (for another device), import.
    Key {
        /// What to do with it.
        #[command(subcommand)]
        command: KeyCommand,
    },
    /// Send what waits in the outbox.
    Flush,
    /// Administer a provider.
    Admin {
        /// The admin command.
        #[command(subcommand)]
        command: AdminCommand,
    },
}

/// Admin commands. Each works through a running provider's `/admin` routes
/// (`--provider URL` with `CLOUDIM_ADMIN_TOKEN`), or directly on the store
/// the configuration names (`--store aws --bucket … --table …` with AWS
/// credentials: a deployed stack).
#[derive(Subcommand)]
pub enum AdminCommand {
    /// Create an account and print its token (shown once).
    CreateAccount {
        /// The account name (lowercase letters, digits, '_' and '-').
        name: String,
        /// The tenant (domain) to create it in; through `--provider`, the
        /// URL's host when not given, else `127.0.0.1`.
        #[arg(long)]
        tenant: Option<String>,
        /// Where to do it.
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Tenants: the domains a deployment serves, and their limits.
    Tenant {
        /// What to do.
        #[command(subcommand)]
        command: TenantCommand,
    },
    /// Create the bucket and table the configuration names, if missing (an
    /// emulator such as moto or LocalStack, via `AWS_ENDPOINT_URL`).
    CreateResources {
        /// Store configuration.
        #[command(flatten)]
        config: Config,
    },
}

/// Tenant commands.
#[derive(Subcommand)]
pub enum TenantCommand {
    /// Serve a domain as a tenant, or change its limits (those given change).
    Add {
        /// The domain.
        domain: String,
        /// Accounts it may hold.
        #[arg(long)]
        max_accounts: Option<u64>,
        /// Items its accounts may publish per minute, together.
        #[arg(long)]
        publishes_per_minute: Option<u64>,
        /// Bytes of item payloads its feeds may hold.
        #[arg(long)]
        max_storage_bytes: Option<u64>,
        /// Where to do it.
        #[command(flatten)]
        target: AdminTarget,
    },
    /// Every tenant, with limits and usage.
    List {
        /// Where to look.
        #[command(flatten)]
        target: AdminTarget,
    },
    /// One tenant's limits and usage.
    Show {
        /// The domain.
        domain: String,
        /// Where to look.
        #[command(flatten)]
        target: AdminTarget,
    },
}

/// Where an admin command acts: a running provider, or the store directly.
#[derive(Clone, clap::Args)]
pub struct AdminTarget {
    /// A running provider's base URL (needs `CLOUDIM_ADMIN_TOKEN`).
    #[arg(long)]
    pub provider: Option<String>,
    /// Without `--provider`: the store configuration.
    #[command(flatten)]
    pub config: Config,
}

/// Key commands.
#[derive(Subcommand)]
pub enum KeyCommand {
    /// Print your fingerprint.
    Show,
    /// Print your secret key, armored (protected with `CLOUDIM_PASSPHRASE` if set).
    Export,
    /// Use this secret key on this device.
    Import {
        /// The armored secret key.
        file: std::path::PathBuf,
        /// Publish it as your account's key if it is not already (a key change).
        #[arg(long)]
        publish: bool,
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

/// Where the client's account lives: these flags, or the account `cloudim
/// init` set up.
#[derive(Debug, Clone, clap::Args)]
pub struct ClientArgs {
    /// Your provider's base URL.
    #[arg(long, env = "CLOUDIM_PROVIDER")]
    pub provider: Option<String>,
    /// Your account's token.
    #[arg(long, env = "CLOUDIM_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
}
