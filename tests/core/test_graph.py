"""The graph model: edits emit events so views can follow; validate() names the node for each problem."""
import pytest

from netbuilder.core.events import Event
from netbuilder.core.graph import Edge, Graph, GraphError, is_valid_name, name_problem
from netbuilder.core.params import ValidationError
from netbuilder.core.templates import Chain

IMAGE = dict(kind="image", channels=1, height=28, width=28)


class Recorder:
    """Subscribes to every graph event and records (event name, args)."""

    def __init__(self, graph):
        self.calls = []
        for name, event in vars(graph.events).items():
            event.subscribe(lambda *args, name=name: self.calls.append((name, args)))

    def names(self):
        return [name for name, _ in self.calls]

    def clear(self):
        self.calls.clear()


def small_graph():
    graph = Graph()
    c = Chain(graph)
    ids = {"input": c.add("Input", "input", **IMAGE),
           "flat": c.add("Flatten", "flat"),
           "fc": c.add("Linear", "fc", out_features=10),
           "output": c.add("Output", "output")}
    return graph, ids


def errors_of(graph):
    return [p for p in graph.validate() if p.severity == "error"]


# --------------------------------------------------------------------------- events
def test_event_subscribe_unsubscribe():
    event, seen = Event("e"), []
    handler = seen.append
    event.subscribe(handler)
    event.subscribe(handler)  # subscribing twice still calls once
    event.emit(1)
    event.unsubscribe(handler)
    event.unsubscribe(handler)  # harmless
    event.emit(2)
    assert seen == [1]


def test_handler_may_unsubscribe_itself_during_emit():
    event, seen = Event("e"), []

    def once(value):
        seen.append(value)
        event.unsubscribe(once)
    event.subscribe(once)
    event.subscribe(lambda v: seen.append(-v))
    event.emit(1)
    event.emit(2)
    assert seen == [1, -1, -2]


def test_add_node_emits_node_added_then_structure_changed():
    graph = Graph()
    rec = Recorder(graph)
    node = graph.add_node("Linear", "fc", {"out_features": 3})
    assert rec.calls == [("node_added", (node,)), ("structure_changed", ())]


def test_connect_and_disconnect_emit():
    graph, ids = small_graph()
    rec = Recorder(graph)
    edge = graph.incoming(ids["fc"])[0]
    graph.disconnect(edge)
    assert rec.calls == [("edge_disconnected", (edge,)), ("structure_changed", ())]
    rec.clear()
    new = graph.connect(ids["flat"], ids["fc"])
    assert new == edge
    assert rec.calls == [("edge_connected", (edge,)), ("structure_changed", ())]


def test_remove_node_emits_for_each_edge_then_the_node():
    graph, ids = small_graph()
    rec = Recorder(graph)
    removed = graph.remove_node(ids["fc"])
    assert rec.names() == ["edge_disconnected", "edge_disconnected", "node_removed", "structure_changed"]
    assert {e.dst for (name, (e,)) in rec.calls[:2]} | {e.src for (name, (e,)) in rec.calls[:2]} >= {ids["fc"]}
    assert rec.calls[2] == ("node_removed", (removed,))
    assert ids["fc"] not in graph.nodes
    assert all(ids["fc"] not in (e.src, e.dst) for e in graph.edges)


def test_set_param_emits_with_old_and_new_value():
    graph, ids = small_graph()
    rec = Recorder(graph)
    graph.set_param(ids["fc"], "out_features", 5)
    node = graph.nodes[ids["fc"]]
    assert rec.calls == [("param_changed", (node, "out_features", 10, 5)), ("structure_changed", ())]
    rec.clear()
    graph.set_param(ids["fc"], "out_features", 5)  # no change, no event
    assert rec.calls == []


