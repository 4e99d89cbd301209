#!/usr/bin/env python3
"""Runs the README's shell snippets as written.

Every ```sh block that directly follows a `<!-- ci: run -->` line is taken, in the order of
the file, into one bash script (`set -euo pipefail`) run from the repository root; background
jobs the snippets start (the simulator) are killed at the end, and `curl` fails on an HTTP
error status (the README's `curl -s` alone would hide one). Blocks without the mark need
real credentials or install into the machine; they are listed, not run.

    python3 .ci/readme_snippets.py [README.md ...]      # default: README.md
    python3 .ci/readme_snippets.py --list README.md     # show what would run

Exit status: the script's (non-zero when any snippet line fails).
"""

import os
import subprocess
import sys

MARK = "<!-- ci: run -->"


def blocks(path):
    """(line number, marked, text) of each ```sh block of `path`."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            marked = i > 0 and lines[i - 1].strip() == MARK
            start, body = i + 1, []
            i += 1
            while i < len(lines) and lines[i].strip() != "```":
                body.append(lines[i])
                i += 1
            out.append((start, marked, "\n".join(body) + "\n"))
        i += 1
    return out


def main(argv):
    listing = "--list" in argv
    files = [a for a in argv if a != "--list"] or ["README.md"]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    script = [
        "set -euo pipefail",
        "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
        # An HTTP error status fails the snippet (the README's `curl -s` would hide it).
        'curl() { command curl --fail-with-body "$@"; echo; }',
    ]
    for path in files:
        for line, marked, text in blocks(os.path.join(root, path)):
            where = f"{path}:{line}"
            print(f"{'run ' if marked else 'skip'} {where}", file=sys.stderr)
            if marked:
                script += [f"echo '--- {where}' >&2", f"cd {root!r}", text]
    if listing:
        return 0
    return subprocess.run(["bash", "-c", "\n".join(script)], cwd=root).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
