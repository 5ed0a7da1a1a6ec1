"""The local sandbox: a Bot API emulator and a web page showing the desk without Telegram."""
