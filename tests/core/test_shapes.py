"""Analytic inference: shapes, parameters, multiply-adds, activations, receptive fields, and
problems that land on the node causing them, worded so a student knows what to change."""
import time

import pytest

from netbuilder.core.graph import Graph
from netbuilder.core.shapes import ReceptiveField, analyze
from netbuilder.core.templates import Chain

MNIST = dict(kind="image", channels=1, height=28, width=28)


def lenet_layers(fc1_in="auto"):
    return [("Conv2d", "conv1", dict(out_channels=6, kernel_size=5, padding=2)),
            ("ReLU", "relu1", {}),
            ("MaxPool2d", "pool1", dict(kernel_size=2, stride=2)),
            ("Conv2d", "conv2", dict(out_channels=16, kernel_size=5)),
            ("MaxPool2d", "pool2", dict(kernel_size=2, stride=2)),
            ("Flatten", "flatten", {}),
            ("Linear", "fc1", dict(in_features=fc1_in, out_features=120)),
            ("Linear", "fc2", dict(out_features=10))]


def problems_on(analysis, node_id, severity="error"):
    return [p.message for p in analysis.problems if p.node_id == node_id and p.severity == severity]


# --------------------------------------------------------------------------- per-node numbers
def test_lenet_shapes_params_macs_activations(chain):
    graph, ids = chain(MNIST, *lenet_layers(), loss="cross-entropy")
    a = analyze(graph)
    assert a.ok and not a.problems
    n = {name: a.nodes[nid] for name, nid in ids.items()}
    assert n["input"].output_shape == (1, 28, 28)
    assert n["conv1"].output_shape == (6, 28, 28)
    assert n["pool1"].output_shape == (6, 14, 14)
    assert n["conv2"].output_shape == (16, 10, 10)
    assert n["pool2"].output_shape == (16, 5, 5)
    assert n["flatten"].output_shape == (400,)
    assert n["fc1"].output_shape == (120,)
    assert n["output"].output_shape == (10,)
    assert n["conv1"].trainable == 5 * 5 * 1 * 6 + 6
    assert n["conv2"].trainable == 5 * 5 * 6 * 16 + 16
    assert n["fc1"].trainable == 400 * 120 + 120
    assert all(i.non_trainable == 0 for i in a.nodes.values())
    # Multiply-adds: one per kernel tap per output value; one per weight for Linear.
    assert n["conv1"].macs == 6 * 28 * 28 * (5 * 5 * 1)
    assert n["conv2"].macs == 16 * 10 * 10 * (5 * 5 * 6)
    assert n["fc1"].macs == 400 * 120
    assert n["conv1"].activations == 6 * 28 * 28
    assert n["flatten"].activations == 400
    assert a.total_macs == sum(i.macs for i in a.nodes.values())
    assert a.total_activations == sum(i.activations for i in a.nodes.values())
    assert a.trainable_params == 156 + 2416 + 48120 + 1210


def test_batchnorm_running_statistics_are_not_trainable(chain):
    graph, ids = chain(MNIST, ("Conv2d", "conv", dict(out_channels=8, kernel_size=3, bias=False)),
                       ("BatchNorm", "bn", {}), ("BatchNorm", "bn_plain", dict(affine=False)),
                       ("BatchNorm", "bn_none", dict(affine=False, track_running_stats=False)))
    a = analyze(graph)
    assert (a.nodes[ids["bn"]].trainable, a.nodes[ids["bn"]].non_trainable) == (16, 16)
    assert (a.nodes[ids["bn_plain"]].trainable, a.nodes[ids["bn_plain"]].non_trainable) == (0, 16)
    assert (a.nodes[ids["bn_none"]].trainable, a.nodes[ids["bn_none"]].non_trainable) == (0, 0)
    assert a.total_params - a.trainable_params == 32
    assert a.nodes[ids["conv"]].trainable == 3 * 3 * 8


def test_rnn_parameters_follow_the_formula(chain):
    seq = dict(kind="sequence", length=28, features=28)
    graph, ids = chain(seq, ("RNN", "rnn", dict(hidden_size=128, num_layers=2)),
                       ("LSTM", "lstm", dict(hidden_size=16, bidirectional=True, return_sequences=False)),
                       ("Linear", "fc", dict(out_features=10)))
    a = analyze(graph)
    # Seed RNN: layer 1 128·(28+128)+2·128, layer 2 128·(128+128)+2·128.
    assert a.nodes[ids["rnn"]].trainable == 128 * (28 + 128) + 256 + 128 * 256 + 256
    assert a.nodes[ids["rnn"]].output_shape == (128,)
    # LSTM on a vector (the RNN returned its last step) is refused with the shape it needs.
    assert not a.ok
    assert "sequence" in problems_on(a, ids["lstm"])[0]


