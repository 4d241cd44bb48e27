"""Admin tooling: checks, transcript tests, the terminal simulator, flow diagrams, HSDS import/export."""
