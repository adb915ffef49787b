#!/usr/bin/env python3
"""Writes a benchmark dataset of many small files, deterministically.

    scripts/gen-dataset.py DIR FILES [PER_DIR [SIZE]]

DIR gets FILES files of SIZE bytes (default 100) in directories of PER_DIR
files each (default 1000): DIR/d000000/f000000.bin, ... Each file's bytes are
its number as a text line, repeated and cut to SIZE, so every file differs
and two runs give the same tree (and the same signature with the same key).
A marker DIR/.complete is written last; an existing complete tree of the
same shape is kept, so a benchmark can call this every time.
"""

import os
import sys


def main() -> int:
    if len(sys.argv) not in (3, 4, 5):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = sys.argv[1]
    files = int(sys.argv[2])
    per_dir = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
    size = int(sys.argv[4]) if len(sys.argv) > 4 else 100
    shape = f"{files} {per_dir} {size}\n"
    marker = os.path.join(root, ".complete")
    try:
        with open(marker) as f:
            if f.read() == shape:
                return 0
    except FileNotFoundError:
        pass
    os.makedirs(root, exist_ok=True)
    if os.path.exists(marker):
        os.remove(marker)
    for i in range(files):
        d, f = divmod(i, per_dir)
        sub = os.path.join(root, f"d{d:06d}")
        if f == 0:
            os.makedirs(sub, exist_ok=True)
        line = f"file {i:09d}\n".encode()
        body = (line * (size // len(line) + 1))[:size]
        with open(os.path.join(sub, f"f{f:06d}.bin"), "wb") as out:
            out.write(body)
    with open(marker, "w") as f:
        f.write(shape)
    return 0


if __name__ == "__main__":
    sys.exit(main())
