"""Serving mockbin: the ``mockbin`` command, its runners, workers, logs and healthcheck.

Nothing in mockbin imports this package; it imports the app.
"""
