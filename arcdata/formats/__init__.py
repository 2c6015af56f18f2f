"""Other on-disk layouts a dataset can be exported to or imported from.

* :mod:`arcdata.formats.hrm`: the HRM reference's npy layout (``export_hrm``, ``import_hrm``).
"""

from arcdata.formats.hrm import export_hrm, import_hrm

__all__ = ["export_hrm", "import_hrm"]
