"""Run the shell examples of the documentation and compare what they print with what the page shows.

A ```console block is a transcript: lines starting with ``$ `` are commands
(a trailing backslash continues one), the lines after a command up to the
next one are what it printed.  :func:`run_transcripts` runs the commands in
one bash session, in order, the way a reader following the page would, with
the page's ports (8080, 8081, ...) replaced by free ones; commands ending in ``&`` keep
running in the background until the session ends.  Output is compared
leniently where it must be: ``Date``/``Last-Modified`` values and the curl
version in a User-Agent may differ; an expected header must be present with
the same value; the status line and the body must be identical.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple

BLOCK = re.compile(r"```console\n(.*?)```", re.S)
MARK = "@@mockbin-doc-example@@"
_DATE_HEADERS = ("date", "last-modified", "expires")


@dataclass
class Step:
    command: str
    expected: List[str] = field(default_factory=list)


def transcripts(text: str) -> List[List[Step]]:
    """Every console block of *text*, as its steps."""
    blocks = []
    for body in BLOCK.findall(text):
        steps: List[Step] = []
        continuing = False
        for line in body.splitlines():
            if continuing:
                steps[-1].command += "\n" + line
                continuing = line.endswith("\\")
            elif line.startswith("$ "):
                steps.append(Step(line[2:]))
                continuing = line.endswith("\\")
            elif steps:
                steps[-1].expected.append(line)
        blocks.append(steps)
    return blocks


Ports = Dict[str, str]  # the page's port -> the port used


def _swap(text: str, ports: Ports) -> str:
    return re.sub(r"\b80[0-9]{2}\b", lambda m: ports.get(m.group(), m.group()), text)


def run_transcripts(
    blocks: List[List[Step]], ports: Ports, timeout: float = 60.0, env: Optional[Dict[str, str]] = None
) -> List[Tuple[Step, str]]:
    """Run every step in one bash session; ``(step, output)`` pairs in order."""
    script = ["set -u"]
    steps = [step for block in blocks for step in block]
    for index, step in enumerate(steps):
        script.append(f"echo '{MARK}{index}'")
        script.append(_swap(step.command, ports))
    script.append(f"echo '{MARK}end'")
    script.append('kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; true')
    result = subprocess.run(["bash", "-c", "\n".join(script)], capture_output=True, text=True,
                            timeout=timeout, env=env)
    outputs = re.split(re.escape(MARK) + r"(?:\d+|end)\n", result.stdout)[1:]
    assert len(outputs) == len(steps) + 1, (result.stdout, result.stderr)
    return list(zip(steps, outputs))


def _split(lines: List[str]) -> Tuple[List[str], List[str]]:
    """A curl -i transcript: head lines (status and headers) and body lines."""
    if not lines or not lines[0].startswith("HTTP/"):
        return [], lines
    blank = lines.index("") if "" in lines else len(lines)
    return lines[:blank], lines[blank + 1 :]


def _normal(text: str, ports: Ports) -> str:
    for page, used in ports.items():
        text = text.replace(f":{used}", f":{page}")
    return re.sub(r"curl/[0-9.]+", "curl/X", text)


def differences(step: Step, output: str, ports: Ports) -> List[str]:
    """What the output of *step* does differently from what the page shows (empty: nothing)."""
    expected = [_normal(line, ports) for line in step.expected]
    while expected and expected[-1] == "":
        expected.pop()
    actual = [_normal(line, ports) for line in output.replace("\r\n", "\n").split("\n")]
    while actual and actual[-1] == "":
        actual.pop()
    want_head, want_body = _split(expected)
    got_head, got_body = _split(actual)
    problems = []
    if want_head:
        if not got_head or got_head[0] != want_head[0]:
            problems.append(f"status line {got_head[:1]} != {want_head[0]!r}")
        got = {}
        for line in got_head[1:]:
            name, _, value = line.partition(":")
            got[name.strip().lower()] = value.strip()
        for line in want_head[1:]:
            name, _, value = line.partition(":")
            key = name.strip().lower()
            if key not in got:
                problems.append(f"header {name} missing")
            elif key not in _DATE_HEADERS and got[key] != value.strip():
                problems.append(f"header {name}: {got[key]!r} != {value.strip()!r}")
    if want_body != got_body:
        problems.append(f"output {got_body!r} != {want_body!r}")
    return problems


def check_page(path: Path, ports: Ports, env: Optional[Dict[str, str]] = None) -> None:
    """Run every transcript of the page at *path* and assert each output is as shown."""
    blocks = transcripts(path.read_text(encoding="utf-8"))
    assert blocks, f"{path} has no console examples"
    failures = []
    for step, output in run_transcripts(blocks, ports, env=env):
        found = differences(step, output, ports)
        if found:
            failures.append(f"$ {step.command}\n  " + "\n  ".join(found))
    assert not failures, f"{path.name}: examples that do not print what the page shows:\n" + "\n".join(failures)
