"""Analysis of trained models: pure functions of ``(model, loss_fn, batches)``, no Lightning, no I/O.

- :mod:`~optfactors.analysis.hessian` — the loss as a function of the flat parameter vector: Hessian-vector
  products, top eigenvalues (Lanczos), Hutchinson trace, spectral density, the exact Hessian.
- :mod:`~optfactors.analysis.sharpness` — Keskar et al.'s ε-sharpness (Metric 2.1).
- :mod:`~optfactors.analysis.landscape` — interpolation between two solutions and filter-normalised random
  perturbations (Li et al.).
- :mod:`~optfactors.analysis.noise_scale` — McCandlish et al.'s simple gradient noise scale.

Conventions shared by every function: ``batches`` is an iterable of ``(x, y)`` tensor pairs (read once and
kept as a list, so a generator is fine); ``loss_fn(model(x), y)`` returns the mean loss of the batch, and
means over several batches are weighted by batch size. The model is evaluated in eval mode (BatchNorm
uses its running statistics, dropout is off) and left exactly as it was found: parameters, buffers and
each module's train/eval flag.
"""
