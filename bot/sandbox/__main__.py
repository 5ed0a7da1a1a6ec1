"""`python -m bot.sandbox`: the local sandbox; `make run` starts it when BOT_TOKEN is not set."""

import sys

from sandbox.main import main

if __name__ == "__main__":
    sys.exit(main())
