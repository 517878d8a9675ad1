"""depth_budget: ResNet-20 and -56 of the depth study trained longer."""
