"""``python -m mockbin``: the same as the ``mockbin`` command."""

from .serving.cli import main

if __name__ == "__main__":
    main()
