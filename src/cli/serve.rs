//! `modelseal serve`: the admission webhook and verify API.

use super::{Context, Outcome, env, private_key};
use clap::Args;
use modelseal::policy::LoadedPolicy;
use modelseal::registry::oci::{Credentials, RegistryOptions};
use modelseal::serve::{Cache, GateJudge, Limits, ServeConfig, State, VerifyApi};
use modelseal::{Error, Result};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Settings file (TOML; the flags below override it). See deploy/kubernetes/configmap.yaml.
    #[arg(long, value_name = "FILE", env = "MODELSEAL_SERVE_CONFIG")]
    config: Option<PathBuf>,
    /// Listen on ADDRESS:PORT (default 0.0.0.0:8443).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    /// The server's certificate chain (PEM).
    #[arg(long, value_name = "PEM")]
    tls_cert: Option<PathBuf>,
    /// The server's private key (PEM).
    #[arg(long, value_name = "PEM")]
    tls_key: Option<PathBuf>,
    /// Accept client certificates from this CA; /v1/verify requires one unless verify_api = "open".
    #[arg(long, value_name = "PEM")]
    client_ca: Option<PathBuf>,
    /// The deploy policy: trusted signers, formats, and [admission] registries, tags, other storage.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// The evidence log every admission is recorded in (a file or postgres://).
    #[arg(
        long,
        value_name = "LOG",
        env = "MODELSEAL_EVIDENCE",
        hide_env_values = true
    )]
    evidence: Option<String>,
    /// The Ed25519 key that seals evidence (a file or pkcs11: URI).
    #[arg(long, value_name = "KEY", env = "MODELSEAL_EVIDENCE_KEY")]
    evidence_key: Option<PathBuf>,
    /// Verdicts kept (0: none).
    #[arg(long, value_name = "N")]
    cache_size: Option<usize>,
    /// Seconds a verdict is kept.
    #[arg(long, value_name = "SECONDS")]
    cache_ttl: Option<u64>,
    /// Seconds a registry may take for one verification (1 to 30; default 10).
    #[arg(long, value_name = "SECONDS")]
    registry_timeout: Option<u64>,
    /// Registries on a loopback address may be plain HTTP.
    #[arg(long)]
    plain_http: bool,
    /// Sign in to registries as this user (password from MODELSEAL_REGISTRY_PASSWORD; default: the Docker config).
    #[arg(long, value_name = "USER", env = "MODELSEAL_REGISTRY_USERNAME")]
    registry_username: Option<String>,
    /// Have the witnesses of this policy (C2SP tlog-policy) cosign the evidence log as it grows; the cosigned checkpoints are kept in the log's store.
    #[cfg(feature = "witness")]
    #[arg(long, value_name = "FILE", env = "MODELSEAL_WITNESS_POLICY")]
    witness_policy: Option<PathBuf>,
    /// With --witness-policy: how often the witnesses are asked when the log grew (at most one request per witness per interval).
    #[cfg(feature = "witness")]
    #[arg(long, value_name = "SECONDS", default_value_t = 60,
          value_parser = clap::value_parser!(u64).range(1..=86_400))]
    witness_interval: u64,
}

