"""The application's dialogs: new from a template, view code, export, crash recovery, about."""
from .about import AboutDialog
from .code_viewer import CodeViewer
from .export_dialog import ExportDialog
from .recovery import RecoveryDialog
from .template_gallery import EMPTY, TemplateGallery

__all__ = ["AboutDialog", "CodeViewer", "ExportDialog", "RecoveryDialog", "TemplateGallery", "EMPTY"]