# --------------------------------------------------------------------------- messages
def test_linear_in_features_mismatch_message(chain):
    graph, ids = chain(MNIST, *lenet_layers(fc1_in=784), loss="cross-entropy")
    a = analyze(graph)
    assert not a.ok
    assert problems_on(a, ids["fc1"]) == [
        "fc1: Linear expects 784 inputs but receives 16×5×5 = 400; set in_features to 400 or auto"]
    # Only the node that causes the problem carries it; downstream nodes simply have no shape.
    assert [p.node_id for p in a.errors] == [ids["fc1"]]
    assert a.nodes[ids["fc2"]].output_shape is None and not a.nodes[ids["fc2"]].errors
    assert a.nodes[ids["fc1"]].errors == problems_on(a, ids["fc1"])


def test_linear_on_a_feature_map_suggests_flatten(chain):
    graph, ids = chain(MNIST, ("Conv2d", "conv", dict(out_channels=4, kernel_size=3)),
                       ("Linear", "fc", dict(out_features=10)), loss="cross-entropy")
    msg, = problems_on(analyze(graph), ids["fc"])
    assert msg.startswith("fc: ") and "4×26×26" in msg and "Flatten" in msg


def test_conv_after_flatten_says_where_it_belongs(chain):
    graph, ids = chain(MNIST, ("Flatten", "flat", {}), ("Conv2d", "conv", dict(out_channels=4)))
    msg, = problems_on(analyze(graph), ids["conv"])
    assert "image" in msg and "784" in msg and "before the Flatten" in msg


def test_in_channels_mismatch(chain):
    graph, ids = chain(MNIST, ("Conv2d", "conv", dict(in_channels=3, out_channels=4)))
    msg, = problems_on(analyze(graph), ids["conv"])
    assert "expects 3 input channels but receives 1" in msg and "set in_channels to 1 or auto" in msg


def test_kernel_larger_than_input(chain):
    graph, ids = chain(dict(kind="image", channels=1, height=4, width=4),
                       ("Conv2d", "big", dict(out_channels=2, kernel_size=5)), ("ReLU", "after", {}))
    a = analyze(graph)
    msg, = problems_on(a, ids["big"])
    assert "5-wide kernel" in msg and "4×4" in msg and "smaller kernel" in msg
    assert not a.nodes[ids["after"]].errors


def test_pool_padding_above_half_the_kernel(chain):
    graph, ids = chain(MNIST, ("MaxPool2d", "pool", dict(kernel_size=3, padding=2, dilation=2)))
    msg, = problems_on(analyze(graph), ids["pool"])
    assert "padding 2 is more than half the kernel 3" in msg and "at most 1" in msg


def test_token_ids_need_an_embedding(chain):
    graph, ids = chain(dict(kind="tokens", length=10), ("Linear", "fc", dict(out_features=3)))
    msg, = problems_on(analyze(graph), ids["fc"])
    assert "token ids" in msg and "Embedding" in msg


def test_cross_entropy_needs_class_scores(chain):
    graph, ids = chain(MNIST, ("Conv2d", "conv", dict(out_channels=2)), loss="cross-entropy")
    msg, = problems_on(analyze(graph), ids["output"])
    assert "class scores" in msg and "Flatten" in msg and "Linear" in msg


def test_reshape_count_mismatch(chain):
    graph, ids = chain(MNIST, ("Reshape", "rows", dict(shape=[28, 27])))
    msg, = problems_on(analyze(graph), ids["rows"])
    assert "756" in msg and "784" in msg


def test_softmax_before_cross_entropy_is_a_warning(chain):
    graph, ids = chain(dict(kind="vector", features=4), ("Linear", "fc", dict(out_features=3)),
                       ("Softmax", "soft", {}), loss="cross-entropy")
    a = analyze(graph)
    assert a.ok
    msg, = problems_on(a, ids["soft"], "warning")
    assert "log-softmax" in msg and "remove" in msg


