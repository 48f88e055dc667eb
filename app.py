"""The Streamlit page: ``streamlit run app.py``, or ``vidsift app`` (which also sets the workspace).

The page itself is ``vidsift/page.py``, installed with the package; this script runs it afresh on
every rerun, as Streamlit expects of a script.
"""

import runpy

runpy.run_module("vidsift.page", run_name="__main__")
