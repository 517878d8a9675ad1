"""depth: He et al.: the deeper plain network trains worse, the residual one does not."""
