"""The inspector: the selected layer's name, help, inferred numbers and parameters, and its
per-node training overrides. Every change is one undoable command; the page follows the model,
so undo, redo and edits elsewhere show here at once.
"""
from __future__ import annotations

import copy
from html import escape

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QFont, QPalette
from PySide6.QtWidgets import (QCheckBox, QFormLayout, QFrame, QLabel, QLineEdit, QScrollArea, QVBoxLayout,
                               QWidget)

from ...core.graph import is_valid_name
from ...core.params import ParamSpec
from ...core.settings import INIT_HELP, INIT_SPECS
from .commands import RenameNodeCommand, SetOverridesCommand, SetParamCommand
from .labels import count, shape_text
from ..spin_boxes import NumberSpinBox
from .param_form import ParamForm
from .style import ERROR_COLOR, WARNING_COLOR, category_color

_L2_SPEC = ParamSpec("l2_multiplier", "float", 1.0, "L2 multiplier", minimum=0.0, maximum=1000.0, unit="×")


def _section(title: str, parent) -> QLabel:
    label = QLabel(title.upper(), parent)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 0.85)
    font.setLetterSpacing(QFont.SpacingType.PercentageSpacing, 108)
    label.setFont(font)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setContentsMargins(0, 10, 0, 2)
    return label


