//! The command line: argument structs (clap derive) and rendering, one file
//! per subcommand. Results go to stdout; progress and diagnostics to stderr.

// First: its macros (outln!, out!) are used by the modules below.
#[macro_use]
pub mod stdout;

mod audit;
mod bom;
mod clock;
mod env;
mod evidence;
mod export;
mod hash;
mod inspect;
mod keygen;
mod keyless;
mod model;
mod policy;
mod progress;
mod serve;
mod sign;
#[cfg(feature = "oci")]
mod sign_image;
mod verify;
mod verify_bundle;
mod witness;

use clap::{Args, Parser, Subcommand, ValueEnum};
use modelseal::digest::{
    DEFAULT_SHARD_SIZE, HashAlgorithm, HashOptions, IgnoreSet, LinkScope, Method,
};
use modelseal::{Error, Result};
use std::path::{Path, PathBuf};

/// Sign and verify ML models and datasets (OpenSSF Model Signing).
#[derive(Debug, Parser)]
#[command(name = "modelseal", version, about, long_about = None)]
#[command(
    after_help = "Exit codes: 0 success or verified, 1 verification failed, 2 usage, I/O or malformed input."
)]
pub struct Cli {
    /// Silence progress and warnings on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Output format of results on stdout.
    #[arg(long, value_enum, default_value_t = Format::Human, global = true)]
    pub format: Format,
    #[command(subcommand)]
    pub command: Command,
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Text for people.
    Human,
    /// One JSON document.
    Json,
    /// A Markdown report (audit only).
    Markdown,
    /// OSCAL assessment results JSON (audit only).
    Oscal,
    /// One self-contained HTML report (audit only).
    Html,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a signing key pair (PKCS#8 private key, SPKI public key).
    Keygen(keygen::KeygenArgs),
    /// Hash a model and print its root digest (or the manifest, with --format json).
    Hash(hash::HashArgs),
    /// Sign a model directory or file into an OMS Sigstore bundle.
    Sign(sign::SignArgs),
    /// Verify a model against its signature; exit 1 when it does not verify.
    Verify(verify::VerifyArgs),
    /// Evidence records: attach reviewed documents, record deployments, list, verify the log.
    Evidence(evidence::EvidenceCommand),
    /// Evaluate the audit checklist against the evidence log; exit 1 if a required control fails.
    Audit(audit::AuditArgs),
    /// Check a deploy-gate policy file, or print the default one.
    Policy(policy::PolicyArgs),
    /// Recognise each file's format by content and find what would run code on load; exit 1 if any would.
    Inspect(inspect::InspectArgs),
    /// Write a CycloneDX 1.6 ML-BOM of a model and its datasets (signed with --key), or --check one.
    Bom(bom::BomArgs),
    /// Sign a registry image's manifest (its config and every layer) and attach the signature, for policies that require container images signed.
    #[cfg(feature = "oci")]
    SignImage(sign_image::SignImageArgs),
    /// Verify any Sigstore bundle over a file or a digest (cosign, sigstore-python, ...).
    VerifyBundle(verify_bundle::VerifyBundleArgs),
    /// Serve the deploy gate over HTTPS: a Kubernetes admission webhook (/validate, /mutate) and /v1/verify.
    Serve(serve::ServeArgs),
}

/// What the command produced: the exit code to end with.
pub type Outcome = i32;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<Outcome> {
    env::apply_timeouts()?;
    let ctx = Context {
        quiet: cli.quiet,
        format: cli.format,
        now: clock::now()?,
    };

    if matches!(cli.format, Format::Markdown | Format::Oscal | Format::Html)
        && !matches!(cli.command, Command::Audit(_))
    {
        return Err(Error::Usage(
            "--format markdown, oscal and html are for `modelseal audit`".into(),
        ));
    }
    match cli.command {
        Command::Keygen(a) => keygen::run(&ctx, a),
        Command::Hash(a) => hash::run(&ctx, a),
        Command::Sign(a) => {
            let evidence = a.evidence.clone();
            witness::after(&ctx, &evidence, sign::run(&ctx, a))
        }
        Command::Verify(a) => {
            let evidence = a.evidence.clone();
            witness::after(&ctx, &evidence, verify::run(&ctx, a))
        }
        Command::Bom(a) => {
            let evidence = a.evidence.clone();
            witness::after(&ctx, &evidence, bom::run(&ctx, a))
        }
        Command::Inspect(a) => inspect::run(&ctx, a),
        Command::Policy(a) => policy::run(&ctx, a),
        Command::Evidence(a) => evidence::run(&ctx, a),
        Command::Audit(a) => audit::run(&ctx, a),
        #[cfg(feature = "oci")]
        Command::SignImage(a) => sign_image::run(&ctx, a),
        Command::VerifyBundle(a) => verify_bundle::run(&ctx, a),
        Command::Serve(a) => serve::run(&ctx, a),
    }
}

/// A line telling the user what to try next, when there is one. Hints
/// name command-line flags, so they live here, not in the library;
/// `force`: the command overwrites with --force.
pub fn hint(error: &Error, force: bool) -> Option<&'static str> {
    use modelseal::digest::WalkError;
    match error {
        Error::Walk(WalkError::Symlink { .. }) => {
            Some("symbolic links are refused by default; pass --allow-symlinks to follow them")
        }
        Error::Walk(WalkError::LinkFanOut { .. }) => Some(
            "links to directories are listed under every name that reaches them; remove the links that repeat a directory",
        ),
        Error::Walk(WalkError::Empty { .. }) => {
            Some("check the path and the --ignore-path options")
        }
        Error::Exists(_) if force => Some("pass --force to overwrite it"),
        Error::Exists(_) => Some("nothing is overwritten: name a new path, or remove it first"),
        Error::Usage(reason) if reason.starts_with("the BOM time") => {
            Some("give --timestamp as an RFC 3339 time, e.g. 2026-01-01T00:00:00Z")
        }
        Error::Key { reason, .. } if reason.starts_with("is a certificate") => {
            Some("verify certificate-mode signatures with --cert-chain")
        }
        Error::Key { .. } => Some(
            "keys are PEM files: PKCS#8 or SEC1 private keys, SPKI public keys (Ed25519, ECDSA P-256/P-384/P-521)",
        ),
        Error::Bundle(_) => Some(
            "the signature must be a Sigstore bundle (JSON) as written by `modelseal sign` or `model_signing sign`",
        ),
        Error::Remote(_) => Some(
            "check the URL and the network; remote inputs must use https:// (plain http only on loopback)",
        ),
        #[cfg(feature = "oci")]
        Error::Source { source, .. }
            if matches!(
                source.downcast_ref::<modelseal::registry::OciError>(),
                Some(
                    modelseal::registry::OciError::Registry(_)
                        | modelseal::registry::OciError::Unavailable(_)
                )
            ) =>
        {
            Some(
                "check the reference and the network; sign in with docker login or --registry-username; a registry on loopback without TLS needs --plain-http",
            )
        }
        _ => None,
    }
}