def branches(input_params, left, right, merge, **merge_params):
    """Input → left chain, Input → right chain, both → merge → Output; returns (graph, ids)."""
    graph = Graph()
    c = Chain(graph)
    ids = {"input": c.add("Input", "input", **input_params)}
    for layers in (left, right):
        c.last = ids["input"]
        for type_name, name, params in layers:
            ids[name] = c.add(type_name, name, **params)
    ends = [ids[left[-1][1]], ids[right[-1][1]]]
    ids["merge"] = c.merge(merge, ends, "merge", **merge_params)
    ids["output"] = c.add("Output", "output", loss="mse")
    return graph, ids


def test_add_mismatch_names_both_inputs():
    graph, ids = branches(MNIST, [("Conv2d", "main", dict(out_channels=8, kernel_size=3, padding=1))],
                          [("Conv2d", "skip", dict(out_channels=4, kernel_size=1))], "Add")
    a = analyze(graph)
    msg, = problems_on(a, ids["merge"])
    assert "main gives 8×28×28" in msg and "skip gives 4×28×28" in msg
    assert [p.node_id for p in a.errors] == [ids["merge"]]


def test_concatenate_mismatch_names_both_inputs():
    graph, ids = branches(MNIST, [("Conv2d", "a", dict(out_channels=8, kernel_size=3, padding=1))],
                          [("Conv2d", "b", dict(out_channels=4, kernel_size=3))], "Concatenate")
    msg, = problems_on(analyze(graph), ids["merge"])
    assert "a gives 8×28×28" in msg and "b gives 4×26×26" in msg


def test_concatenate_adds_channels():
    graph, ids = branches(MNIST, [("Conv2d", "a", dict(out_channels=8, kernel_size=1))],
                          [("Conv2d", "b", dict(out_channels=4, kernel_size=5, padding=2))], "Concatenate")
    a = analyze(graph)
    assert a.nodes[ids["merge"]].output_shape == (12, 28, 28)
    # Receptive field through branches: the widest path wins.
    assert a.nodes[ids["merge"]].receptive_field.size == (5, 5)


# --------------------------------------------------------------------------- stride warnings
def test_stride_that_drops_rows_is_a_warning(chain):
    graph, ids = chain(MNIST, ("Conv2d", "conv", dict(out_channels=2, kernel_size=3, stride=2)))
    a = analyze(graph)
    assert a.ok
    msg, = problems_on(a, ids["conv"], "warning")
    assert msg.startswith("conv: stride 2×2") and "last 1 row and 1 column" in msg
    assert a.nodes[ids["conv"]].output_shape == (2, 13, 13)
    assert a.nodes[ids["conv"]].warnings == [msg]


def test_stride_warning_counts_rows_per_axis(chain):
    graph, ids = chain(dict(kind="image", channels=1, height=12, width=9),
                       ("MaxPool2d", "pool", dict(kernel_size=5, stride=[4, 2])))
    msg, = problems_on(analyze(graph), ids["pool"], "warning")
    assert "3 rows" in msg and "column" not in msg


def test_padding_absorbs_the_uneven_tail(chain):
    # 7×7 stride 2 padding 3 on 224 (ResNet's stem): the uncovered row is padding, not image.
    graph, ids = chain(dict(kind="image", channels=3, height=224, width=224),
                       ("Conv2d", "stem", dict(out_channels=4, kernel_size=7, stride=2, padding=3)),
                       ("Conv2d", "unpadded", dict(out_channels=4, kernel_size=7, stride=2)))
    a = analyze(graph)
    assert not problems_on(a, ids["stem"], "warning")
    assert problems_on(a, ids["unpadded"], "warning")


def test_window_narrower_than_its_stride_is_not_warned(chain):
    # Strided 1×1 shortcuts skip rows between windows by design.
    graph, ids = chain(MNIST, ("Conv2d", "down", dict(out_channels=2, kernel_size=1, stride=2)))
    a = analyze(graph)
    assert a.nodes[ids["down"]].output_shape == (2, 14, 14) and not a.problems


def test_even_stride_has_no_warning(chain):
    graph, ids = chain(MNIST, ("MaxPool2d", "pool", dict(kernel_size=2, stride=2)))
    assert not analyze(graph).problems


def test_ceil_mode_keeps_the_partial_window(chain):
    graph, ids = chain(dict(kind="image", channels=1, height=7, width=7),
                       ("MaxPool2d", "pool", dict(kernel_size=2, stride=2, ceil_mode=True)))
    a = analyze(graph)
    assert a.nodes[ids["pool"]].output_shape == (1, 4, 4) and not a.problems


