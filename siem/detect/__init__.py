"""Detection: Sigma rules, correlation rules, the engine that runs them on the writer thread."""
