//! `modelseal sign`.

use super::progress::Bar;
use super::{
    Context, EvidenceArgs, Format, HashingArgs, Outcome, cite, load_chain, print_json,
    write_atomically,
};
use clap::Args;
use modelseal::bom::{
    BomOptions, HashedTree, bom_statement, bom_timestamp, build_bom, hash_tree, to_json,
};
use modelseal::bundle::Statement;
use modelseal::digest::{HashAlgorithm, HashOptions, IgnoreSet, Method};
use modelseal::digest::{hash_model_with_progress, model_name};
use modelseal::evidence::record::{self, EvidenceSubject, SIGN_PREDICATE};
use modelseal::keys::load_private_key;
use modelseal::sign::{SigningIdentity, sign_manifest};
use modelseal::sigstore::{KeylessSigning, resolve_identity_token, sign_statement};
use modelseal::{Error, Result};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The model directory or file.
    path: PathBuf,
    /// Private key (PKCS#8 or SEC1 PEM).
    #[arg(
        long,
        value_name = "KEY",
        required_unless_present = "sigstore",
        conflicts_with = "sigstore"
    )]
    key: Option<PathBuf>,
    /// Sign keylessly with Sigstore (Fulcio certificate, Rekor entry); needs the network.
    #[arg(long)]
    sigstore: bool,
    /// With --sigstore: the OIDC identity token (else SIGSTORE_ID_TOKEN, else CI ambient credentials).
    #[arg(long, value_name = "TOKEN", requires = "sigstore")]
    identity_token: Option<String>,
    /// With --sigstore: a Fulcio URL instead of the public-good instance (needs --rekor-url).
    #[arg(long, value_name = "URL", requires = "rekor_url")]
    fulcio_url: Option<String>,
    /// With --sigstore: a Rekor URL instead of the public-good instance (needs --fulcio-url).
    #[arg(long, value_name = "URL", requires = "fulcio_url")]
    rekor_url: Option<String>,
    /// Where to write the signature bundle.
    #[arg(long, value_name = "FILE", default_value = "model.sig")]
    signature: PathBuf,
    /// Certificate mode: the signing certificate (PEM) for --key.
    #[arg(long, value_name = "CERT", requires = "key")]
    signing_cert: Option<PathBuf>,
    /// Certificate mode: intermediate certificates (PEM) to include, leaf excluded.
    #[arg(long = "cert-chain", value_name = "PEM", requires = "signing_cert")]
    cert_chain: Vec<PathBuf>,
    /// Also write a CycloneDX ML-BOM here, signed the same way (BOM.sig), in the same pass.
    #[arg(long, value_name = "BOM")]
    bom: Option<PathBuf>,
    /// With --bom: a dataset directory or file the model was trained on. Repeatable.
    #[arg(long, value_name = "DIR_OR_FILE", requires = "bom")]
    dataset: Vec<PathBuf>,
    #[command(flatten)]
    hashing: HashingArgs,
    #[command(flatten)]
    evidence: EvidenceArgs,
}

