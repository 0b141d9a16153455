"""The application's dialogs: new from a template, view code, export, sanity checks, hyperparameter search, the initialization explorer, crash recovery, about."""
from .about import AboutDialog
from .code_viewer import CodeViewer
from .export_dialog import ExportDialog
from .init_explorer import InitializationExplorer
from .recovery import RecoveryDialog
from .sanity_dialog import SanityDialog
from .search_dialog import SearchDialog
from .template_gallery import EMPTY, TemplateGallery

__all__ = ["AboutDialog", "CodeViewer", "ExportDialog", "InitializationExplorer", "RecoveryDialog", "SanityDialog", "SearchDialog", "TemplateGallery", "EMPTY"]
