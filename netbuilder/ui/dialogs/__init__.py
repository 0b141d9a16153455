"""The application's dialogs: new from a template, view code, export, sanity checks, hyperparameter search, crash recovery, about."""
from .about import AboutDialog
from .code_viewer import CodeViewer
from .export_dialog import ExportDialog
from .recovery import RecoveryDialog
from .sanity_dialog import SanityDialog
from .search_dialog import SearchDialog
from .template_gallery import EMPTY, TemplateGallery

__all__ = ["AboutDialog", "CodeViewer", "ExportDialog", "RecoveryDialog", "SanityDialog", "SearchDialog", "TemplateGallery", "EMPTY"]
