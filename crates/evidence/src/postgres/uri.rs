//! PostgreSQL connection URIs as libpq reads them
//! (`postgres://USER[:PASSWORD]@HOST[:PORT]/DB?PARAM=VALUE&...`), reduced
//! to what the evidence store needs, and refusing what it does not
//! support rather than ignoring it. A password written in the URI is kept
//! apart and never shown: the URI is displayed with `***` in its place.

use crate::{Error, Result};
use std::path::PathBuf;
use std::time::Duration;
use zeroize::Zeroizing;

/// How TLS is used (libpq's `sslmode`). `allow` and `prefer` are refused:
/// they fall back to plaintext without saying so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum SslMode {
    /// No TLS.
    Disable,
    /// TLS, the server's certificate not checked (unless a root
    /// certificate is given: then as `verify-ca`).
    Require,
    /// TLS, the certificate chains to a trusted root.
    VerifyCa,
    /// TLS, the certificate chains to a trusted root and names the host.
    VerifyFull,
}

/// Where the server is.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Host {
    /// A host name or IP address.
    Tcp(String),
    /// A directory holding the server's Unix socket.
    Socket(PathBuf),
}

/// A parsed connection URI.
#[derive(Clone)]
pub struct ConnectSpec {
    /// The server.
    pub host: Host,
    /// Its port.
    pub port: u16,
    /// The role to log in as.
    pub user: String,
    /// The database.
    pub dbname: String,
    /// A password written in the URI (else `PGPASSWORD` or the password
    /// file supply one).
    pub(super) password: Option<Zeroizing<String>>,
    /// The TLS mode.
    pub sslmode: SslMode,
    /// Trusted root certificates (a PEM file, or `system`).
    pub sslrootcert: Option<String>,
    /// The password file, when named in the URI.
    pub passfile: Option<PathBuf>,
    /// How long to wait for a connection.
    pub connect_timeout: Duration,
    /// Shown in the server's activity view.
    pub application_name: Option<String>,
    /// The URI as it may be shown.
    redacted: String,
    /// The libpq environment given with the URI.
    pub(super) env: PgEnv,
}

/// The libpq environment variables a connection falls back on, as values
/// the caller gives (the library reads no environment): `PGHOST`,
/// `PGUSER`, `USER`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGPASSWORD`,
/// `PGPASSFILE` and `HOME` (for `~/.pgpass` and
/// `~/.postgresql/root.crt`). The binary passes its process's;
/// [`PgEnv::default`] has none of them. Its `Debug` shows names only.
#[derive(Clone, Default)]
pub struct PgEnv(std::collections::BTreeMap<&'static str, Zeroizing<String>>);

impl PgEnv {
    /// The variables read, by name.
    pub const NAMES: [&'static str; 8] = [
        "PGHOST",
        "PGUSER",
        "USER",
        "PGSSLMODE",
        "PGSSLROOTCERT",
        "PGPASSWORD",
        "PGPASSFILE",
        "HOME",
    ];

    /// The variables `lookup` gives a non-empty value for (for example
    /// `PgEnv::from_lookup(|name| std::env::var(name).ok())`).
    pub fn from_lookup(mut lookup: impl FnMut(&str) -> Option<String>) -> Self {
        PgEnv(
            Self::NAMES
                .iter()
                .filter_map(|&name| {
                    lookup(name)
                        .filter(|v| !v.is_empty())
                        .map(|v| (name, Zeroizing::new(v)))
                })
                .collect(),
        )
    }

    pub(super) fn get(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.to_string())
    }
}

impl std::fmt::Debug for PgEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl std::fmt::Debug for ConnectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ConnectSpec({})", self.redacted)
    }
}

impl std::fmt::Display for ConnectSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted)
    }
}

fn usage(why: String) -> Error {
    Error::Usage(format!("database URI: {why}"))
}

/// Decodes `%XX` escapes.
fn decode(text: &str) -> Result<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let byte = text
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| usage("a malformed %-escape".into()))?;
            out.push(byte);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| usage("a %-escape that is not UTF-8".into()))
}