# --------------------------------------------------------------------------- receptive fields
def test_receptive_field_size_jump_start(chain):
    graph, ids = chain(MNIST, *lenet_layers(), loss="cross-entropy")
    a = analyze(graph)
    rf = {name: a.nodes[nid].receptive_field for name, nid in ids.items()}
    assert rf["input"] == ReceptiveField((1, 1), (1, 1), (0.5, 0.5))
    assert rf["conv1"] == ReceptiveField((5, 5), (1, 1), (0.5, 0.5))  # padding 2 keeps the centre
    assert rf["relu1"] == rf["conv1"]
    assert rf["pool1"] == ReceptiveField((6, 6), (2, 2), (1.0, 1.0))
    assert rf["conv2"] == ReceptiveField((14, 14), (2, 2), (5.0, 5.0))
    assert rf["pool2"] == ReceptiveField((16, 16), (4, 4), (6.0, 6.0))
    assert rf["flatten"] == rf["pool2"]
    assert rf["fc1"].is_global and rf["fc1"].size == (28, 28) and rf["fc1"].jump is None
    assert rf["output"].is_global
    assert rf["pool2"].to_json() == {"size": 16, "jump": 4, "start": 6, "global": False}
    assert rf["fc1"].describe() == "28×28 (whole input)"
    assert rf["pool2"].describe() == "16×16, jump 4×4"


def test_receptive_field_with_dilation_and_rectangular_kernels(chain):
    graph, ids = chain(MNIST, ("Conv2d", "a", dict(out_channels=2, kernel_size=[3, 5], dilation=[2, 1])),
                       ("Conv2d", "b", dict(out_channels=2, kernel_size=3, stride=[2, 1])),
                       ("Conv2d", "c", dict(out_channels=2, kernel_size=3)))
    a = analyze(graph)
    assert a.nodes[ids["a"]].receptive_field.size == (5, 5)
    assert a.nodes[ids["b"]].receptive_field.size == (7, 7)
    assert a.nodes[ids["c"]].receptive_field.size == (11, 9)
    assert a.nodes[ids["c"]].receptive_field.jump == (2, 1)
    assert a.nodes[ids["c"]].receptive_field.to_json()["size"] == [11, 9]


def test_receptive_field_formula_on_a_signal(chain):
    graph, ids = chain(dict(kind="signal", channels=1, length=100),
                       ("Conv1d", "c1", dict(out_channels=2, kernel_size=7, stride=3)),
                       ("MaxPool1d", "p1", dict(kernel_size=2, stride=2)),
                       ("Conv1d", "c2", dict(out_channels=2, kernel_size=3, dilation=2)))
    rf = analyze(graph).nodes[ids["c2"]].receptive_field
    # r = 1 + Σ (k_eff − 1)·Π strides before: 1 + 6·1 + 1·3 + 4·6
    assert rf.size == (1 + 6 + 3 + 24,) and rf.jump == (6,)


def test_receptive_field_resets_after_sequence_layers(chain):
    graph, ids = chain(MNIST, ("Reshape", "rows", dict(shape=[28, 28])), ("RNN", "rnn", dict(hidden_size=8)),
                       ("Linear", "fc", dict(out_features=10)), loss="cross-entropy")
    a = analyze(graph)
    assert a.nodes[ids["input"]].receptive_field is not None
    assert all(a.nodes[ids[n]].receptive_field is None for n in ("rows", "rnn", "fc"))


def test_vector_input_has_no_receptive_field(chain):
    graph, ids = chain(dict(kind="vector", features=3), ("Linear", "fc", dict(out_features=2)))
    a = analyze(graph)
    assert a.nodes[ids["fc"]].receptive_field is None


def test_receptive_field_takes_the_maximum_over_paths():
    graph, ids = branches(MNIST,
                          [("Conv2d", "a1", dict(out_channels=4, kernel_size=3, padding=1)),
                           ("Conv2d", "a2", dict(out_channels=4, kernel_size=3, padding=1)),
                           ("Conv2d", "a3", dict(out_channels=4, kernel_size=3, padding=1))],
                          [("Conv2d", "b1", dict(out_channels=4, kernel_size=5, padding=2))], "Add")
    a = analyze(graph)
    assert a.nodes[ids["merge"]].receptive_field.size == (7, 7)
    assert not a.problems  # the centres line up: no misalignment warning


