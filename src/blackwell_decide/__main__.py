import sys

from blackwell_decide.cli import main

sys.exit(main())
