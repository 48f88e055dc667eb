"""Training methods, one module per method; ``training.registry`` maps names to instances."""
