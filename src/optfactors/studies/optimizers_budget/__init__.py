"""optimizers_budget: the optimizers study's CIFAR-10 setting trained 3x as long."""