def test_set_param_coerces_and_rejects():
    graph = Graph()
    conv = graph.add_node("Conv2d", "conv")
    graph.set_param(conv.id, "kernel_size", 5)
    assert conv.params["kernel_size"] == [5, 5]
    graph.set_param(conv.id, "in_channels", "auto")
    rec = Recorder(graph)
    with pytest.raises(GraphError) as err:
        graph.set_param(conv.id, "stride", 0)
    assert err.value.node_id == conv.id and "conv.stride" in str(err.value) and "minimum" in str(err.value)
    with pytest.raises(GraphError, match="no parameter 'units'"):
        graph.set_param(conv.id, "units", 3)
    with pytest.raises(GraphError, match="integer or 'auto'"):
        graph.set_param(conv.id, "in_channels", "three")
    assert rec.calls == []
    assert conv.params["stride"] == [1, 1]


def test_rename_move_and_overrides_emit():
    graph, ids = small_graph()
    rec = Recorder(graph)
    node = graph.nodes[ids["fc"]]
    graph.rename(ids["fc"], "classifier")
    graph.move(ids["fc"], (10, 20))
    graph.set_overrides(ids["fc"], init={"weight": "kaiming-normal"}, l2_multiplier=0.5)
    assert rec.calls[0] == ("node_renamed", (node, "fc", "classifier"))
    assert rec.names() == ["node_renamed", "structure_changed", "node_moved", "override_changed"]
    assert node.position == (10.0, 20.0)
    assert node.init["weight"] == "kaiming-normal" and node.init["mode"] == "fan_in"
    assert node.l2_multiplier == 0.5
    rec.clear()
    graph.rename(ids["fc"], "classifier")  # same name: nothing happens
    assert rec.calls == []
    for bad in (-1, float("nan"), float("inf")):
        with pytest.raises(GraphError, match="L2 multiplier"):
            graph.set_overrides(ids["fc"], l2_multiplier=bad)
    with pytest.raises(GraphError, match="L2 multiplier"):
        graph.add_node("ReLU", "r", l2_multiplier=-2)
    with pytest.raises(ValidationError) as err:
        graph.add_node("ReLU", "r", init={"weight": "he"})
    assert err.value.path == "r.init.weight"
    with pytest.raises(ValidationError) as err:
        graph.set_overrides(ids["fc"], init={"weight": "magic"})
    assert err.value.path == "classifier.init.weight"


def test_rename_refuses_bad_and_duplicate_names():
    graph, ids = small_graph()
    with pytest.raises(GraphError, match="already used"):
        graph.rename(ids["fc"], "flat")
    for bad in ["1fc", "my layer", "class", "forward", "x", "_hidden", "__init__", "fc\n", "", "children",
                "parameters", "training", "netbuilder_source"]:
        with pytest.raises(GraphError, match="not a valid name") as err:
            graph.rename(ids["fc"], bad)
        assert err.value.node_id == ids["fc"]
    assert graph.nodes[ids["fc"]].name == "fc"


@pytest.mark.parametrize("name", ["fc", "conv1", "Layer_2", "block3_conv1", "input", "output", "relu"])
def test_valid_names(name):
    assert is_valid_name(name) and name_problem(name) is None


def test_name_problems_explain_themselves():
    assert "starting with a letter" in name_problem("1a")
    assert "keyword" in name_problem("lambda")
    assert "reserved" in name_problem("eval")


def test_clear_removes_everything_with_events():
    graph, ids = small_graph()
    rec = Recorder(graph)
    graph.clear()
    assert not graph.nodes and not graph.edges
    assert rec.names().count("node_removed") == 4
    assert graph.add_node("ReLU").id == "n1"


def test_add_node_assigns_unique_ids_and_names():
    graph = Graph()
    a = graph.add_node("ReLU")
    b = graph.add_node("ReLU")
    assert (a.id, a.name) == ("n1", "relu1") and (b.id, b.name) == ("n2", "relu2")
    graph.remove_node(a.id)
    c = graph.add_node("ReLU")
    assert c.id not in (b.id,) and c.name == "relu1"
    with pytest.raises(GraphError, match="already exists"):
        graph.add_node("ReLU", node_id=b.id)
    with pytest.raises(KeyError, match="Conv3d"):
        graph.add_node("Conv3d")


