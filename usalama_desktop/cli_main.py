"""Entry script for the frozen ``usalama`` command (PyInstaller needs a file, not a function)."""

if __name__ == "__main__":  # not when a helper process (sync/pipeline.py) imports this module
    import multiprocessing

    multiprocessing.freeze_support()  # the frozen command starts its helper processes through this executable
    from usalama_desktop.cli import main

    raise SystemExit(main())
