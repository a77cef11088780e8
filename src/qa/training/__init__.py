"""`qa train`: reproduce every committed model from data in the repository, with a fixed seed."""