def test_misaligned_merge_is_a_warning():
    # 1×1 stride 2 and 2×2 stride 2 give equal shapes but look at windows half a pixel apart.
    graph, ids = branches(MNIST, [("Conv2d", "a", dict(out_channels=4, kernel_size=1, stride=2))],
                          [("Conv2d", "b", dict(out_channels=4, kernel_size=2, stride=2))], "Add")
    a = analyze(graph)
    assert a.ok
    assert a.nodes[ids["merge"]].output_shape == (4, 14, 14)
    msg, = problems_on(a, ids["merge"], "warning")
    assert msg.startswith("merge: ") and "misaligned" in msg


def test_merging_different_jumps_is_flagged():
    graph, ids = branches(dict(kind="image", channels=1, height=8, width=8),
                          [("Conv2d", "a", dict(out_channels=2, kernel_size=2, stride=2))],
                          [("Conv2d", "b", dict(out_channels=2, kernel_size=5))], "Add")
    a = analyze(graph)
    assert a.nodes[ids["merge"]].output_shape == (2, 4, 4)
    assert "misaligned" in problems_on(a, ids["merge"], "warning")[0]
    assert a.nodes[ids["merge"]].receptive_field.size == (5, 5)


def test_resnet_shortcut_is_aligned():
    graph, ids = branches(dict(kind="image", channels=8, height=16, width=16),
                          [("Conv2d", "c1", dict(out_channels=8, kernel_size=3, stride=2, padding=1)),
                           ("Conv2d", "c2", dict(out_channels=8, kernel_size=3, padding=1))],
                          [("Conv2d", "down", dict(out_channels=8, kernel_size=1, stride=2))], "Add")
    a = analyze(graph)
    assert not a.problems
    rf = a.nodes[ids["merge"]].receptive_field
    assert rf.size == (7, 7) and rf.jump == (2, 2)


def test_global_field_wins_at_a_merge():
    vec = dict(kind="image", channels=1, height=4, width=4)
    graph, ids = branches(vec, [("Flatten", "f", {}), ("Linear", "fc", dict(out_features=16))],
                          [("Flatten", "g", {})], "Add")
    a = analyze(graph)
    assert a.nodes[ids["merge"]].receptive_field.is_global


# --------------------------------------------------------------------------- structure + speed
def test_structural_problems_appear_in_the_analysis():
    graph = Graph()
    fc = graph.add_node("Linear", "fc")
    a = analyze(graph)
    assert not a.ok
    assert any("no Input node" in p.message for p in a.errors)
    assert any(p.node_id == fc.id and "not connected" in p.message for p in a.errors)
    assert a.nodes[fc.id].errors


def test_cycle_leaves_no_order_but_names_a_node():
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", **MNIST)
    a1 = c.add("ReLU", "a")
    b = c.add("Add", "b")
    graph.connect(b, a1)  # a receives input and b: also a single-input violation
    c.add("Output", "output", loss="mse")
    a = analyze(graph)
    assert a.order == []
    cycle = [p for p in a.errors if "cycle" in p.message]
    assert cycle and cycle[0].node_id in (a1, b)


def test_analysis_of_a_deep_graph_is_fast():
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", kind="image", channels=8, height=32, width=32)
    for i in range(250):
        c.add("Conv2d", f"conv{i}", out_channels=8, kernel_size=3, padding=1)
        c.add("ReLU", f"relu{i}")
    c.add("Output", "output", loss="mse")
    start = time.perf_counter()
    a = analyze(graph)
    elapsed = time.perf_counter() - start
    assert a.ok
    assert elapsed < 1.0, f"analysing 502 nodes took {elapsed:.2f} s"


@pytest.mark.parametrize("loss", ["mse", "bce-with-logits"])
def test_output_losses(chain, loss):
    graph, ids = chain(dict(kind="vector", features=3), ("Linear", "fc", dict(out_features=1)), loss=loss)
    assert analyze(graph).ok


@pytest.mark.parametrize("size,out,widest", [(8, 3, 4), (13, 6, 3), (12, 6, 2), (7, 7, 1), (3, 6, 1), (6, 1, 6)])
def test_adaptive_pool_field_uses_torch_widest_window(chain, size, out, widest):
    # torch's window i spans [floor(i·in/out), ceil((i+1)·in/out)).
    assert widest == max(-(-(i + 1) * size // out) - (i * size // out) for i in range(out))
    graph, ids = chain(dict(kind="image", channels=1, height=size, width=size),
                       ("AdaptiveAvgPool2d", "gap", dict(output_size=[out, out])))
    a = analyze(graph)
    assert a.nodes[ids["gap"]].output_shape == (1, out, out)
    assert a.nodes[ids["gap"]].receptive_field.size == (widest, widest)
