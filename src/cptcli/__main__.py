from cptcli.entry import main

main()
