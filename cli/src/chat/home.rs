//! Where the client keeps things: the account and secret key in the config
//! directory, pinned keys, read markers and the outbox in the data
//! directory. XDG paths by default; `--home DIR` (or `CLOUDIM_HOME`) puts
//! both under one directory (a second device, a test). Files are written
//! atomically and readable by their owner only.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde::de::DeserializeOwned;

use super::ChatError;

/// The account this client acts for.
#[derive(Clone, Serialize, Deserialize)]
pub struct AccountFile {
    /// The provider's base URL.
    pub provider: String,
    /// The account name.
    pub name: String,
    /// The account's identity URL.
    pub identity: String,
    /// The account's bearer token.
    pub token: String,
}

impl std::fmt::Debug for AccountFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccountFile").field("provider", &self.provider).field("name", &self.name).finish_non_exhaustive()
    }
}

/// The client's directories.
#[derive(Debug, Clone)]
pub struct Home {
    /// Account and secret key.
    pub config: PathBuf,
    /// Pins, read markers, outbox.
    pub data: PathBuf,
}

impl Home {
    /// `dir` for both, or the XDG directories.
    pub fn resolve(dir: Option<&Path>) -> Result<Self, ChatError> {
        if let Some(d) = dir {
            return Ok(Self { config: d.join("config"), data: d.join("data") });
        }
        let env_dir = |var: &str| std::env::var_os(var).filter(|v| !v.is_empty()).map(PathBuf::from);
        let home = env_dir("HOME");
        let config = env_dir("XDG_CONFIG_HOME").or_else(|| home.as_ref().map(|h| h.join(".config")));
        let data = env_dir("XDG_DATA_HOME").or_else(|| home.as_ref().map(|h| h.join(".local/share")));
        match (config, data) {
            (Some(c), Some(d)) => Ok(Self { config: c.join("cloudim"), data: d.join("cloudim") }),
            _ => Err(ChatError::Local("neither HOME nor XDG_CONFIG_HOME/XDG_DATA_HOME is set; use --home DIR".into())),
        }
    }

    /// The account file.
    pub fn account_path(&self) -> PathBuf {
        self.config.join("account.json")
    }

    /// The secret key file.
    pub fn key_path(&self) -> PathBuf {
        self.config.join("key.asc")
    }

    /// Reads the account, or says how to create one.
    pub fn account(&self) -> Result<AccountFile, ChatError> {
        read_json(&self.account_path())?.ok_or_else(|| ChatError::NotInitialised(self.config.display().to_string()))
    }

    /// Whether an account is set up here.
    pub fn is_initialised(&self) -> bool {
        self.account_path().exists()
    }
}

/// Reads a JSON file; `None` when it does not exist.
pub fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, ChatError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| ChatError::Local(format!("{} is damaged: {e}", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ChatError::Local(format!("reading {}: {e}", path.display()))),
    }
}

/// Writes a JSON file atomically, owner-only.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), ChatError> {
    let bytes = serde_json::to_vec_pretty(value).map_err(|e| ChatError::Local(e.to_string()))?;
    write_private(path, &bytes)
}

/// Writes bytes atomically (temporary file, fsync, rename), mode 0600 in a
/// 0700 directory.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), ChatError> {
    let dir = path.parent().ok_or_else(|| ChatError::Local(format!("{} has no directory", path.display())))?;
    create_private_dir(dir)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(|e| ChatError::Local(format!("writing in {}: {e}", dir.display())))?;
    set_mode(tmp.path(), 0o600)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| ChatError::Local(format!("writing {}: {e}", path.display())))?;
    Ok(())
}

/// Creates a directory (and parents) readable by its owner only.
pub fn create_private_dir(dir: &Path) -> Result<(), ChatError> {
    if !dir.exists() {
        std::fs::create_dir_all(dir).map_err(|e| ChatError::Local(format!("creating {}: {e}", dir.display())))?;
        set_mode(dir, 0o700)?;
    }
    Ok(())
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<(), ChatError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).map_err(|e| ChatError::Local(format!("{}: {e}", path.display())))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<(), ChatError> {
    Ok(())
}
