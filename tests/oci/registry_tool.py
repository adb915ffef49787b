"""Pushes test models to the test registry with the `oras` Python package
(an OCI client independent of modelseal), and plays the attacker who moves
a tag or copies a signature referrer onto another manifest.

Usage (REGISTRY is HOST:PORT, plain HTTP on loopback):
  registry_tool.py push-raw REGISTRY REPO:TAG DIR
  registry_tool.py push-tar REGISTRY REPO:TAG DIR (modelcar|modelpack) (gzip|plain)
  registry_tool.py push-evil-tar REGISTRY REPO:TAG KIND
  registry_tool.py push-layers REGISTRY REPO:TAG LAYER.tar...
  registry_tool.py push-case-keys REGISTRY REPO:TAG GOOD EVIL (plain|Digest)
  registry_tool.py reconfigure REGISTRY REPO:TAG NEWTAG ENTRYPOINT
  registry_tool.py digest REGISTRY REPO:TAG
  registry_tool.py copy-referrers REGISTRY REPO FROM_DIGEST TO_DIGEST
  registry_tool.py attach-junk REGISTRY REPO DIGEST COUNT MIB
  registry_tool.py variants REGISTRY REPO:TAG COUNT
Each prints the manifest digest it pushed (or read).
"""

import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

import oras.client
import oras.defaults
import oras.oci

MANIFEST = "application/vnd.oci.image.manifest.v1+json"
INDEX = "application/vnd.oci.image.index.v1+json"
MODEL_CONFIG = "application/vnd.cncf.model.config.v1+json"


def client():
    return oras.client.OrasClient(insecure=True)


def media_type(name):
    if name.endswith((".safetensors", ".bin", ".gguf", ".onnx")):
        return "application/vnd.cncf.model.weight.v1.raw"
    if name.endswith(".md"):
        return "application/vnd.cncf.model.doc.v1.raw"
    return "application/vnd.cncf.model.weight.config.v1.raw"


def files_of(root):
    out = []
    for base, dirs, files in os.walk(root):
        dirs.sort()
        for f in sorted(files):
            out.append(os.path.relpath(os.path.join(base, f), root))
    return out


def put_manifest(c, registry, repo, ref, manifest, content_type=MANIFEST):
    body = json.dumps(manifest).encode()
    url = f"http://{registry}/v2/{repo}/manifests/{ref}"
    r = c.do_request(url, "PUT", data=body, headers={"Content-Type": content_type})
    if r.status_code != 201:
        raise SystemExit(f"PUT {url}: {r.status_code} {r.text}")
    return "sha256:" + hashlib.sha256(body).hexdigest()


def get(c, registry, repo, ref, accept):
    url = f"http://{registry}/v2/{repo}/manifests/{ref}"
    r = c.do_request(url, "GET", headers={"Accept": accept})
    return r


def upload(c, registry, repo, data, media):
    """Uploads bytes as a blob with oras' own upload and returns the descriptor."""
    container = c.get_container(f"{registry}/{repo}:unused")
    with tempfile.NamedTemporaryFile(delete=False) as f:
        f.write(data)
        path = f.name
    try:
        layer = {
            "mediaType": media,
            "digest": "sha256:" + hashlib.sha256(data).hexdigest(),
            "size": len(data),
        }
        r = c.upload_blob(path, container, layer)
        if r.status_code not in (200, 201, 202):
            raise SystemExit(f"blob upload: {r.status_code} {r.text}")
        return layer
    finally:
        os.unlink(path)


def push_raw(registry, target, root):
    """ModelPack raw layers: one blob per file, named by its annotations."""
    c = client()
    names = files_of(root)
    annotations = {}
    for n in names:
        annotations[n] = {
            "org.cncf.model.filepath": n,
            "org.opencontainers.image.title": os.path.basename(n),
        }
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        notes = os.path.join(tmp, "annotations.json")
        config = os.path.join(tmp, "config.json")
        with open(notes, "w") as f:
            json.dump(annotations, f)
        with open(config, "w") as f:
            json.dump({"descriptor": {"name": os.path.basename(root)}, "modelfs": {"type": "layers"}}, f)
        os.chdir(root)
        try:
            c.push(
                target=f"{registry}/{target}",
                files=[f"{n}:{media_type(n)}" for n in names],
                annotation_file=notes,
                manifest_config=f"{config}:{MODEL_CONFIG}",
                disable_path_validation=True,
            )
        finally:
            os.chdir(cwd)
    repo, tag = target.rsplit(":", 1)
    print(digest(registry, repo, tag))


def tar_bytes(entries, gzip):
    buf = io.BytesIO()
    mode = "w:gz" if gzip else "w"
    with tarfile.open(fileobj=buf, mode=mode, format=tarfile.PAX_FORMAT) as t:
        for info, data in entries:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def entry(name, data=b"", kind=tarfile.REGTYPE, link=""):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    info.mtime = 0
    info.linkname = link
    if kind == tarfile.REGTYPE:
        info.size = len(data)
        return info, data
    return info, None


