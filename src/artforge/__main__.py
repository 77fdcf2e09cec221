"""`python -m artforge ...` (what torchrun launches): the same as the `artforge` command."""

from .cli.main import entry

if __name__ == "__main__":
    entry()
