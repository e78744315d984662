from bwclab.cli import main

main()
