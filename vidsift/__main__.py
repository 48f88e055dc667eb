from vidsift.cli import main

main()
