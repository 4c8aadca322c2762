//! Every file splitbrain reads or writes goes through here, so that no input hangs or
//! floods memory and no output is written through a link or over something that is not
//! a file.
//!
//! - [`read_input`] opens without blocking, refuses what is not a regular file (a FIFO,
//!   a device, a directory) and stops reading past a stated size, whatever size the file
//!   claims.
//! - [`write_output`] writes a temporary file created exclusively beside the target,
//!   flushes it and renames it over the target: a reader sees the whole file or the old
//!   one. It refuses a target that is a symbolic link or not a regular file, and the
//!   temporary file is removed on every failure (a full disk leaves nothing behind).

use crate::error::Error;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Reads the regular file `path` (at most `max_bytes`); `what` names it in errors ("the
/// topology file").
pub fn read_input(path: &Path, what: &str, max_bytes: u64) -> Result<Vec<u8>, Error> {
    let shown = path.display();
    let fail =
        |e: &dyn std::fmt::Display| Error::BadInput(format!("{shown}: cannot read {what}: {e}"));
    let mut open = std::fs::OpenOptions::new();
    open.read(true);
    #[cfg(unix)]
    {
        // A FIFO opened for reading without O_NONBLOCK waits for a writer forever.
        use std::os::unix::fs::OpenOptionsExt;
        open.custom_flags(libc::O_NONBLOCK);
    }
    let file = open.open(path).map_err(|e| fail(&e))?;
    let meta = file.metadata().map_err(|e| fail(&e))?;
    if meta.is_dir() {
        return Err(Error::BadInput(format!(
            "{shown}: is a directory, expected {what}"
        )));
    }
    if !meta.is_file() {
        return Err(Error::BadInput(format!(
            "{shown}: is not a regular file (a FIFO, socket or device), expected {what}"
        )));
    }
    let mut bytes = Vec::new();
    file.take(max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| fail(&e))?;
    if bytes.len() as u64 > max_bytes {
        return Err(Error::BadInput(format!(
            "{shown}: {what} is too large: at most {max_bytes} bytes"
        )));
    }
    Ok(bytes)
}

/// How [`write_output`] treats an existing target.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Existing {
    /// Replace a regular file.
    Replace,
    /// Refuse: the target must not exist (it is never overwritten).
    Keep,
}

/// Writes `bytes` to `path`, atomically (see the module documentation); `mode` sets the
/// file's permissions (Unix).
pub fn write_output(
    path: &Path,
    bytes: &[u8],
    existing: Existing,
    mode: Option<u32>,
) -> Result<(), Error> {
    let shown = path.display();
    let fail = |e: &dyn std::fmt::Display| Error::BadInput(format!("cannot write {shown}: {e}"));
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(Error::BadInput(format!(
                "{shown} is a symbolic link: splitbrain does not write through links; remove it or choose another path"
            )))
        }
        Ok(m) if !m.is_file() => {
            return Err(Error::BadInput(format!(
                "{shown} is not a regular file (a directory, FIFO or device): not replaced; choose another path"
            )))
        }
        Ok(_) if existing == Existing::Keep => {
            return Err(Error::BadInput(format!(
                "{shown} already exists: not overwritten; choose another name or remove it first"
            )))
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(fail(&e)),
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".splitbrain-")
        .suffix(".tmp")
        .tempfile_in(parent(path))
        .map_err(|e| fail(&e))?;
    tmp.write_all(bytes).map_err(|e| fail(&e))?;
    #[cfg(unix)]
    if let Some(mode) = mode {
        use std::os::unix::fs::PermissionsExt;
        let perms = std::fs::Permissions::from_mode(mode);
        tmp.as_file().set_permissions(perms).map_err(|e| fail(&e))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    tmp.as_file().sync_all().map_err(|e| fail(&e))?;
    match existing {
        Existing::Replace => tmp.persist(path).map(drop).map_err(|e| fail(&e.error)),
        Existing::Keep => tmp.persist_noclobber(path).map(drop).map_err(|e| {
            if e.error.kind() == std::io::ErrorKind::AlreadyExists {
                Error::BadInput(format!(
                    "{shown} already exists: not overwritten; choose another name or remove it first"
                ))
            } else {
                fail(&e.error)
            }
        }),
    }
}

/// The directory a file is written in ("." for a bare name).
pub fn parent(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_that_are_not_regular_files_are_refused_at_once() {
        let dir = tempfile::tempdir().unwrap();
        assert!(read_input(Path::new("/dev/zero"), "a topology file", 1000).is_err());
        let fifo = dir.path().join("fifo.toml");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let e = read_input(&fifo, "a topology file", 1000).unwrap_err();
        assert!(e.to_string().contains("not a regular file"), "{e}");
        let big = dir.path().join("big.toml");
        std::fs::write(&big, vec![b'#'; 2000]).unwrap();
        let e = read_input(&big, "a topology file", 1000).unwrap_err();
        assert!(e.to_string().contains("too large"), "{e}");
        assert_eq!(
            read_input(&big, "a topology file", 2000).unwrap().len(),
            2000
        );
    }

    #[test]
    fn outputs_never_go_through_links_or_over_devices() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        std::fs::write(&target, "keep me").unwrap();
        let link = dir.path().join("out.html");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(write_output(&link, b"x", Existing::Replace, None).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        assert!(write_output(Path::new("/dev/null"), b"x", Existing::Replace, None).is_err());
        assert!(write_output(&target, b"x", Existing::Keep, None).is_err());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
        let fresh = dir.path().join("fresh");
        write_output(&fresh, b"new", Existing::Keep, Some(0o755)).unwrap();
        write_output(&target, b"replaced", Existing::Replace, None).unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "replaced");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 3, "no temporary file is left behind");
    }
}