/// Settings every subcommand sees.
pub struct Context {
    /// No progress, no warnings.
    pub quiet: bool,
    /// Result format.
    pub format: Format,
    /// The time this command runs at: read once, from the system clock or
    /// the test clock.
    pub now: modelseal::clock::Now,
}

impl Context {
    /// Warns, when the test clock is set, that `what` is dated by it (the
    /// record or report says so too).
    pub fn warn_test_clock(&self, what: &str) {
        if self.now.is_test() {
            self.warn(&format!(
                "{} is set: {what} is dated {} by the test clock, and says so",
                clock::TEST_NOW_VAR,
                self.now.time()
            ));
        }
    }

    /// Prints a warning on stderr unless quiet.
    pub fn warn(&self, message: &str) {
        if !self.quiet {
            errln!("warning: {message}");
        }
    }
}

/// Hash algorithm names on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HashArg {
    /// SHA-256 (default).
    Sha256,
    /// BLAKE3.
    Blake3,
}

/// Serialization methods on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// One digest per file.
    Files,
    /// One digest per fixed-size byte range.
    Shards,
}

/// Options that decide what is hashed and how (shared by hash and sign).
#[derive(Debug, Args)]
pub struct HashingArgs {
    /// Serialization method.
    #[arg(long, value_enum, default_value_t = MethodArg::Files)]
    pub method: MethodArg,
    /// Shard size in bytes (with --method shards).
    #[arg(long, default_value_t = DEFAULT_SHARD_SIZE, value_parser = clap::value_parser!(u64).range(1..))]
    pub shard_size: u64,
    /// File hash algorithm.
    #[arg(long = "hash", value_enum, default_value_t = HashArg::Sha256)]
    pub hash: HashArg,
    /// Exclude a path (relative to the model root, or absolute inside it). Repeatable.
    #[arg(long = "ignore-path", value_name = "P")]
    pub ignore_paths: Vec<PathBuf>,
    /// Do not exclude .git, .gitattributes, .github and .gitignore.
    #[arg(long)]
    pub no_ignore_git_paths: bool,
    /// Follow symbolic links (a target outside the model root is followed with a warning).
    #[arg(long)]
    pub allow_symlinks: bool,
}

