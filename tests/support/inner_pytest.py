"""Options for the pytest runs that tests start in subprocesses (pytester projects).

The test environment has plugins that have nothing to do with what those
runs check (hypothesis, schemathesis, anyio); loading them costs about two
seconds per run, most of what a small project's run takes.  Leaving them out
keeps mockbin's own plugin, pytest-httpbin's and xdist.
"""

UNRELATED_PLUGINS = ("-p", "no:hypothesispytest", "-p", "no:schemathesis", "-p", "no:anyio")
