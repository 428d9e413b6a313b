"""Start cache-api with ``python wsgi.py``.

The file name is kept for compatibility: the original Flask service was started
this way, and its users' scripts and Dockerfiles still say so. It is not a WSGI
application; the server is asyncio on uvloop with an httptools protocol.
"""

import sys

from cache_api.server import main

if __name__ == "__main__":
    sys.exit(main())
