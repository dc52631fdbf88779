"""`python -m linkwatch`: the same command line as the `linkwatch` script."""

from linkwatch.cli import main

if __name__ == "__main__":
    main()
