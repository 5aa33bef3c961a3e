"""The Qt desktop app: a thin layer over the services. The only package that imports Qt (through ui.qt)."""
