"""``python -m vtract`` runs the command line."""

from vtract.cli import main

main()
