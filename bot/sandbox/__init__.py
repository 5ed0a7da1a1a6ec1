"""`python -m bot.sandbox`: the desk with a local Telegram in the browser (see `sandbox/`)."""
