"""``python -m optfactors.diagnose``: the same as ``optfactors diagnose``."""

import sys

from optfactors.diagnose import main

if __name__ == "__main__":
    sys.exit(main())
