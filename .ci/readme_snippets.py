#!/usr/bin/env python3
"""Runs the README's shell snippets as written.

Every ```sh block that directly follows a `<!-- ci: run -->` line is taken, in the order of
the files, into one bash script (`set -euo pipefail`) run from the repository root; background
jobs the snippets start (the simulator) are killed at the end, and `curl` fails on an HTTP
error status (the README's `curl -s` alone would hide one).

A block marked `<!-- ci: run in the sandbox -->` shows a command a reader runs with their own
credentials; CI runs it as written against the sandbox instead: after every `ci: run` block
(so the README's sandbox section has started the simulator and exported its `WECHATPAY_*`),
in file order, the blocks of one file in one subshell of their own (a later block may use
what an earlier one made), in a scratch directory, with `target/release` first on `PATH` (the
`wechatpay` and `wechatpay-sim` that the quick start and the sandbox section built, standing
for the installed commands). The subshell's background jobs are killed when it ends.

Blocks without a mark need real credentials, install into the machine or run forever; they
are listed, not run.

    python3 .ci/readme_snippets.py [README.md ...]      # default: README.md; several run as one script
    python3 .ci/readme_snippets.py --list README.md     # show what would run

Exit status: the script's (non-zero when any snippet line fails).
"""

import os
import subprocess
import sys

MARK = "<!-- ci: run -->"
SANDBOX_MARK = "<!-- ci: run in the sandbox -->"


def blocks(path):
    """(line number, mark, text) of each ```sh block of `path`: mark is "run", "sandbox" or None."""
    lines = open(path, encoding="utf-8").read().split("\n")
    out, i = [], 0
    while i < len(lines):
        if lines[i].strip() == "```sh":
            before = lines[i - 1].strip() if i > 0 else ""
            marked = {MARK: "run", SANDBOX_MARK: "sandbox"}.get(before)
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
    sandbox = []
    for path in files:
        in_sandbox = []
        for line, marked, text in blocks(os.path.join(root, path)):
            where = f"{path}:{line}"
            label = {"run": "run    ", "sandbox": "sandbox"}.get(marked, "skip   ")
            print(f"{label} {where}", file=sys.stderr)
            if marked == "run":
                script += [f"echo '--- {where}' >&2", f"cd {root!r}", text]
            elif marked == "sandbox":
                in_sandbox += [f"echo '--- {where} (in the sandbox)' >&2", text]
        if in_sandbox:
            sandbox += [
                "(",
                "trap 'kill $(jobs -p) 2>/dev/null || true' EXIT",
                f'export PATH={os.path.join(root, "target", "release")!r}:"$PATH"',
                'cd "$(mktemp -d)"',
            ] + in_sandbox + [")"]
    if sandbox:
        script += [
            # The sandbox section must have run: its env is what the blocks use.
            ': "${WECHATPAY_BASE_URL:?a ci: run in the sandbox block needs the sandbox section first}"',
        ] + sandbox
    if listing:
        return 0
    return subprocess.run(["bash", "-c", "\n".join(script)], cwd=root).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