def _muted(text: str, parent) -> QLabel:
    label = QLabel(text, parent)
    label.setWordWrap(True)
    label.setForegroundRole(QPalette.ColorRole.PlaceholderText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


class NodePage(QWidget):
    """Everything about one node; rebuilt only when another node is selected."""

    def __init__(self, document, node_id: str, parent=None):
        super().__init__(parent)
        self.document = document
        self.node_id = node_id
        node = document.graph.nodes[node_id]
        spec = node.spec
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        layout.setSpacing(4)

        color = category_color(spec.category).name()
        self.type_label = QLabel(f"<span style='color:{color}'>■</span>&nbsp;<b>{escape(spec.type)}</b>"
                                 f"&nbsp;·&nbsp;{escape(spec.category)}", self)
        layout.addWidget(self.type_label)
        self.name_edit = QLineEdit(node.name, self)
        name_font = self.name_edit.font()
        name_font.setPointSizeF(name_font.pointSizeF() * 1.25)
        name_font.setBold(True)
        self.name_edit.setFont(name_font)
        self.name_edit.setToolTip("The layer's name: letters, digits and _, unique in the network")
        self.name_edit.editingFinished.connect(self._rename)
        layout.addWidget(self.name_edit)
        summary = QLabel(spec.summary, self)
        summary.setWordWrap(True)
        layout.addWidget(summary)
        self.help_label = _muted(spec.help, self)
        layout.addWidget(self.help_label)

        layout.addWidget(_section("Inferred", self))
        self.facts = QFormLayout()
        self.facts.setContentsMargins(0, 0, 0, 0)
        self.facts.setVerticalSpacing(2)
        self.fact_labels = {}
        for key, title in (("output", "Output"), ("params", "Parameters"), ("macs", "Multiply-adds"),
                           ("rf", "Receptive field")):
            value = QLabel("—", self)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.facts.addRow(_muted(title, self), value)
            self.fact_labels[key] = value
        layout.addLayout(self.facts)
        self.problems = QLabel(self)
        self.problems.setWordWrap(True)
        self.problems.setTextFormat(Qt.TextFormat.RichText)
        self.problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.problems)

        layout.addWidget(_section("Parameters", self))
        self.form = ParamForm(spec.params, self)
        self.form.edited.connect(self._set_param)
        layout.addWidget(self.form)
        if not spec.params:
            layout.addWidget(_muted("This layer has no settings.", self))

        self.overrides = QWidget(self)
        overrides_layout = QVBoxLayout(self.overrides)
        overrides_layout.setContentsMargins(0, 0, 0, 0)
        overrides_layout.setSpacing(4)
        overrides_layout.addWidget(_section("Training overrides", self.overrides))
        self.custom_init = QCheckBox("Own initialization", self.overrides)
        self.custom_init.setToolTip("Initialise this layer's weights its own way instead of the project's default")
        self.custom_init.toggled.connect(self._toggle_custom_init)
        overrides_layout.addWidget(self.custom_init)
        self.init_form = ParamForm(INIT_SPECS, self.overrides)
        self.init_form.edited.connect(self._set_init_value)
        overrides_layout.addWidget(self.init_form)
        self.init_help = _muted("", self.overrides)
        overrides_layout.addWidget(self.init_help)
        l2_row = QFormLayout()
        l2_row.setContentsMargins(0, 4, 0, 0)
        self.l2_spin = NumberSpinBox(_L2_SPEC, self.overrides)
        self.l2_spin.setSingleStep(0.1)
        self.l2_spin.setToolTip("Scales the project's L2 / L1 penalty on this layer's weights (0 = not penalised)")
        self.l2_spin.valueChanged.connect(self._set_l2)
        l2_row.addRow(QLabel("L2 multiplier", self.overrides), self.l2_spin)
        overrides_layout.addLayout(l2_row)
        layout.addWidget(self.overrides)
        layout.addStretch(1)

        self.refresh_values()
        self.refresh_overrides()
        self.set_analysis(document.analysis)

    @property
    def node(self):
        return self.document.graph.nodes.get(self.node_id)

    # ------------------------------------------------------------------ from the model
    def refresh_values(self) -> None:
        node = self.node
        if node is None:
            return
        info = self.document.analysis.nodes.get(self.node_id)
        self.form.set_values(node.params, info.resolved if info else None)
        if self.name_edit.text() != node.name and not self.name_edit.hasFocus():
            self.name_edit.setText(node.name)

    def refresh_name(self) -> None:
        if self.node is not None:
            self.name_edit.setText(self.node.name)

    def refresh_overrides(self) -> None:
        node = self.node
        if node is None:
            return
        custom = node.init is not None
        self.custom_init.blockSignals(True)
        self.custom_init.setChecked(custom)
        self.custom_init.blockSignals(False)
        self.init_form.setVisible(custom)
        self.init_help.setVisible(custom)
        if custom:
            self.init_form.set_values(node.init)
            self.init_help.setText(INIT_HELP.get(node.init.get("weight"), ""))
        self.l2_spin.blockSignals(True)
        self.l2_spin.setValue(node.l2_multiplier)
        self.l2_spin.blockSignals(False)

    def set_analysis(self, analysis) -> None:
        info = analysis.nodes.get(self.node_id)
        if info is None:
            return
        known = info.output_shape is not None
        f = self.fact_labels
        f["output"].setText(f"{shape_text(info.output_shape)}" + (f"  ({info.activations:,} values)" if known else ""))
        if known:
            params = f"{info.trainable:,} trainable"
            if info.non_trainable:
                params += f" + {info.non_trainable:,} fixed"
            f["params"].setText(params)
            f["macs"].setText(f"{count(info.macs)}" if info.macs else "0")
            f["rf"].setText(info.receptive_field.describe() if info.receptive_field else "—")
        else:
            for key in ("params", "macs", "rf"):
                f[key].setText("—")
        lines = [f"<p style='color:{ERROR_COLOR.name()}'>✖ {escape(m)}</p>" for m in info.errors]
        lines += [f"<p style='color:{WARNING_COLOR.darker(115).name()}'>⚠ {escape(m)}</p>" for m in info.warnings]
        self.problems.setText("".join(lines))
        self.problems.setVisible(bool(lines))
        # Overrides only mean something for layers that have weights.
        self.overrides.setVisible(not known or info.trainable > 0)
        self.refresh_values()

    # ------------------------------------------------------------------ to the model
    def _push(self, command) -> None:
        self.document.undo_stack.push(command)

    def _set_param(self, key: str, value) -> None:
        node = self.node
        if node is None or node.params.get(key) == value:
            return
        try:
            self._push(SetParamCommand(self.document, self.node_id, key, value))
        except ValueError as exc:  # GraphError: the value does not fit the parameter
            self.document.message.emit(str(exc))
            self.refresh_values()

    def _rename(self) -> None:
        node = self.node
        name = self.name_edit.text().strip()
        if node is None or name == node.name:
            return
        other = self.document.graph.node_by_name(name)
        if not is_valid_name(name):
            self.document.message.emit(f"{name!r} is not a valid name: use letters, digits and _, "
                                       f"not starting with a digit")
        elif other is not None and other.id != self.node_id:
            self.document.message.emit(f"The name {name!r} is already used by another layer")
        else:
            self._push(RenameNodeCommand(self.document, self.node_id, name))
            return
        self.name_edit.setText(node.name)

    def _toggle_custom_init(self, on: bool) -> None:
        node = self.node
        if node is None:
            return
        # A new override starts from the project's own initialization, the natural thing to adjust.
        init = copy.deepcopy(self.document.project.settings["initialization"]) if on else None
        self._push(SetOverridesCommand(self.document, self.node_id, init, node.l2_multiplier))

    def _set_init_value(self, key: str, value) -> None:
        node = self.node
        if node is None or node.init is None:
            return
        self._push(SetOverridesCommand(self.document, self.node_id, {**node.init, key: value}, node.l2_multiplier))

    def _set_l2(self, value: float) -> None:
        node = self.node
        if node is not None and value != node.l2_multiplier:
            self._push(SetOverridesCommand(self.document, self.node_id, copy.deepcopy(node.init), value))


