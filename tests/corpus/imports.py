"""Asks Python's own unpickler which globals a file makes it import, with
every import and persistent id replaced by an inert stand-in, so nothing of
the file ever runs. Used by tests/loaders.rs on the corpus.

Usage: imports.py FILE; prints a JSON list of "module.name" strings. A zip
is read as PyTorch reads it (its `*/data.pkl` member, else every `.pkl`
member); other files are read as back-to-back pickles, as legacy PyTorch
files hold several, until one breaks.
"""

import io
import json
import pickle
import sys
import zipfile


class Inert:
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Inert()

    def __setstate__(self, state):
        pass

    def __getattr__(self, name):
        return Inert()

    def __setitem__(self, key, value):
        pass

    def append(self, value):
        pass

    def extend(self, values):
        pass


class Recorder(pickle.Unpickler):
    def __init__(self, stream, seen):
        super().__init__(stream)
        self.seen = seen

    def find_class(self, module, name):
        self.seen.add(f"{module}.{name}")
        return Inert

    def persistent_load(self, pid):
        return Inert()


def record(data, seen):
    stream = io.BytesIO(data)
    while stream.tell() < len(data):
        try:
            Recorder(stream, seen).load()
        except Exception:
            return


def main(path):
    seen = set()
    with open(path, "rb") as f:
        data = f.read()
    if zipfile.is_zipfile(io.BytesIO(data)):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = [n for n in z.namelist() if n.endswith(".pkl")]
                for n in names:
                    record(z.read(n), seen)
        except Exception:
            pass
    else:
        record(data, seen)
    print(json.dumps(sorted(seen)))


if __name__ == "__main__":
    main(sys.argv[1])
