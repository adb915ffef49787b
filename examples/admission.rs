//! `admission oci://HOST/REPO@sha256:... RELEASE.pub.pem POLICY.toml EVIDENCE EVIDENCE.priv.pem`:
//! a deploy service's decision on the library alone (exit 0 admit, 1 deny, 75 retry, 3 tampered).
use modelseal::evidence::{Location, LocationEnv, Recorder};
use modelseal::fetch::{InputKind::*, read_text};
use modelseal::gate::{Decision, Gate};
use modelseal::model::{Model, OpenOptions};
use modelseal::registry::oci::{Credentials::Anonymous, RegistryOptions};
use modelseal::{ErrorClass, Result, clock::Now, keys, policy::LoadedPolicy, verify::Trust};

fn admit([_, model, key, policy, log, log_key]: [&str; 6]) -> Result<Decision> {
    let key = keys::parse_public_key(key.as_ref(), &read_text(key.as_ref(), Key)?)?; // PEM text
    let policy = LoadedPolicy::parse(
        read_text(policy.as_ref(), Policy)?.as_bytes(),
        policy,
        ".".as_ref(),
    )?;
    let gate = Gate::new(vec![Trust::Key(key)]).with_policy(policy)?; // TOML text above
    let libpq = LocationEnv::from_lookup(|name| std::env::var(name).ok()); // PGPASSFILE and the like
    let sealer = keys::parse_private_key(log_key.as_ref(), &read_text(log_key.as_ref(), Key)?)?;
    let recorder = Recorder::open(&Location::parse(log.as_ref(), &libpq)?, sealer)?;
    let mut options = OpenOptions::default();
    options.registry = Some(RegistryOptions::new(Anonymous)); // a service passes its own
    options.registry.as_mut().unwrap().plain_http = model.starts_with("oci://127.0.0.1:"); // the test registry
    let model = Model::open(model.as_ref(), &options)?;
    let now = Now::system(jiff::Timestamp::now());
    gate.admit(
        &model,
        Some(&recorder),
        Some("cluster/ns".into()),
        now,
        &|_: u64| {},
    )
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let Ok(args) = <[&str; 6]>::try_from(args.iter().map(String::as_str).collect::<Vec<_>>())
    else {
        return 2.into();
    };
    let (line, code) = match admit(args) {
        Ok(admit @ Decision::Admit { .. }) => (admit.to_string(), 0),
        Ok(deny) => (deny.to_string(), 1),
        Err(e) if e.class() == ErrorClass::Retry => (format!("retry: {e}"), 75),
        Err(e) if e.class() == ErrorClass::Tampered => (format!("tampered: {e}"), 3),
        Err(e) => (format!("error: {e}"), 2),
    };
    let _ = std::io::Write::write_all(&mut std::io::stdout(), format!("{line}\n").as_bytes()); // no panic on a closed stdout
    code.into()
}
