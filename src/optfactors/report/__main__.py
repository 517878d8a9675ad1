"""``python -m optfactors.report``: check every claim and write REPORT.md (`optfactors.report.markdown`)."""

from optfactors.report.markdown import main

if __name__ == "__main__":
    main()
