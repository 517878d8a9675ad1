"""saddle_escape: leaving a saddle along a negative-eigenvalue direction."""