def test_connect_refuses_duplicates_and_unknown_nodes():
    graph, ids = small_graph()
    with pytest.raises(GraphError, match="already connected"):
        graph.connect(ids["flat"], ids["fc"])
    with pytest.raises(GraphError, match="no node"):
        graph.connect("nope", ids["fc"])
    with pytest.raises(GraphError):
        graph.disconnect(Edge(ids["input"], ids["output"]))


def test_merge_ports_are_numbered_in_order():
    graph = Graph()
    a, b, c = (graph.add_node("ReLU") for _ in range(3))
    cat = graph.add_node("Concatenate")
    graph.connect(b.id, cat.id)
    graph.connect(a.id, cat.id)
    graph.connect(c.id, cat.id, port=7)
    assert [(e.src, e.port) for e in graph.incoming(cat.id)] == [(b.id, 0), (a.id, 1), (c.id, 7)]
    assert graph.predecessors(cat.id) == [b.id, a.id, c.id]
    assert graph.successors(a.id) == [cat.id]


def test_adjacency_follows_direct_edits_of_the_edge_list():
    graph, ids = small_graph()
    graph.incoming(ids["fc"])  # build the cache
    graph.edges.append(Edge(ids["input"], ids["fc"], 0))
    assert len(graph.incoming(ids["fc"])) == 2


# --------------------------------------------------------------------------- can_connect
def test_can_connect_reasons():
    graph, ids = small_graph()
    relu = graph.add_node("ReLU", "relu").id
    ok, why = graph.can_connect(ids["fc"], ids["fc"])
    assert not ok and "itself" in why
    ok, why = graph.can_connect(ids["output"], relu)
    assert not ok and "no output" in why
    ok, why = graph.can_connect(relu, ids["input"])
    assert not ok and "takes no input" in why
    ok, why = graph.can_connect(ids["input"], ids["flat"])
    assert not ok and "already connected" in why
    ok, why = graph.can_connect(relu, ids["fc"])
    assert not ok and "single input" in why and "flat" in why
    ok, why = graph.can_connect(ids["fc"], relu)
    assert ok and why == ""
    graph.connect(ids["fc"], relu)
    ok, why = graph.can_connect(relu, ids["flat"])
    assert not ok and "single input" in why
    graph.disconnect(graph.incoming(ids["flat"])[0])
    ok, why = graph.can_connect(relu, ids["flat"])
    assert not ok and "cycle" in why
    assert graph.can_connect("missing", relu) == (False, "unknown node")


# --------------------------------------------------------------------------- validate
def test_valid_graph_has_no_problems():
    graph, _ = small_graph()
    assert graph.validate() == []


def test_missing_input_and_output():
    graph = Graph()
    graph.add_node("ReLU", "relu")
    messages = [p.message for p in errors_of(graph)]
    assert any("no Input node" in m for m in messages)
    assert any("no Output node" in m for m in messages)


def test_more_than_one_input_or_output():
    graph, ids = small_graph()
    extra_in = graph.add_node("Input", "input2").id
    extra_out = graph.add_node("Output", "output2").id
    graph.connect(ids["fc"], extra_out)
    errors = {p.node_id: p.message for p in errors_of(graph)}
    assert "only one Input" in errors[extra_in]
    assert "only one Output" in errors[extra_out]