def push_image(c, registry, repo, tag, layers_bytes, layer_media):
    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    config_desc = upload(c, registry, repo, config, "application/vnd.oci.image.config.v1+json")
    layers = [upload(c, registry, repo, data, layer_media) for data in layers_bytes]
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": layers}
    return put_manifest(c, registry, repo, tag, manifest)


def push_tar(registry, target, root, style, compression):
    """ModelCar: a base layer (a shell and a hard link, as busybox images
    have) and a layer with the model under /models/. ModelPack: one tar
    layer of the model, named from its root."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    gzip = compression == "gzip"
    model = []
    prefix = "models/" if style == "modelcar" else ""
    if prefix:
        model.append(entry("models", kind=tarfile.DIRTYPE))
    dirs = set()
    for n in files_of(root):
        parts = n.split("/")[:-1]
        for i in range(len(parts)):
            d = "/".join(parts[: i + 1])
            if d not in dirs:
                dirs.add(d)
                model.append(entry(prefix + d, kind=tarfile.DIRTYPE))
        with open(os.path.join(root, n), "rb") as f:
            model.append(entry(prefix + n, f.read()))
    if style == "modelcar":
        base = tar_bytes([entry("bin", kind=tarfile.DIRTYPE), entry("bin/busybox", b"\x7fELF"),
                          entry("bin/sh", kind=tarfile.LNKTYPE, link="bin/busybox")], gzip)
        media = "application/vnd.oci.image.layer.v1.tar" + ("+gzip" if gzip else "")
        print(push_image(c, registry, repo, tag, [base, tar_bytes(model, gzip)], media))
    else:
        media = "application/vnd.cncf.model.weight.v1.tar" + ("+gzip" if gzip else "")
        print(push_image(c, registry, repo, tag, [tar_bytes(model, gzip)], media))


def push_evil_tar(registry, target, kind):
    """A ModelCar layer with one thing a model must not hold."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    ok = entry("models/config.json", b"{}")
    evil = {
        "absolute": [entry("/models/weights.bin", b"x")],
        "dotdot": [entry("models/../../etc/passwd", b"x")],
        "duplicate": [entry("models/config.json", b"{ }")],
        "hardlink": [entry("models/weights.bin", kind=tarfile.LNKTYPE, link="models/config.json")],
        "device": [entry("models/null", kind=tarfile.CHRTYPE)],
        "whiteout": [entry("models/.wh.weights.bin", b"")],
    }[kind]
    layer = tar_bytes([entry("models", kind=tarfile.DIRTYPE), ok] + evil, False)
    print(push_image(c, registry, repo, tag, [layer], "application/vnd.oci.image.layer.v1.tar"))