impl HashingArgs {
    /// The hashing options for the model at `root`, excluding `signature`
    /// when it lies inside the model.
    pub fn options(&self, root: &Path, signature: Option<&Path>) -> Result<HashOptions> {
        let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
        let excluded: Vec<&Path> = signature.into_iter().collect();
        let ignore = IgnoreSet::for_model(
            root,
            self.no_ignore_git_paths,
            &self.ignore_paths,
            &excluded,
            &cwd,
        )?;
        Ok(self.with(ignore, self.allow_symlinks))
    }

    /// The hashing options for a registry model: ignore paths are names
    /// relative to the model root (there is no local directory to resolve
    /// them against).
    pub fn registry_options(&self) -> Result<HashOptions> {
        if self.allow_symlinks {
            return Err(Error::Usage(
                "--allow-symlinks: registry models hold no symbolic links".into(),
            ));
        }
        let ignore = IgnoreSet::for_names(self.no_ignore_git_paths, &self.ignore_paths)?;
        Ok(self.with(ignore, false))
    }

    fn with(&self, ignore: IgnoreSet, allow_symlinks: bool) -> HashOptions {
        HashOptions {
            algorithm: match self.hash {
                HashArg::Sha256 => HashAlgorithm::Sha256,
                HashArg::Blake3 => HashAlgorithm::Blake3,
            },
            method: match self.method {
                MethodArg::Files => Method::Files,
                MethodArg::Shards => Method::Shards {
                    shard_size: self.shard_size,
                },
            },
            allow_symlinks,
            link_scope: LinkScope::Anywhere,
            ignore,
        }
    }
}

pub use modelseal::read_input;

/// Loads a public key from a file or an https:// URL.
pub fn load_public_key_input(source: &Path) -> Result<modelseal::keys::PublicKey> {
    let bytes = read_input(source, modelseal::fetch::InputKind::Key)?;
    let text = zeroize::Zeroizing::new(
        String::from_utf8(bytes)
            .map_err(|_| Error::Usage(format!("{}: not PEM text", source.display())))?,
    );
    modelseal::keys::parse_public_key(source, &text)
}

/// The Sigstore trusted root from a file or URL, or the embedded public-good one.
pub fn load_trusted_root(source: Option<&Path>) -> Result<modelseal::sigstore::TrustedRoot> {
    match source {
        None => modelseal::sigstore::embedded_trusted_root(),
        Some(s) => {
            let bytes = read_input(s, modelseal::fetch::InputKind::TrustedRoot)?;
            modelseal::sigstore::trusted_root_from_json(&bytes)
                .map_err(|e| Error::TrustedRoot(format!("{}: {e}", s.display())))
        }
    }
}

