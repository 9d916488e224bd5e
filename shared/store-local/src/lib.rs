//! The embedded cloudim store: every port on the local disk, under one data
//! directory, so a local provider needs nothing else and keeps its data
//! across restarts.
//!
//! Layout (every path starts with the tenant):
//! `tenants/{tenant}/feeds/{feed}/head.xml`, `…/archive/{page}.xml`,
//! `…/items/{item}`, and JSON records under `accounts/`, `tokens/`,
//! `feedmeta/`, `subs/{feed}/`, `follows/{url-key}/`, `inbox/{account}/{url-key}/`,
//! `keys/`, `invitations/{account}/`, `conversations/{account}/`,
//! `handshake-tokens/`, `blocks/{account}/`, `counters/`, `discovery/`, `usage.json`;
//! registered tenants under `registry/`.
//! Writes go to a temporary file that is renamed into place, so a crash
//! never leaves half a document.

mod feeds;
mod handshake;
mod keys;
mod records;
mod tables;
mod tenants;

use std::path::{Path, PathBuf};

use cloudim_domain::StoreError;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::sync::Mutex;

/// The embedded store. Implements every storage port of the domain.
pub struct LocalStore {
    root: PathBuf,
    /// Serialises read-check-write sequences (conditional writes, counters).
    write_lock: Mutex<()>,
}

impl LocalStore {
    /// Opens (creating if needed) a store in `root`.
    pub async fn open(root: impl AsRef<Path>) -> Result<Self, StoreError> {
        let root = root.as_ref().to_path_buf();
        tokio::fs::create_dir_all(root.join("tenants")).await.map_err(io)?;
        Ok(Self { root, write_lock: Mutex::new(()) })
    }

    /// The data directory.
    pub fn root(&self) -> &Path {
        &self.root
    }
}

fn io(e: std::io::Error) -> StoreError {
    StoreError::Backend(format!("local store: {e}"))
}

async fn read_bytes(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match tokio::fs::read(path).await {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io(e)),
    }
}

/// Writes a file atomically: a unique temporary file, then a rename.
async fn write_bytes(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let dir = path.parent().ok_or_else(|| StoreError::Backend("local store: path without parent".into()))?;
    tokio::fs::create_dir_all(dir).await.map_err(io)?;
    let tmp = dir.join(format!(".tmp-{}-{}", std::process::id(), rand_suffix()));
    tokio::fs::write(&tmp, bytes).await.map_err(io)?;
    tokio::fs::rename(&tmp, path).await.map_err(io)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

async fn read_json<T: DeserializeOwned>(path: &Path) -> Result<Option<T>, StoreError> {
    match read_bytes(path).await? {
        Some(b) => serde_json::from_slice(&b).map(Some).map_err(|e| StoreError::Backend(format!("local store: corrupt record {}: {e}", path.display()))),
        None => Ok(None),
    }
}

async fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<(), StoreError> {
    let bytes = serde_json::to_vec(value).map_err(|e| StoreError::Backend(e.to_string()))?;
    write_bytes(path, &bytes).await
}

async fn remove(path: &Path) -> Result<(), StoreError> {
    match tokio::fs::remove_file(path).await {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

/// Every JSON record directly inside `dir`, in file-name order.
async fn list_json<T: DeserializeOwned>(dir: &Path) -> Result<Vec<T>, StoreError> {
    let mut names = Vec::new();
    let mut rd = match tokio::fs::read_dir(dir).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    while let Some(entry) = rd.next_entry().await.map_err(io)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.ends_with(".json") && !name.starts_with('.') {
            names.push(name);
        }
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        if let Some(v) = read_json(&dir.join(n)).await? {
            out.push(v);
        }
    }
    Ok(out)
}

/// Every subdirectory name inside `dir`.
async fn list_dirs(dir: &Path) -> Result<Vec<String>, StoreError> {
    let mut out = Vec::new();
    let mut rd = match tokio::fs::read_dir(dir).await {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(io(e)),
    };
    while let Some(entry) = rd.next_entry().await.map_err(io)? {
        if entry.file_type().await.map_err(io)?.is_dir() {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    out.sort();
    Ok(out)
}
