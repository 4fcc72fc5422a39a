from cptcli.cli import main

main()
