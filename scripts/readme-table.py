#!/usr/bin/env python3
"""Writes a benchmark's table into README.md between its marker lines.

    readme-table.py NAME FILE

replaces what stands between `<!-- NAME: begin -->` and `<!-- NAME: end -->`
in README.md with the text of FILE, so that every number in a README table
is one a script printed, never one typed by hand. Fails when the markers
are missing or repeated.
"""
import pathlib
import sys

name, text_file = sys.argv[1], sys.argv[2]
readme = pathlib.Path(__file__).resolve().parent.parent / "README.md"
text = readme.read_text()
begin, end = f"<!-- {name}: begin -->\n", f"<!-- {name}: end -->\n"
if text.count(begin) != 1 or text.count(end) != 1:
    sys.exit(f"readme-table.py: README.md must hold {begin.strip()} and {end.strip()} once each")
head, rest = text.split(begin)
_, tail = rest.split(end)
body = pathlib.Path(text_file).read_text()
if not body.endswith("\n"):
    body += "\n"
readme.write_text(head + begin + body + end + tail)
print(f"readme-table.py: wrote {name} into {readme.name}")
