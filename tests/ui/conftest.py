"""Shared fixtures for the interface tests: an offscreen Qt, a document and the editor widgets."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPointF  # noqa: E402

from netbuilder.core import templates  # noqa: E402
from netbuilder.core.graph import Graph  # noqa: E402
from netbuilder.core.project import Project  # noqa: E402


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path, monkeypatch):
    """Keep QSettings written by any widget out of the user's real configuration."""
    from PySide6.QtCore import QSettings
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp_path))
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)


@pytest.fixture
def document(qtbot):
    from netbuilder.ui.document import Document
    doc = Document(templates.build("lenet5"))
    yield doc
    doc.detach()


@pytest.fixture
def empty_document(qtbot):
    from netbuilder.ui.document import Document
    doc = Document(Project(name="Empty", graph=Graph()))
    yield doc
    doc.detach()


@pytest.fixture
def editor(qtbot, document):
    from netbuilder.ui.editor import EditorWidget
    widget = EditorWidget(document)
    widget.resize(900, 700)
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


@pytest.fixture
def inspector(qtbot, document):
    from netbuilder.ui.editor import InspectorWidget
    widget = InspectorWidget(document)
    widget.resize(340, 800)
    qtbot.addWidget(widget)
    widget.show()
    return widget


@pytest.fixture
def node_id():
    """node_id(document, name) -> the id of the node with that name."""
    return lambda document, name: document.graph.node_by_name(name).id


@pytest.fixture
def port_pos():
    """port_pos(editor, node name, "in" | "out") -> where that port appears in the viewport."""
    def where(editor, node_name, direction):
        item = editor.scene.node_items[editor.document.graph.node_by_name(node_name).id]
        port = item.output_port if direction == "out" else item.input_port
        return editor.view.mapFromScene(port.mapToScene(QPointF(0, 0)))
    return where
