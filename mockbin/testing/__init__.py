"""Testing with mockbin: the pytest plugin, its live servers, the client handle and pytest-httpbin's fixtures.

Nothing in mockbin imports this package; it imports the app (lazily, so that
pytest's start-up stays cheap).
"""
