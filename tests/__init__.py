"""The test suite.

Test runs keep bytecode caches (in the ignored `__pycache__` folders) even where
PYTHONDONTWRITEBYTECODE is set, as in the development container and the production image:
without them every test process compiles the app and rewrites the tests' asserts anew, about
4 s of each xdist worker's start (measured: collection 8 s of CPU without, 4 s with). This
package is imported before the conftest and the tests, so everything they import is cached.
"""

import sys

sys.dont_write_bytecode = False
