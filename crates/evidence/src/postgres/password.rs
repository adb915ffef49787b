//! Where the password comes from, in libpq's order: the URI, then
//! `PGPASSWORD`, then the password file (`passfile=` in the URI, else
//! `PGPASSFILE`, else `~/.pgpass`). The Rust driver reads none of the last
//! two, so they are read here, as libpq reads them: lines
//! `host:port:database:user:password`, `*` matching anything in the first
//! four fields, `\:` and `\\` escaping, `#` starting a comment, the first
//! matching line winning. A password file that others may read is refused
//! (libpq skips it with a warning; here it is an error, never a guess).

use super::uri::{ConnectSpec, Host};
use crate::{Error, Result};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Most bytes of a password file.
const MAX_PASSFILE: u64 = 1 << 20;

/// The password for `spec`, if any source has one.
pub fn password(spec: &ConnectSpec) -> Result<Option<Zeroizing<String>>> {
    if let Some(p) = &spec.password {
        return Ok(Some(p.clone()));
    }
    if let Some(p) = spec.env.get("PGPASSWORD") {
        return Ok(Some(Zeroizing::new(p)));
    }
    let Some(file) = spec
        .passfile
        .clone()
        .or_else(|| spec.env.get("PGPASSFILE").map(PathBuf::from))
        .or_else(|| {
            spec.env
                .get("HOME")
                .map(|h| PathBuf::from(h).join(".pgpass"))
        })
    else {
        return Ok(None);
    };
    from_file(&file, spec)
}

fn from_file(path: &Path, spec: &ConnectSpec) -> Result<Option<Zeroizing<String>>> {
    use std::os::unix::fs::PermissionsExt;
    let meta = match std::fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
    };
    if !meta.is_file() {
        return Err(Error::Usage(format!(
            "password file {}: not a regular file",
            path.display()
        )));
    }
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(Error::Usage(format!(
            "password file {} may be read by others; make it private (chmod 600)",
            path.display()
        )));
    }
    if meta.len() > MAX_PASSFILE {
        return Err(Error::Usage(format!(
            "password file {}: larger than {MAX_PASSFILE} bytes",
            path.display()
        )));
    }
    let text = Zeroizing::new(std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?);
    let host = match &spec.host {
        // libpq matches a Unix-socket connection against `localhost`.
        Host::Socket(_) => "localhost".to_string(),
        Host::Tcp(name) => name.clone(),
    };
    let want = [
        host.as_str(),
        &spec.port.to_string(),
        spec.dbname.as_str(),
        spec.user.as_str(),
    ];
    for line in text.lines() {
        if line.starts_with('#') {
            continue;
        }
        let fields = split(line);
        let [h, p, d, u, password] = &fields[..] else {
            continue;
        };
        let fits = [h, p, d, u]
            .iter()
            .zip(want)
            .all(|(field, want)| field.as_str() == "*" || field.as_str() == want);
        if fits {
            return Ok(Some(Zeroizing::new(password.to_string())));
        }
    }
    Ok(None)
}

/// Splits a line at unescaped colons, undoing `\:` and `\\`.
fn split(line: &str) -> Vec<Zeroizing<String>> {
    let mut fields = vec![Zeroizing::new(String::new())];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == ':' && fields.len() < 5 {
            fields.push(Zeroizing::new(String::new()));
            continue;
        }
        let current = fields.last_mut().expect("one field at least");
        if c == '\\' {
            if let Some(next) = chars.next() {
                current.push(next);
            }
        } else {
            current.push(c);
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_first_matching_line_of_a_private_file_gives_the_password() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(
            &file,
            "# comment\nother:5432:*:writer:nope\ndb.example:*:evidence:writer:s\\:e\\\\cret\n*:*:*:*:fallback\n",
        )
        .unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let spec = ConnectSpec::parse(
            "postgres://writer@db.example:6000/evidence",
            &super::super::PgEnv::default(),
        )
        .unwrap();
        assert_eq!(
            from_file(&file, &spec)
                .unwrap()
                .as_deref()
                .map(String::as_str),
            Some("s:e\\cret")
        );
        let spec = ConnectSpec::parse(
            "postgres://reader@elsewhere/x",
            &super::super::PgEnv::default(),
        )
        .unwrap();
        assert_eq!(
            from_file(&file, &spec)
                .unwrap()
                .as_deref()
                .map(String::as_str),
            Some("fallback")
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(from_file(&file, &spec).is_err(), "a file others can read");
        assert!(
            from_file(&dir.path().join("absent"), &spec)
                .unwrap()
                .is_none()
        );
    }
}
