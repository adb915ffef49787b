"""Reads an image layer the way Python tooling that unpacks layers does
(tarfile): prints "SHA256 NAME" for each regular member under models/
(names without the prefix, sorted; a later member of one name replaces an
earlier one, as on disk), then "end"; "error: ..." and exit 1 where
tarfile refuses the layer. A test peer of modelseal (tests/layers.rs), not
part of the product."""

import hashlib
import posixpath
import sys
import tarfile


def main(path):
    files = {}
    try:
        with tarfile.open(path, "r:") as archive:
            for member in archive.getmembers():
                name = posixpath.normpath("/" + member.name).lstrip("/")
                if not name.startswith("models/"):
                    continue
                rest = name[len("models/"):]
                if not member.isreg():
                    files.pop(rest, None)
                    continue
                data = archive.extractfile(member).read()
                files[rest] = hashlib.sha256(data).hexdigest()
    except (tarfile.TarError, OSError) as e:
        print("error: " + str(e).replace("\n", " "))
        sys.exit(1)
    for name in sorted(files):
        print(f"{files[name]} {name}")
    print("end")


if __name__ == "__main__":
    main(sys.argv[1])
