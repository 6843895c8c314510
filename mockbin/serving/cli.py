"""The ``mockbin`` command: ``mockbin serve``, ``mockbin healthcheck``, ``mockbin --version``.

Options are generated from :class:`mockbin.settings.Settings`, so every
setting is a flag and ``mockbin serve --help`` lists them all with their
``MOCKBIN_*`` variables.  Any bad value or an unusable address ends the
program with one line on stderr and exit status 2.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, List, Optional

import click

from ..version import __version__
from ..settings import Settings, SettingsError, env_name, fields, flag_name, parse_size

EXIT_USAGE = 2
_BINARY_UNITS = (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024))


def fail(message: str) -> "click.exceptions.Exit":
    click.echo(f"mockbin: error: {message}", err=True)
    return click.exceptions.Exit(EXIT_USAGE)


def show_default(value: Any, parse: Optional[Callable[[str], Any]] = None) -> str:
    """A default as the docs write it: sizes with a unit (100MiB), lists comma-separated."""
    if isinstance(value, tuple):
        return ",".join(value) or "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if value == "":
        return "none"
    if parse is parse_size and isinstance(value, int):
        for unit, factor in _BINARY_UNITS:
            if value and value % factor == 0:
                return f"{value // factor}{unit}"
    return str(value)


def settings_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """Add one ``--flag`` per setting; an unset flag stays None so env vars can apply.

    Values stay text here: :meth:`Settings.from_sources` parses flags and env
    vars with the same parser, so a bad value reads the same either way.
    """
    for f in reversed(fields()):
        meta = f.metadata
        shown = show_default(f.default, meta["parse"])
        help_text = f"{meta['help']} [env: {env_name(f.name)}; default: {shown}]"
        if isinstance(f.default, bool):
            # Booleans are switches: --expose-hostname / --no-expose-hostname.
            flag = flag_name(f.name)
            command = click.option(
                f"{flag}/--no-{flag[2:]}", f.name, default=None, help=help_text
            )(command)
            continue
        command = click.option(
            flag_name(f.name),
            f.name,
            default=None,
            metavar=meta["metavar"] or None,
            help=help_text,
        )(command)
    return command


@click.group(context_settings={"help_option_names": ["-h", "--help"]}, invoke_without_command=True)
@click.version_option(__version__, "-V", "--version", prog_name="mockbin", message="%(prog)s %(version)s")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """mockbin: an httpbin you run yourself."""
    if ctx.invoked_subcommand is None:  # bare `mockbin`: the help, as a help (exit 0)
        click.echo(ctx.get_help())


@cli.command()
@settings_options
def serve(**flags: Any) -> None:
    """Serve mockbin (default http://127.0.0.1:8080, under gunicorn)."""
    from .sockets import ServeError

    try:
        settings = Settings.from_sources(flags)
        engine(settings.server)(settings)
    except (SettingsError, ServeError) as exc:
        raise fail(str(exc)) from None


def engine(server: str) -> Callable[[Settings], None]:
    """The ``serve`` function of *server* (``--server``)."""
    if server == "granian":
        from .granian import serve as serve_granian

        return serve_granian
    from .gunicorn import serve as serve_gunicorn

    return serve_gunicorn


@cli.command()
@click.option(
    "--url",
    metavar="URL",
    help="Server or health URL to ask [default: from MOCKBIN_HOST, MOCKBIN_PORT, MOCKBIN_PREFIX].",
)
@click.option("--timeout", type=float, default=3.0, show_default=True, help="Seconds to wait for the answer.")
def healthcheck(url: Optional[str], timeout: float) -> None:
    """Exit 0 if mockbin is healthy, else 1 and why.

    Asks /__mockbin/health; made for Docker HEALTHCHECK (stdlib only, no curl).
    """
    from .healthcheck import run

    raise click.exceptions.Exit(run(url, timeout))


def main(argv: Optional[List[str]] = None) -> None:
    """Console entry point; usage errors are one line and exit 2."""
    try:
        code = cli.main(args=argv, prog_name="mockbin", standalone_mode=False)
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.ClickException as exc:
        click.echo(f"mockbin: error: {exc.format_message()}", err=True)
        code = EXIT_USAGE
    except click.Abort:
        code = 1
    sys.exit(code or 0)
