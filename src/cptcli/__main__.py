"""`python -m cptcli`: the console entry point (cptcli.entry), as the installed script runs it."""

from cptcli.entry import main

main()
