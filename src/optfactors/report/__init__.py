"""From records to REPORT.md: runs collected into tables, summaries shared by claims and figures, claims,
figures."""
