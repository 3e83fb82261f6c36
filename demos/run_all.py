"""Run every demo in turn (filled in as demos land)."""

import argparse


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="out", help="folder for pictures")
    parser.parse_args(argv)
    print("no demos yet")


if __name__ == "__main__":
    main()