def test_unconnected_input_names_the_node():
    graph, ids = small_graph()
    graph.disconnect(graph.incoming(ids["fc"])[0])
    errors = errors_of(graph)
    fc_errors = [p.message for p in errors if p.node_id == ids["fc"]]
    assert fc_errors == ["fc: its input is not connected"]
    # Downstream nodes are cut off: their error names the node to connect.
    out_errors = [p.message for p in errors if p.node_id == ids["output"]]
    assert out_errors == ["output is not reachable from the Input node; connect the input of fc"]
    # input and flat now lead nowhere: warnings, not errors.
    warnings = [p for p in graph.validate() if p.severity == "warning"]
    assert [p.node_id for p in warnings] == [ids["input"], ids["flat"]]
    assert "not used" in warnings[1].message


def test_two_edges_into_a_single_input_port():
    graph, ids = small_graph()
    graph.connect(ids["input"], ids["fc"])
    problem, = [p for p in errors_of(graph) if p.node_id == ids["fc"]]
    assert "takes one input but receives 2" in problem.message
    assert "flat" in problem.message and "input" in problem.message and "Add or Concatenate" in problem.message


def test_merge_with_a_single_input():
    graph, ids = small_graph()
    add = graph.add_node("Add", "add").id
    graph.disconnect(graph.incoming(ids["fc"])[0])
    graph.connect(ids["flat"], add)
    graph.connect(add, ids["fc"])
    problem, = errors_of(graph)
    assert problem.node_id == add and "connect at least two" in problem.message


def test_cycle_names_its_nodes():
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", **IMAGE)
    first = c.add("Add", "first")
    second = c.add("ReLU", "second")
    graph.connect(second, first)
    c.add("Output", "output", loss="mse")
    with pytest.raises(GraphError, match="cycle") as err:
        graph.topological_order()
    assert err.value.node_id in (first, second)
    assert "first" in str(err.value) and "second" in str(err.value)
    cycle = [p for p in errors_of(graph) if "cycle" in p.message]
    assert len(cycle) == 1 and cycle[0].node_id in (first, second)


def test_self_loop_is_a_cycle():
    graph, ids = small_graph()
    graph.connect(ids["fc"], ids["fc"])
    assert any("cycle" in p.message and p.node_id == ids["fc"] for p in errors_of(graph))


def test_unreachable_nodes_are_named():
    graph, ids = small_graph()
    island = Chain(graph)
    a = island.add("ReLU", "island_a")
    island.add("ReLU", "island_b")
    graph.connect(island.last, ids["output"], port=0)
    errors = errors_of(graph)
    unreachable = [p for p in errors if "not reachable" in p.message]
    assert {p.node_id for p in unreachable} >= {island.last}
    assert any(p.node_id == a and "not connected" in p.message for p in errors)


def test_duplicate_names_are_named():
    graph, ids = small_graph()
    graph.nodes[ids["fc"]].name = "flat"  # a hand-edited file can do this
    problem, = errors_of(graph)
    assert problem.node_id == ids["fc"] and "two nodes are named 'flat'" in problem.message


def test_invalid_names_from_files_are_reported():
    graph, ids = small_graph()
    graph.nodes[ids["fc"]].name = "my layer"
    problem, = errors_of(graph)
    assert problem.node_id == ids["fc"] and "not a valid name" in problem.message


def test_edges_into_input_or_out_of_output_are_errors():
    graph, ids = small_graph()
    relu = graph.add_node("ReLU", "after_output").id
    graph.connect(ids["output"], relu)
    graph.connect(ids["fc"], ids["input"])
    errors = {p.node_id: p.message for p in errors_of(graph)}
    assert "after_output" in errors[ids["output"]] and "remove that connection" in errors[ids["output"]]
    assert "takes no input" in errors[ids["input"]]


def test_every_problem_names_a_node_or_the_whole_network():
    graph = Graph()
    graph.add_node("Linear", "fc")
    graph.add_node("Linear", "fc")
    for problem in graph.validate():
        assert problem.node_id is not None or "the network" in problem.message


