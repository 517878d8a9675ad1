"""loss_mse_vs_ce: cross-entropy trains faster than MSE with SGD; with Adam the gap shrinks."""
