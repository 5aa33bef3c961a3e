"""``python -m usalama_desktop`` opens the desktop app."""

if __name__ == "__main__":  # not when a helper process (sync/pipeline.py) imports this module
    import multiprocessing

    multiprocessing.freeze_support()  # the frozen app starts its helper processes through this executable
    from usalama_desktop.ui.app import main

    raise SystemExit(main())
