"""cache-api: an in-memory object cache served over HTTP.

The package is laid out one concept per module, with imports pointing one way::

    server  ->  http  ->  api  ->  store  ->  policies
                                   store  ->  expiry

``types`` names the few shared types; ``config`` parses the settings once into
one typed object that ``server`` passes down.
"""

__version__ = "1.0.0"