fn is_loopback(host: &Host) -> bool {
    match host {
        Host::Socket(_) => true,
        Host::Tcp(name) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    }
}

impl ConnectSpec {
    /// Parses a `postgres://` or `postgresql://` URI; what it leaves out
    /// comes from `env` as libpq would take it from the environment
    /// (`PgEnv::default()` for nothing).
    pub fn parse(uri: &str, env: &PgEnv) -> Result<Self> {
        let env_var = |name: &str| env.get(name);
        let rest = ["postgresql://", "postgres://"]
            .iter()
            .find_map(|scheme| {
                uri.get(..scheme.len())
                    .filter(|s| s.eq_ignore_ascii_case(scheme))
                    .map(|s| &uri[s.len()..])
            })
            .ok_or_else(|| usage("not a postgres:// URI".into()))?;
        if uri.chars().any(char::is_control) {
            return Err(usage("control characters".into()));
        }
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        // An '@' past the host part: a user name or password with an
        // unescaped '/' or '?' (libpq reads these URIs no better). Nothing
        // of the text is echoed: it may be part of the password.
        if path.is_some_and(|p| p.contains('@')) || query.is_some_and(|q| q.contains('@')) {
            return Err(usage(
                "an '@' after the host: percent-encode '/', '?', '&', ':' and '@' in the user name and password (%2F, %3F, %26, %3A, %40), or give the password in PGPASSWORD or a password file".into(),
            ));
        }
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let mut user = None;
        let mut password = None;
        if let Some(info) = userinfo {
            let (u, p) = match info.split_once(':') {
                Some((u, p)) => (u, Some(p)),
                None => (info, None),
            };
            if !u.is_empty() {
                user = Some(decode(u)?);
            }
            if let Some(p) = p {
                password = Some(Zeroizing::new(decode(p)?));
            }
        }
        if hostport.contains(',') {
            return Err(usage(
                "several hosts are not supported; name one server".into(),
            ));
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| usage("an unclosed [IPv6] host".into()))?;
            (h.to_string(), after.strip_prefix(':'))
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (decode(h)?, Some(p)),
                None => (decode(hostport)?, None),
            }
        };
        let mut spec = ConnectSpec {
            host: Host::Tcp(host),
            port: 5432,
            user: String::new(),
            dbname: String::new(),
            password,
            sslmode: SslMode::Disable,
            sslrootcert: None,
            passfile: None,
            connect_timeout: Duration::from_secs(10),
            application_name: None,
            redacted: String::new(),
            env: env.clone(),
        };
        if let Some(port) = port.filter(|p| !p.is_empty()) {
            spec.port = parse_port(port)?;
        }
        let mut dbname = path.filter(|p| !p.is_empty()).map(decode).transpose()?;
        let mut sslmode = None;
        for pair in query
            .unwrap_or_default()
            .split('&')
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| usage(format!("parameter {pair:?} has no value")))?;
            let value = decode(value)?;
            match key {
                "host" => spec.host = Host::Tcp(value),
                "port" => spec.port = parse_port(&value)?,
                "user" => user = Some(value),
                "dbname" => dbname = Some(value),
                "password" => spec.password = Some(Zeroizing::new(value)),
                "sslmode" => sslmode = Some(parse_sslmode(&value)?),
                "sslrootcert" => spec.sslrootcert = Some(value),
                "passfile" => spec.passfile = Some(PathBuf::from(value)),
                "application_name" => spec.application_name = Some(value),
                "connect_timeout" => {
                    let secs: u64 = value.parse().map_err(|_| {
                        usage(format!(
                            "connect_timeout {value:?} is not a number of seconds"
                        ))
                    })?;
                    spec.connect_timeout = Duration::from_secs(secs.max(2));
                }
                other => {
                    return Err(usage(format!(
                        "the parameter {other:?} is not supported (host, port, user, dbname, password, sslmode, sslrootcert, passfile, application_name, connect_timeout)"
                    )));
                }
            }
        }
        // libpq: an empty host, or one that is a path, is a Unix socket
        // directory.
        if let Host::Tcp(name) = &spec.host {
            if name.is_empty() {
                spec.host = Host::Socket(PathBuf::from(
                    env_var("PGHOST").unwrap_or_else(|| "/var/run/postgresql".into()),
                ));
            } else if name.starts_with('/') {
                spec.host = Host::Socket(PathBuf::from(name));
            }
        }
        spec.user = user
            .or_else(|| env_var("PGUSER"))
            .or_else(|| env_var("USER"))
            .ok_or_else(|| usage("no user (name one: postgres://USER@HOST/DB)".into()))?;
        spec.dbname = dbname.unwrap_or_else(|| spec.user.clone());
        if spec.sslrootcert.is_none() {
            spec.sslrootcert = env_var("PGSSLROOTCERT");
        }
        let sslmode = match sslmode {
            Some(mode) => Some(mode),
            None => env_var("PGSSLMODE")
                .map(|m| parse_sslmode(&m))
                .transpose()?,
        };
        spec.sslmode = match sslmode {
            Some(mode) => mode,
            // `sslrootcert=system` asks for full verification (as libpq).
            None if spec.sslrootcert.as_deref() == Some("system") => SslMode::VerifyFull,
            // No TLS asked for: none on this machine, full verification
            // for any other host.
            None if is_loopback(&spec.host) => SslMode::Disable,
            None => SslMode::VerifyFull,
        };
        if spec.sslrootcert.as_deref() == Some("system") && spec.sslmode != SslMode::VerifyFull {
            return Err(usage(
                "sslrootcert=system needs sslmode=verify-full (as in libpq)".into(),
            ));
        }
        spec.redacted = redact(uri);
        Ok(spec)
    }
}

