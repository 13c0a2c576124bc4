"""`python -m ribao`."""

from ribao.cli import main

main()