def push_layers(registry, target, *files):
    """An image of the given uncompressed tar layers, lowest first, with a
    config whose diff_ids name them (umoci checks them as it unpacks)."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    layers = []
    for path in files:
        with open(path, "rb") as f:
            layers.append(f.read())
    config = json.dumps({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/bin/sh"]},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(l).hexdigest() for l in layers]},
    }).encode()
    config_desc = upload(c, registry, repo, config, "application/vnd.oci.image.config.v1+json")
    descs = [upload(c, registry, repo, l, "application/vnd.oci.image.layer.v1.tar") for l in layers]
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST, "config": config_desc, "layers": descs}
    print(put_manifest(c, registry, repo, tag, manifest))


def push_case_keys(registry, target, good_path, evil_path, style):
    """One raw model.safetensors layer whose descriptor names GOOD under
    "digest"; with style Digest, also EVIL under "Digest" and "Size"
    (keys Go's encoding/json matches case-insensitively, the last winning)."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    good = open(good_path, "rb").read()
    evil = open(evil_path, "rb").read()
    config = upload(c, registry, repo, b"{}", MODEL_CONFIG)
    layer = upload(c, registry, repo, good, "application/vnd.cncf.model.weight.v1.raw")
    layer["annotations"] = {"org.cncf.model.filepath": "model.safetensors",
                            "org.opencontainers.image.title": "model.safetensors"}
    if style == "Digest":
        other = upload(c, registry, repo, evil, "application/vnd.cncf.model.weight.v1.raw")
        layer["Digest"] = other["digest"]
        layer["Size"] = other["size"]
    manifest = {"schemaVersion": 2, "mediaType": MANIFEST,
                "artifactType": "application/vnd.cncf.model.manifest.v1+json",
                "config": config, "layers": [layer]}
    print(put_manifest(c, registry, repo, tag, manifest))


def reconfigure(registry, target, new_tag, entrypoint):
    """The attacker who swaps what an image runs: the same layers under a
    new config whose entrypoint is ENTRYPOINT, pushed as NEWTAG."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    manifest = get(c, registry, repo, tag, MANIFEST).json()
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "config": {"Entrypoint": [entrypoint]},
                         "rootfs": {"type": "layers", "diff_ids": []}}).encode()
    manifest["config"] = upload(c, registry, repo, config, manifest["config"]["mediaType"])
    print(put_manifest(c, registry, repo, new_tag, manifest))


def digest(registry, repo, ref):
    c = client()
    r = get(c, registry, repo, ref, MANIFEST)
    if r.status_code != 200:
        raise SystemExit(f"manifest {repo}:{ref}: {r.status_code}")
    return "sha256:" + hashlib.sha256(r.content).hexdigest()


def copy_referrers(registry, repo, source, target):
    """Attaches copies of every referrer of SOURCE to TARGET (the referrers
    tag scheme, as the test registry has no referrers API)."""
    c = client()
    r = get(c, registry, repo, source.replace(":", "-", 1), INDEX)
    if r.status_code != 200:
        raise SystemExit(f"no referrers tag for {source}: {r.status_code}")
    index = r.json()
    t = get(c, registry, repo, target, MANIFEST)
    subject = {"mediaType": MANIFEST, "digest": target, "size": len(t.content)}
    copies = []
    for d in index["manifests"]:
        m = get(c, registry, repo, d["digest"], MANIFEST).json()
        m["subject"] = subject
        new = put_manifest(c, registry, repo, "sha256:" + hashlib.sha256(json.dumps(m).encode()).hexdigest(), m)
        copies.append({**d, "digest": new, "size": len(json.dumps(m).encode())})
    put_manifest(c, registry, repo, target.replace(":", "-", 1),
                 {"schemaVersion": 2, "mediaType": INDEX, "manifests": copies}, INDEX)
    print(len(copies))


def attach_junk(registry, repo, target, count, mib):
    """Attaches COUNT junk "signature bundles" sharing one blob of MIB MiB
    (JSON, but no bundle) to TARGET, ahead of its other referrers: what an
    attacker who can push to the repository attaches to exhaust a verifier."""
    c = client()
    bundle_type = "application/vnd.dev.sigstore.bundle.v0.3+json"
    junk = b'{"junk":"' + b"a" * (int(mib) << 20) + b'"}'
    blob = upload(c, registry, repo, junk, bundle_type)
    empty = upload(c, registry, repo, b"{}", "application/vnd.oci.empty.v1+json")
    t = get(c, registry, repo, target, MANIFEST)
    subject = {"mediaType": MANIFEST, "digest": target, "size": len(t.content)}
    tag = target.replace(":", "-", 1)
    r = get(c, registry, repo, tag, INDEX)
    existing = r.json()["manifests"] if r.status_code == 200 else []
    junks = []
    for i in range(int(count)):
        m = {"schemaVersion": 2, "mediaType": MANIFEST, "artifactType": bundle_type,
             "config": empty, "layers": [blob], "subject": subject,
             "annotations": {"junk": str(i)}}
        body = json.dumps(m).encode()
        d = put_manifest(c, registry, repo, "sha256:" + hashlib.sha256(body).hexdigest(), m)
        junks.append({"mediaType": MANIFEST, "digest": d, "size": len(body), "artifactType": bundle_type})
    put_manifest(c, registry, repo, tag,
                 {"schemaVersion": 2, "mediaType": INDEX, "manifests": junks + existing}, INDEX)
    print(len(junks))


def variants(registry, target, count):
    """Pushes COUNT manifests that differ from REPO:TAG's only by an
    annotation: distinct models (by manifest digest) sharing every layer,
    made without uploading a byte of them again. Prints one digest a line."""
    c = client()
    repo, tag = target.rsplit(":", 1)
    base = get(c, registry, repo, tag, MANIFEST).json()
    for i in range(int(count)):
        m = dict(base)
        m["annotations"] = {**base.get("annotations", {}), "dev.modelseal.variant": str(i)}
        body = json.dumps(m).encode()
        print(put_manifest(c, registry, repo, "sha256:" + hashlib.sha256(body).hexdigest(), m))


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "push-raw":
        push_raw(*args)
    elif cmd == "push-tar":
        push_tar(*args)
    elif cmd == "push-evil-tar":
        push_evil_tar(*args)
    elif cmd == "push-layers":
        push_layers(*args)
    elif cmd == "push-case-keys":
        push_case_keys(*args)
    elif cmd == "reconfigure":
        reconfigure(*args)
    elif cmd == "digest":
        repo, ref = args[1].rsplit(":", 1)
        print(digest(args[0], repo, ref))
    elif cmd == "copy-referrers":
        copy_referrers(*args)
    elif cmd == "attach-junk":
        attach_junk(*args)
    elif cmd == "variants":
        variants(*args)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
