"""keskar_gap: Keskar et al. Table 2: small vs large batch, train vs test accuracy."""
