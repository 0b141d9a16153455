"""The application's dialogs: new from a template, view code, crash recovery, about."""
from .about import AboutDialog
from .code_viewer import CodeViewer
from .recovery import RecoveryDialog
from .template_gallery import EMPTY, TemplateGallery

__all__ = ["AboutDialog", "CodeViewer", "RecoveryDialog", "TemplateGallery", "EMPTY"]
