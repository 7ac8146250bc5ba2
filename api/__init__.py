"""Configuration, store, batch runs, CLI and the review service of branchwatch."""
