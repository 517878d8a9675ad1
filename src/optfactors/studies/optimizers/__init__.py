"""optimizers: SGD, momentum, Adagrad, RMSProp, Adam with constant and cosine schedules."""