/// Where evidence goes (for sign, bom and verify).
#[derive(Debug, Clone, Args)]
pub struct EvidenceArgs {
    /// Append a signed evidence record to this log: a JSON Lines file, or a
    /// postgres:// URI (the password from PGPASSWORD or the password file).
    #[arg(
        long,
        value_name = "LOG",
        env = "MODELSEAL_EVIDENCE",
        hide_env_values = true
    )]
    pub evidence: Option<std::ffi::OsString>,
    /// The Ed25519 key that seals evidence records and checkpoints.
    #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
    pub evidence_key: Option<PathBuf>,
    /// After an append, have this witness policy's witnesses (C2SP tlog-policy) cosign the log; a failure warns, the record stays.
    #[arg(long, value_name = "FILE", env = "MODELSEAL_WITNESS_POLICY")]
    pub witness_policy: Option<PathBuf>,
    /// Ask the witnesses at most once in this many seconds (later appends wait for the next one, or `evidence witness`); 0: after every append. A file log only: a PostgreSQL log's witnesses are asked after every append.
    #[arg(
        long,
        value_name = "SECONDS",
        env = "MODELSEAL_WITNESS_INTERVAL",
        default_value_t = 0
    )]
    pub witness_interval: u64,
}

impl EvidenceArgs {
    /// The recorder, when a log is given (it then needs the key).
    pub fn recorder(&self) -> Result<Option<modelseal::evidence::Recorder>> {
        match (&self.evidence, &self.evidence_key) {
            (None, _) => Ok(None),
            (Some(_), None) => Err(Error::Usage(
                "--evidence needs --evidence-key (or MODELSEAL_EVIDENCE_KEY)".into(),
            )),
            (Some(log), Some(key)) => {
                let location = modelseal::evidence::Location::parse(log, &env::pg())?;
                let key = private_key(key)?;
                let recorder = modelseal::evidence::Recorder::open(&location, key)?;
                // A file log keeps the deploy index beside it; a database
                // keeps none, so this writer keeps it in its cache.
                Ok(Some(match (&location, env::deploy_index_dir()) {
                    (modelseal::evidence::Location::File(_), _) | (_, None) => recorder,
                    (_, Some(dir)) => recorder.with_deploy_index_dir(dir),
                }))
            }
        }
    }
}

/// A private key given on the command line: a PEM file, or a `pkcs11:` URI
/// naming a key in a token (the PIN from the URI's `pin-source` file or
/// `MODELSEAL_PKCS11_PIN`, the module from the URI's `module-path` or
/// `MODELSEAL_PKCS11_MODULE`).
pub fn private_key(path: &Path) -> Result<modelseal::keys::PrivateKey> {
    match path.to_str().map(str::trim) {
        Some(uri) if modelseal::pkcs11::is_pkcs11_uri(uri) => {
            let pin = std::env::var("MODELSEAL_PKCS11_PIN")
                .ok()
                .map(zeroize::Zeroizing::new);
            let module = std::env::var_os("MODELSEAL_PKCS11_MODULE").map(PathBuf::from);
            modelseal::pkcs11::open_key(uri, pin, module.as_deref())
                .map_err(|e| Error::Usage(e.to_string()))
        }
        _ => modelseal::keys::load_private_key(path),
    }
}

/// Text from untrusted sources (file names, subjects, reasons) made safe
/// for a terminal: control characters and bidirectional overrides are shown
/// escaped, so a name cannot forge a line of output or drive the terminal.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    let unsafe_char =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(unsafe_char) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The signing certificate followed by the intermediates, as DER.
pub fn load_chain(cert: &Path, intermediates: &[PathBuf]) -> Result<Vec<Vec<u8>>> {
    let mut chain = modelseal::keys::load_certificates(cert)?;
    chain.truncate(1);
    for pem in intermediates {
        chain.extend(modelseal::keys::load_certificates(pem)?);
    }
    Ok(chain)
}

/// Prints a JSON value on stdout, streamed (a manifest of a million files
/// is never held as text).
pub fn print_json(value: &impl serde::Serialize) {
    stdout::write_with(|out| {
        serde_json::to_writer_pretty(&mut *out, value).map_err(std::io::Error::from)?;
        writeln!(out)
    });
}
