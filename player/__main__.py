"""`python -m player`: the GUI when given no subcommand, else the CLI."""

import sys


def main(argv=None) -> int:
    from player.cli import main as cli_main

    return cli_main(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
