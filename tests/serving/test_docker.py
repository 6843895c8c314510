"""The container image and the compose file, checked without a Docker engine.

No Docker daemon runs where these tests run, so each promise is checked the
closest way that needs none: the compose file against the Compose
specification's schema, the Dockerfile with hadolint, the files the build
copies by building the wheel from exactly those files, and the image's own
CMD and HEALTHCHECK (read from the Dockerfile, with its ENV) by running them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any, Dict, List

import pytest
from ruamel.yaml import YAML  # comes with check-jsonschema

from mockbin.settings import env_name, fields
from support.dockerfile import Stage, final_stage, parse
from support.servers import HOST, ServerProcess, free_port

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"
BIN = Path(sys.executable).parent


def tool(name: str) -> str:
    path = shutil.which(name, path=str(BIN)) or shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed: pip install -e '.[test]'")
    return path


def setting_names() -> set:
    return {env_name(f.name) for f in fields()}


@pytest.fixture(scope="module")
def image() -> Stage:
    return final_stage(DOCKERFILE)


@pytest.fixture(scope="module")
def compose() -> Dict[str, Any]:
    return YAML(typ="safe").load(COMPOSE.read_text())


# -- the compose file --------------------------------------------------------


def check_jsonschema(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(path)],
        capture_output=True, text=True, timeout=60,
    )


def test_compose_file_follows_the_compose_specification(tmp_path: Path) -> None:
    result = check_jsonschema(COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr
    # The same check rejects a slip that Compose itself would reject.
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("condition: service_healthy", "condition: healthy", 1))
    assert check_jsonschema(broken).returncode == 1


def test_compose_sidecar_and_test_runner_wait_for_health(compose: Dict[str, Any], image: Stage) -> None:
    services = compose["services"]
    mockbin = services["mockbin"]
    port = image.env["MOCKBIN_PORT"]
    assert mockbin["build"] == "."
    assert f"{port}:{port}" in mockbin["ports"]
    assert mockbin["healthcheck"]["test"] == ["CMD", *image.healthcheck[1]]
    assert "start_interval" not in mockbin["healthcheck"], "compose refuses it on Docker Engine < 25"

    runner = services["tests"]
    assert runner["depends_on"]["mockbin"] == {"condition": "service_healthy"}
    assert runner["environment"]["MOCKBIN_URL"] == f"http://mockbin:{port}"
    assert "profiles" not in mockbin and "profiles" not in runner


def test_compose_stateful_profile_shares_one_redis_between_two_replicas(compose: Dict[str, Any]) -> None:
    services = compose["services"]
    profile = {name: s for name, s in services.items() if "stateful" in s.get("profiles", [])}
    replicas = {name: s for name, s in profile.items() if s.get("build") == "."}
    assert len(replicas) == 2
    assert "redis" in profile
    for service in replicas.values():
        env = service["environment"]
        assert env["MOCKBIN_STATEFUL"] == "1"
        assert re.fullmatch(r"redis://redis:6379/\d+", env["MOCKBIN_STORE"])
        assert service["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert len({tuple(s["ports"]) for s in replicas.values()}) == 2, "the replicas publish different ports"
    check = profile["stateful-check"]
    assert set(check["depends_on"]) == set(replicas)


def test_compose_https_profile_shares_the_minted_ca_with_its_client(compose: Dict[str, Any]) -> None:
    services = compose["services"]
    server, client = services["mockbin-https"], services["https-check"]
    assert server["profiles"] == client["profiles"] == ["https"]
    env = server["environment"]
    assert env["MOCKBIN_TLS_SELF_SIGNED"] == "1"
    ca_dir = os.path.dirname(env["MOCKBIN_TLS_CA_FILE"])
    volume = next(v.split(":")[0] for v in server["volumes"] if v.split(":")[1] == ca_dir)
    mount = next(v for v in client["volumes"] if v.startswith(volume + ":"))
    assert client["environment"]["SSL_CERT_FILE"] == mount.split(":")[1] + "/" + os.path.basename(env["MOCKBIN_TLS_CA_FILE"])
    assert client["environment"]["MOCKBIN_URL"] == f"https://{server['hostname']}:{env['MOCKBIN_PORT']}"
    assert client["depends_on"]["mockbin-https"] == {"condition": "service_healthy"}
    assert volume in compose["volumes"]


def test_compose_sets_only_real_settings(compose: Dict[str, Any]) -> None:
    used = {
        name
        for service in compose["services"].values()
        if service.get("build") == "."
        for name in service.get("environment", {})
    }
    assert used - setting_names() == set()


# -- the Dockerfile ----------------------------------------------------------


def hadolint(path: Path, *options: str) -> List[Dict[str, Any]]:
    import json

    result = subprocess.run(
        [tool("hadolint"), "--no-color", "--failure-threshold", "style", "-f", "json", *options, str(path)],
        capture_output=True, text=True, timeout=60,
    )
    return json.loads(result.stdout or "[]")


def test_dockerfile_passes_hadolint_and_every_ignore_has_a_reason(tmp_path: Path) -> None:
    config = tmp_path / "hadolint.yaml"
    config.write_text("ignored: []\n")  # no user or project config may hide a finding
    assert hadolint(DOCKERFILE, "--config", str(config)) == []

    lines = DOCKERFILE.read_text().splitlines()
    pragmas = {n: line for n, line in enumerate(lines, 1) if re.match(r"\s*#\s*hadolint\s+ignore=", line)}
    for number in pragmas:
        reason = lines[number - 2].strip() if number > 1 else ""
        assert reason.startswith("#") and "hadolint" not in reason, f"line {number}: say why above the ignore"
    silenced = hadolint(DOCKERFILE, "--config", str(config), "--disable-ignore-pragma")
    for finding in silenced:
        pragma = pragmas.get(finding["line"] - 1, "")
        assert finding["code"] in pragma, f"{finding} is not covered by an ignore right above it"
    used = {finding["line"] - 1 for finding in silenced}
    assert set(pragmas) <= used, "an ignore pragma silences nothing: remove it"


def test_image_is_small_non_root_and_serves_on_8080(image: Stage) -> None:
    stages = parse(DOCKERFILE)
    assert len(stages) >= 2, "multi-stage: the build tools stay out of the image"
    base = re.search(r"ARG PYTHON_IMAGE=(\S+)", DOCKERFILE.read_text())
    pinned_slim = r"python:3\.\d+(\.\d+)?-slim(-\w+)?"  # official image, a pinned tag, not latest
    assert base and re.fullmatch(pinned_slim, base.group(1)), base
    assert image.base == stages[0].base == "${PYTHON_IMAGE}"

    user = image.last("USER")
    assert user is not None and user.arguments.split(":")[0] not in ("0", "root")
    assert [i.arguments for i in image.all("EXPOSE")] == ["8080"]
    assert image.env["MOCKBIN_HOST"] == "0.0.0.0" and image.env["MOCKBIN_PORT"] == "8080"
    options, _ = image.healthcheck
    assert options.get("start-interval") and options.get("interval") and options.get("timeout")


def test_image_environment_is_made_of_real_settings(image: Stage) -> None:
    from mockbin.settings import Settings

    mockbin_env = {k: v for k, v in image.env.items() if k.startswith("MOCKBIN_")}
    assert set(mockbin_env) <= setting_names()
    settings = Settings.from_env(mockbin_env)  # every value parses
    # The grace period ends before `docker stop` (10 s by default) sends SIGKILL.
    assert settings.graceful_timeout < 10


def dockerignore_regex(pattern: str) -> "re.Pattern[str]":
    """A .dockerignore pattern as a regex: ``**/`` any directories, ``*`` and ``?`` within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def dockerignored(path: str, patterns: List[str]) -> bool:
    """Docker's rule: the last pattern that matches the path or one of its parents decides."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        regex = dockerignore_regex(pattern.lstrip("!").rstrip("/"))
        if any(regex.fullmatch(candidate) for candidate in candidates):
            excluded = not pattern.startswith("!")
    return excluded


def build_sources(stage: Stage) -> List[str]:
    """What the build stage's COPY instructions take from the build context."""
    sources: List[str] = []
    for copy in stage.all("COPY"):
        words = [w for w in copy.arguments.split() if not w.startswith("--")]
        sources += words[:-1]
    return sources


