"""Lists a tar layer the way Python's tarfile reads it (what Python tooling
that unpacks layers uses): "TYPE SIZE NAME" per member, one per line, then
"end"; "error: ..." and exit 1 where tarfile refuses it. A test peer of
modelseal (crates/registry/src/oci/tar.rs), not part of the product."""

import sys
import tarfile


def main(path):
    try:
        with tarfile.open(path, "r:") as archive:
            for member in archive.getmembers():
                kind = "dir" if member.isdir() else "file" if member.isreg() else "other"
                print(f"{kind} {member.size} {member.name}")
    except tarfile.TarError as e:
        print(f"error: {e}")
        sys.exit(1)
    print("end")


if __name__ == "__main__":
    main(sys.argv[1])