fn parse_port(text: &str) -> Result<u16> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| usage(format!("port {text:?} is not a port number")))
}

fn parse_sslmode(text: &str) -> Result<SslMode> {
    match text {
        "disable" => Ok(SslMode::Disable),
        "require" => Ok(SslMode::Require),
        "verify-ca" => Ok(SslMode::VerifyCa),
        "verify-full" => Ok(SslMode::VerifyFull),
        "allow" | "prefer" => Err(usage(format!(
            "sslmode={text} may fall back to plaintext without a word; say disable, require, verify-ca or verify-full"
        ))),
        other => Err(usage(format!("unknown sslmode {other:?}"))),
    }
}

/// The URI with any password (in the user part or a `password=`
/// parameter) replaced by `***`. Everything before the last `@` is taken
/// for user information, so a password holding an unescaped `/`, `?` or
/// `&` is hidden whole too.
pub fn redact(uri: &str) -> String {
    let scheme_end = uri.find("://").map_or(0, |i| i + 3);
    let (head, rest) = uri.split_at(scheme_end);
    let (info, after) = match rest.rfind('@') {
        Some(at) => {
            let info = &rest[..at];
            let shown = match info.split_once(':') {
                Some((user, _)) if !user.contains(['/', '?', '&']) => format!("{user}:***@"),
                Some(_) => "***@".to_string(),
                None if info.contains(['/', '?', '&']) => "***@".to_string(),
                None => format!("{info}@"),
            };
            (shown, &rest[at + 1..])
        }
        None => (String::new(), rest),
    };
    let (main, query) = match after.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (after, None),
    };
    let mut out = format!("{head}{info}{main}");
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some(("password", _)) => "password=***".to_string(),
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_as_libpq_reads_them() {
        let s = ConnectSpec::parse(
            "postgres://writer:p%40ss@db.example.org:6543/evidence?sslmode=verify-full&sslrootcert=/etc/ca.pem&application_name=ci",
            &PgEnv::default(),
        )
        .unwrap();
        assert_eq!(s.host, Host::Tcp("db.example.org".into()));
        assert_eq!(
            (s.port, s.user.as_str(), s.dbname.as_str()),
            (6543, "writer", "evidence")
        );
        assert_eq!(s.password.as_deref().map(String::as_str), Some("p@ss"));
        assert_eq!(s.sslmode, SslMode::VerifyFull);
        assert_eq!(s.sslrootcert.as_deref(), Some("/etc/ca.pem"));
        let shown = s.to_string();
        assert!(
            !shown.contains("p%40ss") && shown.contains("writer:***@db.example.org"),
            "{shown}"
        );
        let v6 = ConnectSpec::parse("postgresql://u@[::1]:5433/d", &PgEnv::default()).unwrap();
        assert_eq!((v6.host, v6.port), (Host::Tcp("::1".into()), 5433));
        assert_eq!(
            v6.sslmode,
            SslMode::Disable,
            "loopback: no TLS unless asked"
        );
        let socket = ConnectSpec::parse("postgres://u@/d?host=/run/pg", &PgEnv::default()).unwrap();
        assert_eq!(socket.host, Host::Socket("/run/pg".into()));
        let remote =
            ConnectSpec::parse("postgres://u@db.example.org/d", &PgEnv::default()).unwrap();
        assert_eq!(
            remote.sslmode,
            SslMode::VerifyFull,
            "remote: verified TLS by default"
        );
        let param =
            ConnectSpec::parse("postgres://u@h/d?password=hunter2", &PgEnv::default()).unwrap();
        assert!(!param.to_string().contains("hunter2"));
        assert!(!format!("{param:?}").contains("hunter2"));
    }

    #[test]
    fn the_libpq_environment_is_only_what_the_caller_gives() {
        // No environment given: no user to fall back on, whatever this
        // process's USER says.
        assert!(ConnectSpec::parse("postgres://db.example/evidence", &PgEnv::default()).is_err());
        let env = PgEnv::from_lookup(|name| match name {
            "PGUSER" => Some("writer".into()),
            "PGPASSWORD" => Some("s3cret".into()),
            "USER" => Some(String::new()),
            _ => None,
        });
        let spec = ConnectSpec::parse("postgres://db.example/evidence", &env).unwrap();
        assert_eq!(spec.user, "writer");
        assert_eq!(spec.env.get("PGPASSWORD").as_deref(), Some("s3cret"));
        // Empty values count as unset; the password is never shown.
        assert_eq!(spec.env.get("USER"), None);
        let shown = format!("{env:?} {spec:?}");
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("PGPASSWORD"), "{shown}");
    }

    /// A password holding an unescaped '/', '?' or '&' never shows in an
    /// error or in the redacted URI, whole or in part.
    #[test]
    fn a_password_with_unescaped_delimiters_is_never_echoed() {
        for uri in [
            "postgres://writer:pa/ss1234@db.example/evidence",
            "postgres://writer:pa?ss1234@db.example/evidence",
            "postgres://writer:pa&ss1234@db.example:5432/evidence",
            "postgres://writer:1234/x@db.example/evidence",
            "postgres://writer:pa/ss1234@db.example/evidence?sslmode=require",
        ] {
            let shown = redact(uri);
            assert!(!shown.contains("1234"), "{uri}: {shown}");
            assert!(!shown.contains("pa"), "{uri}: {shown}");
            match ConnectSpec::parse(uri, &PgEnv::default()) {
                Ok(spec) => {
                    let text = format!("{spec} {spec:?}");
                    assert!(!text.contains("1234"), "{uri}: {text}");
                }
                Err(e) => assert!(!e.to_string().contains("1234"), "{uri}: {e}"),
            }
        }
    }

    #[test]
    fn what_could_fall_back_or_is_unknown_is_refused() {
        for bad in [
            "postgres://u@h/d?sslmode=prefer",
            "postgres://u@h/d?sslmode=allow",
            "postgres://u@h/d?sslmode=verify",
            "postgres://u@h/d?sslcert=x",
            "postgres://u@h1,h2/d",
            "postgres://u@h:99999/d",
            "postgres://u@h/d?sslmode=require&sslrootcert=system",
            "postgres://u@h/%zz",
            "mysql://u@h/d",
        ] {
            assert!(ConnectSpec::parse(bad, &PgEnv::default()).is_err(), "{bad}");
        }
    }
}
