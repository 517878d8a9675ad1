"""Summaries of an experiment's tables that its claims and its figures both read (one definition each)."""