# --------------------------------------------------------------------------- order, copies
def test_topological_order_is_deterministic_and_respects_edges():
    graph = Graph()
    c = Chain(graph)
    inp = c.add("Input", "input", **IMAGE)
    right = c.add("ReLU", "right")
    left = c.add("Tanh", "left", after=inp)
    merge = c.merge("Add", [left, right], "add")
    c.add("Output", "output", loss="mse")
    order = graph.topological_order()
    assert order == graph.copy().topological_order()
    assert order.index(inp) < order.index(right) < order.index(merge)
    assert order.index(left) < order.index(merge)
    assert order[:3] == [inp, right, left]  # ties keep insertion order


def test_to_dict_from_dict_round_trip():
    graph, ids = small_graph()
    graph.move(ids["fc"], (1.5, -2))
    graph.set_overrides(ids["fc"], init={"weight": "normal", "std": 0.02}, l2_multiplier=2)
    data = graph.to_dict()
    again = Graph.from_dict(data)
    assert again.to_dict() == data
    assert list(again.nodes) == list(graph.nodes)
    assert again.edges == graph.edges
    assert again.new_id() not in graph.nodes
    # A copy is independent of the original.
    twin = graph.copy()
    twin.set_param(ids["fc"], "out_features", 3)
    assert graph.nodes[ids["fc"]].params["out_features"] == 10


@pytest.mark.parametrize("mutate,path", [
    (lambda d: d.update(nodes={}), "graph.nodes"),
    (lambda d: d["nodes"].append(7), "graph.nodes[4]"),
    (lambda d: d["nodes"][1].update(type="Conv3d"), "graph.nodes[1].type"),
    (lambda d: d["nodes"][1].update(id=5), "graph.nodes[1].id"),
    (lambda d: d["nodes"][1].update(id="n1"), "graph.nodes[1].id"),
    (lambda d: d["nodes"][2].update(params={"out_features": "ten"}), "graph.nodes[2].params.out_features"),
    (lambda d: d["nodes"][2].update(params=[1]), "graph.nodes[2].params"),
    (lambda d: d["nodes"][2].update(position=[0, float("nan")]), "graph.nodes[2].position"),
    (lambda d: d["nodes"][2].update(position="left"), "graph.nodes[2].position"),
    (lambda d: d["nodes"][2].update(l2_multiplier=-1), "graph.nodes[2].l2_multiplier"),
    (lambda d: d["nodes"][2].update(l2_multiplier=float("inf")), "graph.nodes[2].l2_multiplier"),
    (lambda d: d["nodes"][2].update(init={"weight": "magic"}), "graph.nodes[2].init.weight"),
    (lambda d: d["nodes"][2].update(colour="red"), "graph.nodes[2].colour"),
    (lambda d: d.update(edges={}), "graph.edges"),
    (lambda d: d["edges"].append("n1->n2"), "graph.edges[3]"),
    (lambda d: d["edges"][0].update(src="n99"), "graph.edges[0].src"),
    (lambda d: d["edges"][0].update(dst=["n2"]), "graph.edges[0].dst"),
    (lambda d: d["edges"][0].update(port=-1), "graph.edges[0].port"),
    (lambda d: d["edges"][0].update(port=True), "graph.edges[0].port"),
    (lambda d: d["edges"].append(dict(d["edges"][0])), "graph.edges[3]"),
])
def test_from_dict_reports_the_path_of_the_bad_field(mutate, path):
    graph, _ = small_graph()
    data = graph.to_dict()
    mutate(data)
    with pytest.raises(ValidationError) as err:
        Graph.from_dict(data)
    assert err.value.path == path


def test_unknown_layer_type_suggests_a_close_one():
    data = small_graph()[0].to_dict()
    data["nodes"][2]["type"] = "Linaer"
    with pytest.raises(ValidationError, match="did you mean Linear"):
        Graph.from_dict(data)


def test_from_dict_rejects_non_objects():
    with pytest.raises(ValidationError) as err:
        Graph.from_dict([])
    assert err.value.path == "graph"
