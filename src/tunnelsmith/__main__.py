"""python -m tunnelsmith"""

import sys

from tunnelsmith.cli import main

sys.exit(main())
