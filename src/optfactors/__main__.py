"""``python -m optfactors``: the same as the console script ``optfactors``."""

from optfactors.cli import main

if __name__ == "__main__":
    main()
