"""The application's dialogs: new from a template, view code, export, sanity checks, crash recovery, about."""
from .about import AboutDialog
from .code_viewer import CodeViewer
from .export_dialog import ExportDialog
from .recovery import RecoveryDialog
from .sanity_dialog import SanityDialog
from .template_gallery import EMPTY, TemplateGallery

__all__ = ["AboutDialog", "CodeViewer", "ExportDialog", "RecoveryDialog", "SanityDialog", "TemplateGallery", "EMPTY"]
