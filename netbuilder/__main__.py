"""`python -m netbuilder` is the same as the `netbuilder` command. A signal while the command's modules load
(about half a second) ends it with the command's exit code and line, as a signal during the command does."""

from __future__ import annotations

from netbuilder.interrupts import end_at_once_on_signals


def main() -> int:
    """Run the command with signals handled from the first moment."""
    end_at_once_on_signals()
    from netbuilder.cli import main as command  # after the handlers: this import takes about half a second

    return command()


if __name__ == "__main__":
    raise SystemExit(main())
