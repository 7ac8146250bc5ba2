"""``python -m api.cli`` runs the ``branchwatch`` command line."""

from api.cli.main import main

main()
