"""The ``branchwatch`` command line: one module per command group."""
