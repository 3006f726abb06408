from docrelay.cli import main

main()