pub fn run(ctx: &Context, args: ServeArgs) -> Result<Outcome> {
    let mut config = match &args.config {
        Some(path) => {
            let bytes = modelseal::fetch::read_file(path, modelseal::fetch::InputKind::Policy)?;
            let text = String::from_utf8(bytes)
                .map_err(|_| Error::Usage(format!("{}: not UTF-8", path.display())))?;
            ServeConfig::parse(&text, path).map_err(|e| Error::Usage(e.to_string()))?
        }
        None => ServeConfig::default(),
    };
    macro_rules! set {
        ($($field:ident),*) => {$(
            if let Some(v) = args.$field.clone() { config.$field = v.into(); }
        )*};
    }
    set!(listen, cache_size, cache_ttl, registry_timeout);
    for (flag, value) in [
        (&mut config.tls_cert, &args.tls_cert),
        (&mut config.tls_key, &args.tls_key),
        (&mut config.client_ca, &args.client_ca),
        (&mut config.policy, &args.policy),
    ] {
        if value.is_some() {
            *flag = value.clone();
        }
    }
    if args.evidence.is_some() {
        config.evidence = args.evidence.clone();
    }
    if let Some(k) = &args.evidence_key {
        config.evidence_key = Some(k.display().to_string());
    }
    if args.registry_username.is_some() {
        config.registry_username = args.registry_username.clone();
    }
    config.plain_http |= args.plain_http;
    config.check().map_err(|e| Error::Usage(e.to_string()))?;

    let need = |v: &Option<PathBuf>, what: &str| {
        v.clone()
            .ok_or_else(|| Error::Usage(format!("serve needs {what}")))
    };
    let (cert, key) = (
        need(&config.tls_cert, "--tls-cert")?,
        need(&config.tls_key, "--tls-key")?,
    );
    let policy = LoadedPolicy::load(&need(&config.policy, "--policy")?)?;
    if config.verify_api == VerifyApi::ClientCertificate && config.client_ca.is_none() {
        ctx.warn("no --client-ca: /v1/verify refuses every caller (it needs a client certificate)");
    }
    let tls = modelseal::serve::tls_config(&cert, &key, config.client_ca.as_deref())
        .map_err(|e| Error::Usage(e.to_string()))?;
    #[cfg(feature = "witness")]
    let mut witnessing = None;
    let recorder = match (&config.evidence, &config.evidence_key) {
        (None, _) => {
            ctx.warn("no --evidence: admissions are not recorded (control 7 cannot rely on them)");
            None
        }
        (Some(_), None) => {
            return Err(Error::Usage("--evidence needs --evidence-key".into()));
        }
        (Some(log), Some(key)) => {
            let location =
                modelseal::evidence::Location::parse(std::ffi::OsStr::new(log), &env::pg())?;
            let key = private_key(std::path::Path::new(key))?;
            #[cfg(feature = "witness")]
            if let Some(path) = &args.witness_policy {
                let text = modelseal::fetch::read_text(path, modelseal::fetch::InputKind::Policy)?;
                let policy = modelseal::witness::Policy::parse(&text)
                    .map_err(|e| Error::Usage(format!("{}: {e}", path.display())))?;
                let public = modelseal::evidence::evidence_verifying_key(&key.public_key())?;
                witnessing = Some((location.clone(), public, policy));
            }
            Some(Arc::new(modelseal::evidence::Recorder::open(
                &location, key,
            )?))
        }
    };
    #[cfg(feature = "witness")]
    match witnessing {
        Some((location, public, policy)) => {
            let interval = Duration::from_secs(args.witness_interval);
            let quiet = ctx.quiet;
            // The server's clock: a test clock when one is set.
            let fixed = ctx.now.is_test().then_some(ctx.now);
            let now = move || fixed.map_or_else(jiff::Timestamp::now, |n| n.time());
            std::thread::Builder::new()
                .name("witnessing".into())
                .spawn(move || witness_loop(&location, &public, &policy, interval, quiet, &now))
                .map_err(|e| Error::Usage(format!("cannot start witnessing: {e}")))?;
        }
        None if args.witness_policy.is_some() => {
            return Err(Error::Usage("--witness-policy needs --evidence".into()));
        }
        None => {}
    }
    let timeout = Duration::from_secs(config.registry_timeout);
    modelseal::registry::set_timeout(timeout);
    let username = config.registry_username.clone();
    let plain_http = config.plain_http;
    // Raw layers already read (their format judged) are not read again
    // for another manifest that shares them: bytes are fixed by digest.
    let layers = Arc::new(modelseal::registry::oci::LayerCache::new(4096));
    let judge = GateJudge::new(policy, |registry| {
        let credentials = match &username {
            Some(username) => Credentials::Basic {
                username: username.clone(),
                password: std::env::var("MODELSEAL_REGISTRY_PASSWORD").map_err(|_| {
                    Error::Usage("a registry user needs MODELSEAL_REGISTRY_PASSWORD".into())
                })?,
            },
            None => match env::docker_config() {
                Some(config) => Credentials::from_docker_config(&config, registry)?,
                None => Credentials::Anonymous,
            },
        };
        let mut options = RegistryOptions::new(credentials);
        options.plain_http = plain_http;
        options.blob_limits.total_time = timeout;
        options.blob_limits.max_time = timeout;
        options.layer_cache = Some(layers.clone());
        Ok(options)
    })?;
    let fixed = ctx.now;
    let clock: modelseal::serve::Clock = if fixed.is_test() {
        Arc::new(move || fixed)
    } else {
        Arc::new(|| modelseal::clock::Now::system(jiff::Timestamp::now()))
    };
    let state = Arc::new(State::new(
        Arc::new(judge),
        recorder,
        Cache::new(config.cache_size, Duration::from_secs(config.cache_ttl)),
        clock,
        timeout,
    ));
    let limits = Limits {
        max_connections: config.max_connections,
        verify_needs_client_certificate: config.verify_api == VerifyApi::ClientCertificate,
        ..Limits::default()
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the server runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(&config.listen)
            .await
            .map_err(|e| Error::Usage(format!("cannot listen on {}: {e}", config.listen)))?;
        let bound = listener
            .local_addr()
            .map_err(|e| Error::Usage(e.to_string()))?;
        // The one line a supervisor (or a test) waits for.
        errln!("serving on https://{bound}");
        modelseal::serve::serve(listener, tls, state, limits, shutdown_signal()).await;
        errln!("stopped: requests in flight were answered");
        Ok::<_, Error>(())
    })?;
    Ok(0)
}

/// SIGTERM (what Kubernetes sends) or Ctrl-C.
async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        if let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = ctrl_c.await;
}

/// Asks the witnesses to cosign the evidence log whenever it grew, once per
/// interval, and keeps what they cosign in the log's store. A failure is
/// one line on stderr; the next interval tries again. Admissions never
/// wait for witnesses.
#[cfg(feature = "witness")]
fn witness_loop(
    location: &modelseal::evidence::Location,
    key: &ed25519_dalek::VerifyingKey,
    policy: &modelseal::witness::Policy,
    interval: Duration,
    quiet: bool,
    now: &dyn Fn() -> jiff::Timestamp,
) {
    use modelseal::witnessing::witness_if_grown;
    let mut witnessed: Option<String> = None;
    loop {
        let timeout = Duration::from_secs(10);
        let round = location.open().and_then(|store| {
            let last = witnessed.as_deref();
            witness_if_grown(store.as_ref(), key, policy, last, timeout, now())
        });
        match round {
            Ok(Some((head, done))) if done.run.quorum => {
                if !quiet {
                    errln!("witnessing: {} records cosigned, quorum reached", done.size);
                }
                witnessed = Some(head);
            }
            Ok(Some((_, done))) => errln!(
                "witnessing: the quorum is not reached for {} records (the next interval tries again)",
                done.size
            ),
            Ok(None) => {}
            Err(e) => errln!("witnessing: {}", super::escape(&e.to_string())),
        }
        std::thread::sleep(interval);
    }
}