def test_build_context_holds_what_the_build_copies_and_nothing_heavy() -> None:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sources = build_sources(parse(DOCKERFILE)[0])
    assert sources
    for source in sources:
        files = [source] if (ROOT / source).is_file() else [
            str(p.relative_to(ROOT)) for p in (ROOT / source).rglob("*.py")
        ]
        assert files and not any(dockerignored(f, patterns) for f in files), f"{source} is left out"
    for heavy in (".git", ".venv", "tests/serving/test_docker.py", "mockbin/__pycache__/x.pyc", "build"):
        assert dockerignored(heavy, patterns), f"{heavy} would be sent to the Docker daemon"


def test_build_stage_files_are_enough_to_build_the_wheel(tmp_path: Path) -> None:
    """The build stage copies a few files; the wheel must build from those alone."""
    context = tmp_path / "context"
    for source in build_sources(parse(DOCKERFILE)[0]):
        target = context / source
        if (ROOT / source).is_dir():
            shutil.copytree(ROOT / source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / source, target)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "--wheel-dir", str(tmp_path / "wheels"), str(context)],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stderr
    (wheel,) = (tmp_path / "wheels").glob("mockbin-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = next(n for n in names if n.endswith("entry_points.txt"))
        assert "mockbin = mockbin.serving.cli:main" in archive.read(entry_points).decode()
    assert {"mockbin/serving/healthcheck.py", "mockbin/serving/workers.py", "mockbin/serving/logs.py", "mockbin/app.py"} <= set(names)


# -- the image's commands, run as the image runs them ------------------------


def image_environ(image: Stage, **overrides: str) -> Dict[str, str]:
    """This machine's environment without MOCKBIN_* values, plus the image's ENV."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("MOCKBIN_")}
    environ["PATH"] = f"{BIN}{os.pathsep}{environ.get('PATH', '')}"  # this checkout's `mockbin`
    environ.update(image.env)
    environ.update(overrides)
    return environ


def test_image_cmd_serves_and_image_healthcheck_reports_healthy(image: Stage) -> None:
    _, check = image.healthcheck
    port = str(free_port())
    # Loopback instead of 0.0.0.0 on this shared machine; everything else as in the image.
    server = ServerProcess(image.cmd, int(port))
    server.env = image_environ(image, MOCKBIN_HOST=HOST, MOCKBIN_PORT=port)
    with server:
        # Like Docker during the start period: failures while mockbin boots
        # (the port listens before the app is loaded) do not count yet.
        deadline = time.monotonic() + 20
        while True:
            result = subprocess.run(
                check, env=image_environ(image, MOCKBIN_PORT=port), capture_output=True, text=True, timeout=30
            )
            if result.returncode == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert result.returncode == 0, result.stderr
        assert "healthy: mockbin" in result.stdout and f"http://{HOST}:{port}/" in result.stdout

        import requests

        answer = requests.get(f"{server.url}/get?docker=1", timeout=10)
        assert answer.status_code == 200 and answer.json()["args"] == {"docker": "1"}
    # The same check, once the server is gone, says so.
    result = subprocess.run(
        check, env=image_environ(image, MOCKBIN_PORT=port), capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 1 and "connection refused" in result.stderr


# -- docs/docker.md ----------------------------------------------------------


def test_docs_list_every_variable_as_settings_define_it() -> None:
    text = (ROOT / "docs" / "docker.md").read_text()
    for name in setting_names():
        assert f"`{name}`" in text
