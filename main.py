"""Start AffectTrace: `python main.py [PROJECT|VIDEO] [--screenshot OUT.png]`."""
import sys

from app.launch import main

if __name__ == "__main__":
    sys.exit(main())
