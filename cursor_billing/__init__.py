"""cursor-billing: who spends your Cursor on-demand money, on which models, and is it growing?"""

__version__ = "0.1.0"
