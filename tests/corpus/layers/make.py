"""Writes the layer corpus of tests/layers.rs: image layers (tar, one
directory per image, its layers numbered from the lowest) that real
writers produce, and hostile ones crafted byte by byte. The files are kept
in the repository; run this script again only to change the corpus:

    python3 tests/corpus/layers/make.py   (needs GNU tar and Go)

Each image directory is listed in expected.tsv with the verdict modelseal
must give: `accept`, or `refuse` and a part of the reason.
"""

import io
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
LONG = "d" * 60 + "/" + "e" * 60

# The files of the well-formed images: a small base image and a model.
BASE = {
    "bin/busybox": b"\x7fELF base image",
    "etc/hostname": b"model\n",
}
MODEL = {
    "models/config.json": b'{"architectures": ["Tiny"]}\n',
    "models/model.safetensors": b"\x08\x00\x00\x00\x00\x00\x00\x00{}      " + bytes(range(256)),
    "models/tokenizer/vocab.txt": b"a\nb\nc\n",
    "models/empty.txt": b"",
    f"models/{LONG}/w.bin": b"weights under a long directory name",
    "models/r\u00e9sum\u00e9.txt": b"a name that is not ASCII",
}


def model_tree(dir):
    for name, data in {**BASE, **MODEL}.items():
        path = os.path.join(dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    os.symlink("busybox", os.path.join(dir, "bin/sh"))
    os.makedirs(os.path.join(dir, "lib"), exist_ok=True)
    os.symlink("lib", os.path.join(dir, "lib64"))


def image(name, layers):
    out = os.path.join(HERE, name)
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    for i, data in enumerate(layers, 1):
        with open(os.path.join(out, f"{i}.tar"), "wb") as f:
            f.write(data)


def well_formed():
    with tempfile.TemporaryDirectory() as tmp:
        tree = os.path.join(tmp, "tree")
        model_tree(tree)
        names = ["bin", "etc", "lib", "lib64", "models"]
        for fmt in ["ustar", "gnu", "pax"]:
            out = os.path.join(tmp, f"gnu-{fmt}.tar")
            subprocess.run(
                ["tar", f"--format={fmt}", "--sort=name", "--owner=0", "--group=0",
                 "--numeric-owner", "--mtime=@0", "-C", tree, "-cf", out] + names,
                check=True,
            )
            image(f"gnu-tar-{fmt}", [open(out, "rb").read()])
        for fmt, const in [("ustar", tarfile.USTAR_FORMAT), ("gnu", tarfile.GNU_FORMAT),
                           ("pax", tarfile.PAX_FORMAT)]:
            buf = io.BytesIO()
            with tarfile.open(fileobj=buf, mode="w", format=const) as t:
                for n in names:
                    t.add(os.path.join(tree, n), arcname=n)
            image(f"python-tarfile-{fmt}", [buf.getvalue()])
        helper = os.path.join(tmp, "go_unpack")
        subprocess.run(["go", "build", "-o", helper, "."], check=True,
                       cwd=os.path.join(ROOT, "tests/differential/go_unpack"),
                       env={**os.environ, "GOFLAGS": "-mod=mod -buildvcs=false"})
        out = os.path.join(tmp, "go.tar")
        subprocess.run([helper, "write", tree, out], check=True)
        image("go-archive-tar", [open(out, "rb").read()])
        # A base layer and a model layer, as a ModelCar image is built.
        base, model = io.BytesIO(), io.BytesIO()
        with tarfile.open(fileobj=base, mode="w", format=tarfile.PAX_FORMAT) as t:
            for n in ["bin", "etc", "lib", "lib64"]:
                t.add(os.path.join(tree, n), arcname=n)
        with tarfile.open(fileobj=model, mode="w", format=tarfile.PAX_FORMAT) as t:
            t.add(os.path.join(tree, "models"), arcname="models")
        image("modelcar-two-layers", [base.getvalue(), model.getvalue()])


def header(name, kind, size, edit=None, link=""):
    h = bytearray(512)
    h[0:len(name)] = name.encode()
    h[100:108] = b"0000644\0"
    h[108:116] = b"0000000\0"
    h[116:124] = b"0000000\0"
    h[124:136] = b"%011o\0" % size
    h[136:148] = b"00000000000\0"
    h[156] = kind
    h[157:157 + len(link)] = link.encode()
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    if edit:
        edit(h)
    h[148:156] = b" " * 8
    h[148:156] = b"%06o\0 " % sum(h)
    return bytes(h)


def block(name, kind, data=b"", edit=None, link=""):
    out = header(name, kind, len(data), edit, link) + data
    return out + b"\0" * (-len(out) % 512)


def pax(records):
    out = b""
    for k, v in records:
        body = f" {k}={v}\n".encode()
        n = len(body) + 1
        while len(str(n).encode() + body) != n:
            n += 1
        out += str(n).encode() + body
    return out


def layer(*blocks):
    return b"".join(blocks) + b"\0" * 1024


EVIL = b"import os; os.system('id')\n"


def hostile():
    ok = block("models/config.json", ord("0"), b"{}")
    nxt = block("models/modeling_evil.py", ord("0"), EVIL)

    def hybrid(h):
        h[263:265] = b"  "
        h[345:351] = b"models"

    def star(h):
        h[345:476] = b"a" * 131
        h[476:482] = b"models"
        h[508:512] = b"tar\0"

    def gnu(h):
        h[257:263] = b"ustar "
        h[263:265] = b" \0"

    def bad_mtime(h):
        h[136:148] = b"zzzzzzzzzzz\0"

    cases = {
        "gnu-sparse-name": layer(
            ok,
            block("junk/pax", ord("x"), pax([
                ("GNU.sparse.major", "0"), ("GNU.sparse.minor", "1"),
                ("GNU.sparse.name", "models/modeling_evil.py"),
                ("GNU.sparse.map", "0,%d" % len(EVIL)), ("GNU.sparse.size", str(len(EVIL)))])),
            block("junk/placeholder", ord("0"), EVIL)),
        "old-style-directory-with-data": layer(ok, block("junk/", 0, nxt)),
        "directory-with-data": layer(ok, block("junk/", ord("5"), nxt)),
        "ustar-magic-gnu-version": layer(ok, block("modeling_evil.py", ord("0"), EVIL, hybrid)),
        "star-trailer": layer(ok, block("modeling_evil.py", ord("0"), EVIL, star)),
        "broken-mtime-before-a-file": layer(ok, block("junk/x", ord("0"), b"", bad_mtime), nxt),
        "pax-path-beside-gnu-long-name": layer(
            ok,
            block("x", ord("x"), pax([("path", "models/modeling_evil.py")])),
            block("././@LongLink", ord("L"), b"junk/a\0", gnu),
            block("junk/a", ord("0"), EVIL, gnu)),
        "pax-size-with-a-space": layer(
            ok,
            block("x", ord("x"), pax([("size", " %d" % len(EVIL))])),
            block("models/modeling_evil.py", ord("0"), EVIL)),
        "symlink-into-models": layer(
            ok,
            block("junk", ord("2"), link="/models"),
            block("junk/modeling_evil.py", ord("0"), EVIL)),
        "hard-link-to-a-model-file": layer(
            ok, block("junk/evil", ord("1"), link="models/config.json")),
        "whiteout-of-a-model-file": layer(ok, block("models/.wh.config.json", ord("0"))),
        "two-files-of-one-name": layer(ok, block("models/config.json", ord("0"), b"{ }")),
    }
    for name, data in cases.items():
        image(name, [data])
    sym = lambda name, target: block(name, ord("2"), link=target)
    hard = lambda name, target: block(name, ord("1"), link=target)
    more = {
        # A hard link to a symbolic link is a symbolic link, resolved from
        # its own place: a/b/s -> ../models leads to a/models, h to /models.
        "hard-link-to-a-symlink": layer(
            ok, sym("a/b/s", "../models"), hard("h", "a/b/s"),
            block("h/modeling_evil.py", ord("0"), EVIL)),
        # A link replaced by a directory: the runtime removes the link; a
        # reader that kept it resolves later names wrongly.
        "link-replaced-by-a-directory": layer(
            ok, sym("x", "deep/er"), block("x/", ord("5")), sym("x/y", "../models"),
            block("x/y/modeling_evil.py", ord("0"), EVIL)),
        # containerd joins a link's target textually (z/.. cancels), the
        # kernel and umoci follow z: p is q to one and m/q to the other.
        "link-target-through-a-link": layer(
            ok, block("m/n/", ord("5")), sym("z", "m/n"), sym("p", "z/../q"),
            sym("p/s/t", "../../models"), block("p/s/t/modeling_evil.py", ord("0"), EVIL)),
    }
    def gnu_hdr(h):
        h[257:263] = b"ustar "
        h[263:265] = b" \0"

    more.update({
        # A hard link whose target climbs through a name: containerd
        # resolves x/.. and links to the symbolic link a/b/s.
        "hard-link-target-with-dotdot": layer(
            ok, sym("a/b/s", "../models"), hard("h", "x/../a/b/s"),
            block("h/modeling_evil.py", ord("0"), EVIL)),
        # A NUL inside a GNU long link name: Go and Python cut the target
        # at it (a/b/s), a reader that does not sees another name.
        "long-link-name-with-a-nul": layer(
            ok, sym("a/b/s", "../models"),
            block("././@LongLink", ord("K"), b"a/b/s\0z\0", gnu_hdr),
            block("h", ord("1"), b"", gnu_hdr),
            block("h/modeling_evil.py", ord("0"), EVIL)),
        # A hard link to a model file through a link (containerd applies
        # the .. after following c): the file's mode, owner and xattrs
        # become the link's.
        "hard-link-to-a-model-file-through-a-link": layer(
            ok, sym("a/b/c", ".."),
            hard("junk", "x/../a/b/c/../models/config.json")),
    })
    for name, data in more.items():
        image(name, [data])
    image("links-across-layers", [
        layer(block("a/b/c", ord("2"), link="..")),
        layer(block("a/b/c/l", ord("2"), link="../models")),
        layer(ok, block("a/b/c/l/modeling_evil.py", ord("0"), EVIL)),
    ])


if __name__ == "__main__":
    os.chdir(HERE)
    well_formed()
    hostile()
    sys.exit(0)
