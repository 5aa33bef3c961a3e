"""Entry script for the frozen ``usalama`` command (PyInstaller needs a file, not a function)."""

from usalama_desktop.cli import main

raise SystemExit(main())