pub fn run(ctx: &Context, args: SignArgs) -> Result<Outcome> {
    if args.signature.is_dir() {
        return Err(Error::Usage(format!(
            "--signature {} is a directory; name a file",
            args.signature.display()
        )));
    }
    // Everything that can fail without reading the model or using the
    // network comes first: keys, certificates, the identity token.
    let recorder = args.evidence.recorder()?;
    let key = args.key.as_deref().map(load_private_key).transpose()?;
    let token = if args.sigstore {
        Some(resolve_identity_token(args.identity_token.as_deref())?)
    } else {
        None
    };
    let chain = args
        .signing_cert
        .as_deref()
        .map(|cert| load_chain(cert, &args.cert_chain))
        .transpose()?;
    let mut options = args.hashing.options(&args.path, Some(&args.signature))?;
    let bom_sig = args.bom.as_deref().map(super::bom::signature_path);
    let cwd = std::env::current_dir().map_err(|e| Error::io(".", e))?;
    for p in args.bom.iter().chain(bom_sig.iter()) {
        options.ignore.insert_user_path(&args.path, &cwd.join(p))?;
    }
    let name = model_name(&args.path)?;
    let bar = Bar::new(ctx.quiet, "hashing");
    let manifest = hash_model_with_progress(&args.path, &options, &bar);
    bar.finish();
    let manifest = manifest?;
    let root = manifest.root_digest_hex();
    let bom = match &args.bom {
        None => None,
        Some(_) => {
            // One pass over the bytes when the signature hashes files with
            // SHA-256, as the BOM does; another pass otherwise.
            let model_tree =
                if options.method == Method::Files && options.algorithm == HashAlgorithm::Sha256 {
                    HashedTree {
                        path: args.path.clone(),
                        name: name.clone(),
                        sha256: manifest.clone(),
                        blake3: None,
                    }
                } else {
                    hash_tree(&args.path, &options, false, &|_: u64| {})?
                };
            let mut datasets = Vec::new();
            for ds in &args.dataset {
                let ds_options = HashOptions {
                    allow_symlinks: options.allow_symlinks,
                    ignore: IgnoreSet::with_defaults(),
                    ..Default::default()
                };
                datasets.push(hash_tree(ds, &ds_options, false, &|_: u64| {})?);
            }
            let bom_options = BomOptions {
                timestamp: bom_timestamp(None)?,
                ..Default::default()
            };
            Some(build_bom(&model_tree, &datasets, &bom_options)?)
        }
    };
    let bom_statement_bytes = match &bom {
        Some(b) => Some(
            serde_json::to_vec(&bom_statement(b, &name, &root)?)
                .map_err(|e| Error::Usage(format!("cannot encode the BOM statement: {e}")))?,
        ),
        None => None,
    };
    let mut bom_bundle: Option<Vec<u8>> = None;
    let (bundle, signer) = match (&key, token) {
        (Some(key), _) => {
            let identity = match chain {
                None => SigningIdentity::Key(key),
                Some(chain) => SigningIdentity::Certificate { key, chain },
            };
            let public = key.public_key();
            let certificate = match &identity {
                SigningIdentity::Certificate { chain, .. } => chain
                    .first()
                    .and_then(|der| <x509_cert::Certificate as der::Decode>::from_der(der).ok())
                    .map(|c| modelseal::keys::certificate_subject(&c)),
                SigningIdentity::Key(_) => None,
            };
            let signer = serde_json::json!({
                "fingerprint": public.fingerprint(),
                "algorithm": public.algorithm().name(),
                "certificate": certificate,
            });
            let bundle = sign_manifest(&name, &manifest, &identity)?;
            if let Some(b) = &bom {
                let signed = modelseal::bom::sign_bom(b, &name, &root, &identity)?;
                bom_bundle = Some(signed.to_json().into_bytes());
            }
            (bundle.to_json().into_bytes(), signer)
        }
        (None, Some(token)) => {
            let signer = serde_json::json!({
                "sigstore": true,
                "identity": token.email().unwrap_or(token.subject()),
                "issuer": token.issuer(),
            });
            let statement = serde_json::to_vec(&Statement::for_manifest(&name, &manifest))
                .map_err(|e| Error::Usage(format!("cannot encode the statement: {e}")))?;
            let keyless = KeylessSigning {
                fulcio_url: args.fulcio_url.clone(),
                rekor_url: args.rekor_url.clone(),
            };
            if let Some(bytes) = &bom_statement_bytes {
                bom_bundle = Some(sign_statement(bytes, token.clone(), &keyless)?);
            }
            (sign_statement(&statement, token, &keyless)?, signer)
        }
        (None, None) => return Err(Error::Usage("give --key or --sigstore".into())),
    };
    write_atomically(&args.signature, &bundle)?;
    let mut bom_cites = (serde_json::Value::Null, serde_json::Value::Null);
    if let (Some(path), Some(b), Some(sig_path), Some(sig)) =
        (&args.bom, &bom, &bom_sig, &bom_bundle)
    {
        let bom_bytes = to_json(b);
        write_atomically(path, &bom_bytes)?;
        write_atomically(sig_path, sig)?;
        bom_cites = (cite(path, &bom_bytes), cite(sig_path, sig));
    }
    if let Some(recorder) = &recorder {
        let subject = EvidenceSubject {
            name: name.clone(),
            sha256: root.clone(),
        };
        recorder.record(
            &subject,
            SIGN_PREDICATE,
            serde_json::json!({
                "signer": signer,
                "signature": cite(&args.signature, &bundle),
                "bom": bom_cites.0,
                "bomSignature": bom_cites.1,
                "tool": { "name": "modelseal", "version": modelseal::VERSION },
                "time": record::now(),
            }),
        )?;
    }
    match ctx.format {
        Format::Human | Format::Markdown | Format::Oscal => {
            println!(
                "signed {name}: {} resources, root sha256:{root}",
                manifest.resources.len()
            );
            println!("signature: {}", args.signature.display());
            if let (Some(path), Some(sig)) = (&args.bom, &bom_sig) {
                println!("bom:       {} (signed: {})", path.display(), sig.display());
            }
            match signer["fingerprint"].as_str() {
                Some(fp) => println!(
                    "signer:    {fp} ({})",
                    signer["algorithm"].as_str().unwrap_or("")
                ),
                None => println!(
                    "signer:    sigstore {} (issuer {})",
                    signer["identity"].as_str().unwrap_or(""),
                    signer["issuer"].as_str().unwrap_or("")
                ),
            }
        }
        Format::Json => print_json(&serde_json::json!({
            "signature": args.signature,
            "subject": { "name": name, "digest": { "sha256": root } },
            "resources": manifest.resources.len(),
            "method": manifest.serialization.method.name(),
            "hash_type": manifest.serialization.hash_type,
            "signer": signer,
            "bom": args.bom,
            "bom_signature": bom_sig,
        })),
    }
    Ok(0)
}
