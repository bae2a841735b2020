"""`python -m tldr.cli`: the `tldrf` command."""

import sys

from tldr.cli import main

sys.exit(main())
