"""Just enough of a Dockerfile parser to run the image's commands without Docker.

The tests read the final stage's ``ENV``, ``CMD`` and ``HEALTHCHECK`` from
the Dockerfile itself, so the commands they run are the image's commands,
not a copy that could drift from them.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Tuple


@dataclass
class Instruction:
    keyword: str  # upper case: FROM, ENV, CMD, ...
    arguments: str
    line: int


@dataclass
class Stage:
    """One ``FROM`` stage and the instructions under it."""

    base: str
    instructions: List[Instruction] = field(default_factory=list)

    def all(self, keyword: str) -> List[Instruction]:
        return [i for i in self.instructions if i.keyword == keyword]

    def last(self, keyword: str) -> Optional[Instruction]:
        found = self.all(keyword)
        return found[-1] if found else None

    @property
    def env(self) -> Dict[str, str]:
        values: Dict[str, str] = {}
        for instruction in self.all("ENV"):
            words = shlex.split(instruction.arguments)
            if words and "=" not in words[0]:  # legacy form: ENV NAME value with spaces
                values[words[0]] = " ".join(words[1:])
                continue
            for word in words:
                name, _, value = word.partition("=")
                values[name] = value
        return values

    @property
    def cmd(self) -> List[str]:
        instruction = self.last("CMD")
        assert instruction is not None, "the final stage has no CMD"
        return exec_form(instruction.arguments)

    @property
    def healthcheck(self) -> Tuple[Dict[str, str], List[str]]:
        """The HEALTHCHECK's ``--options`` and its exec-form command."""
        instruction = self.last("HEALTHCHECK")
        assert instruction is not None, "the final stage has no HEALTHCHECK"
        options: Dict[str, str] = {}
        rest = instruction.arguments.strip()
        while rest.startswith("--"):
            option, _, rest = rest.partition(" ")
            name, _, value = option[2:].partition("=")
            options[name] = value
            rest = rest.strip()
        keyword, _, command = rest.partition(" ")
        assert keyword.upper() == "CMD", f"HEALTHCHECK {rest!r} has no CMD"
        return options, exec_form(command)


def exec_form(text: str) -> List[str]:
    """A JSON-array command; the shell form is refused (SIGTERM would reach /bin/sh, not mockbin)."""
    text = text.strip()
    assert text.startswith("["), f"{text!r} is in shell form, not exec form"
    argv = json.loads(text)
    assert isinstance(argv, list) and all(isinstance(word, str) for word in argv)
    return argv


def logical_lines(text: str) -> List[Tuple[int, str]]:
    """(first line number, instruction text): continuations joined, comments dropped."""
    lines: List[Tuple[int, str]] = []
    pending: List[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if not pending:
            start = number
        if stripped.endswith("\\"):
            pending.append(stripped[:-1].strip())
            continue
        pending.append(stripped)
        lines.append((start, " ".join(part for part in pending if part)))
        pending = []
    return lines


def parse(path: Path) -> List[Stage]:
    stages: List[Stage] = []
    for number, text in logical_lines(path.read_text()):
        keyword, _, arguments = text.partition(" ")
        instruction = Instruction(keyword.upper(), arguments.strip(), number)
        if instruction.keyword == "FROM":
            stages.append(Stage(base=arguments.split()[0]))
        elif stages:
            stages[-1].instructions.append(instruction)
    return stages


def final_stage(path: Path) -> Stage:
    return parse(path)[-1]