class SummaryPage(QWidget):
    """Shown when no single layer is selected: the network's totals, or the selection's."""

    def __init__(self, document, node_ids: list[str], parent=None):
        super().__init__(parent)
        self.document = document
        self.node_ids = node_ids
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 10)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.title.setFont(font)
        layout.addWidget(self.title)
        self.body = QLabel(self)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        layout.addWidget(self.body)
        layout.addWidget(_muted("Select a single layer to edit its parameters." if node_ids else
                                "Select a layer to see and edit its parameters, or drag one in from the palette.",
                                self))
        layout.addStretch(1)
        self.set_analysis(document.analysis)

    def set_analysis(self, analysis) -> None:
        infos = analysis.nodes
        if self.node_ids:
            self.title.setText(f"{len(self.node_ids)} layers selected")
            params = sum(infos[n].params for n in self.node_ids if n in infos)
            macs = sum(infos[n].macs for n in self.node_ids if n in infos)
            self.body.setText(f"{params:,} parameters<br>{count(macs)} multiply-adds per sample")
            return
        self.title.setText(self.document.project.name)
        errors, warnings = len(analysis.errors), len(analysis.warnings)
        state = ("ready to train" if not errors else
                 f"<span style='color:{ERROR_COLOR.name()}'>{errors} error{'s' if errors != 1 else ''}</span>")
        if warnings:
            state += f", {warnings} warning{'s' if warnings != 1 else ''}"
        self.body.setText(f"{len(self.document.graph.nodes)} layers · {state}<br>"
                          f"{analysis.total_params:,} parameters ({analysis.trainable_params:,} trainable)<br>"
                          f"{count(analysis.total_macs)} multiply-adds per sample<br>"
                          f"{count(analysis.total_activations)} activations per sample")


class InspectorWidget(QWidget):
    def __init__(self, document, parent=None):
        super().__init__(parent)
        self.document = None
        self.page: NodePage | SummaryPage | None = None
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll)
        self.set_document(document)

    def sizeHint(self):
        return QSize(330, 640)

    def _graph_handlers(self):
        return (("param_changed", self._on_param_changed), ("node_renamed", self._on_renamed),
                ("override_changed", self._on_override_changed))

    def set_document(self, document) -> None:
        old = self.document
        if old is not None:
            for name, handler in self._graph_handlers():
                getattr(old.graph.events, name).unsubscribe(handler)
            old.selection_changed.disconnect(self._show_selection)
            old.analysis_changed.disconnect(self._on_analysis)
            old.project_renamed.disconnect(self._on_project_renamed)
        self.document = document
        if document is None:
            self._set_page(None)
            return
        for name, handler in self._graph_handlers():
            getattr(document.graph.events, name).subscribe(handler)
        document.selection_changed.connect(self._show_selection)
        document.analysis_changed.connect(self._on_analysis)
        document.project_renamed.connect(self._on_project_renamed)
        self._show_selection(document.selected_ids)

    def _set_page(self, page) -> None:
        old = self.scroll.takeWidget()
        if old is not None:
            old.deleteLater()
        self.page = page
        if page is not None:
            self.scroll.setWidget(page)

    def _show_selection(self, node_ids: list) -> None:
        if len(node_ids) == 1:
            if isinstance(self.page, NodePage) and self.page.node_id == node_ids[0]:
                return
            self._set_page(NodePage(self.document, node_ids[0]))
        else:
            self._set_page(SummaryPage(self.document, list(node_ids)))

    def _shown(self, node) -> bool:
        return isinstance(self.page, NodePage) and self.page.node_id == node.id

    def _on_param_changed(self, node, key, old, new) -> None:
        if self._shown(node):
            self.page.refresh_values()

    def _on_renamed(self, node, old, new) -> None:
        if self._shown(node):
            self.page.refresh_name()

    def _on_override_changed(self, node) -> None:
        if self._shown(node):
            self.page.refresh_overrides()

    def _on_analysis(self, analysis) -> None:
        if self.page is not None:
            self.page.set_analysis(analysis)

    def _on_project_renamed(self, name) -> None:
        if isinstance(self.page, SummaryPage):
            self.page.set_analysis(self.document.analysis)
