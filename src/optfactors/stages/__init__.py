"""Stages: what one run does (train a network, or an analysis), each an `optfactors.run.lifecycle.Stage`."""
