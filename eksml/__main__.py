from eksml.cli import main

main()
