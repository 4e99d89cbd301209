//! Platform certificates as files: `DIR/wechatpay_<SERIAL>.pem`, one certificate each.

use std::fmt;
use std::path::{Path, PathBuf};

use super::PlatformCertificate;
use crate::keys::{KeyError, KeyStore};

/// A certificate directory could not be read or written.
#[derive(Debug)]
#[non_exhaustive]
pub enum DirectoryError {
    /// A file or the directory could not be read, created or written.
    Io {
        /// The path.
        path: PathBuf,
        /// What happened.
        source: std::io::Error,
    },
    /// A `.pem` file holds no usable certificate.
    Key {
        /// The file.
        path: PathBuf,
        /// Why.
        source: KeyError,
    },
}

impl fmt::Display for DirectoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Io { path, source } => write!(f, "{}: {source}", path.display()),
            Self::Key { path, source } => write!(f, "invalid platform certificate {}: {source}", path.display()),
        }
    }
}

impl std::error::Error for DirectoryError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. } => Some(source),
            Self::Key { source, .. } => Some(source),
        }
    }
}

/// The file name of a certificate: `wechatpay_<SERIAL>.pem`.
pub fn file_name(serial_no: &str) -> String {
    format!("wechatpay_{serial_no}.pem")
}

/// Writes each certificate to `dir/wechatpay_<SERIAL>.pem` (creating `dir`; each file is
/// written beside and renamed into place, so a reader never sees half a file). Returns the
/// paths, in the order given. Only serials of `[0-9A-Za-z]` are written (they come from
/// the network and name files).
///
/// # Errors
/// [`DirectoryError::Io`].
pub fn save_directory(dir: &Path, certificates: &[PlatformCertificate]) -> Result<Vec<PathBuf>, DirectoryError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DirectoryError::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let mut paths = Vec::with_capacity(certificates.len());
    for cert in certificates {
        if cert.serial_no.is_empty() || !cert.serial_no.bytes().all(|b| b.is_ascii_alphanumeric()) {
            let source = std::io::Error::new(std::io::ErrorKind::InvalidInput, "serial_no is not [0-9A-Za-z]+");
            return Err(DirectoryError::Io { path: dir.to_owned(), source });
        }
        let path = dir.join(file_name(&cert.serial_no));
        let partial = dir.join(format!(".{}.partial", file_name(&cert.serial_no)));
        std::fs::write(&partial, cert.pem.as_bytes()).map_err(io(&partial))?;
        std::fs::rename(&partial, &path).map_err(io(&path))?;
        paths.push(path);
    }
    Ok(paths)
}

/// Adds every certificate of every `*.pem` file in `dir` (sorted by name) to `keys`, and
/// returns the serials added.
///
/// # Errors
/// [`DirectoryError::Io`] when the directory or a file cannot be read,
/// [`DirectoryError::Key`] when a `.pem` file is not a usable certificate.
pub fn load_directory(keys: &mut KeyStore, dir: &Path) -> Result<Vec<String>, DirectoryError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| DirectoryError::Io { path, source }
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if path.extension().is_some_and(|e| e == "pem") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let mut serials = Vec::new();
    for path in files {
        let pem = std::fs::read(&path).map_err(io(&path))?;
        let added = keys.add_platform_certificates(&pem).map_err(|source| DirectoryError::Key { path, source })?;
        serials.extend(added);
    }
    Ok(serials)
}
