"""The `xmen` console script: the real command line, run in-process from the extension."""
import sys

from xmen import _xmen


def main():
    sys.stdout.flush()
    sys.exit(_xmen.cli_main(["xmen"] + sys.argv[1:]))


if __name__ == "__main__":
    main()
