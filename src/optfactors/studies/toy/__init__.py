"""toy: the lecture's 2-D error surfaces: learning rates, Adagrad, RMSProp/Adam, warm-up, momentum, MSE vs
cross-entropy."""
