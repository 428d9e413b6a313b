"""``python -m cache_api``: run the server."""

import sys

from cache_api.server import main

sys.exit(main())
