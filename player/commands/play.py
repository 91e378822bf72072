"""play subcommands (filled in by the play issue)."""


def register(sub, common) -> None:
    pass
