"""``python -m usalama_desktop`` opens the desktop app."""

from usalama_desktop.ui.app import main

raise SystemExit(main())
