"""The network editor: canvas, layer palette, inspector and issues list."""
from .editor_widget import EditorWidget
from .inspector import InspectorWidget
from .issues import IssuesWidget
from .palette import PaletteWidget
from .view import LAYER_MIME_TYPE

__all__ = ["EditorWidget", "InspectorWidget", "IssuesWidget", "PaletteWidget", "LAYER_MIME_TYPE"]
