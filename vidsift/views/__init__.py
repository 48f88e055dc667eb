"""The page's views, one module each (the page, ``vidsift/page.py``, holds the sidebar and picks one)."""
