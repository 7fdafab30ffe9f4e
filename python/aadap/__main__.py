import sys

from aadap.cli import main

sys.exit(main())
