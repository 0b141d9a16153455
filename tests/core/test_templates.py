"""Built-in designs: parameter totals equal the reference numbers, receptive fields match the
lecture, and every compiled template agrees with the analysis (counts and output shape)."""
import pytest
import torch

from netbuilder.compile import build_module
from netbuilder.compile.build import example_input
from netbuilder.core import templates
from netbuilder.core.graph import Graph
from netbuilder.core.project import Project
from netbuilder.core.shapes import analyze
from netbuilder.core.templates import Chain

# FIELD_GUIDE §1 (trainable parameters).
REFERENCE = {"lenet5": 61_706, "mlp": 101_770, "cnn": 421_642, "rnn": 54_538, "alexnet": 61_100_840,
             "vgg11": 132_863_336, "resnet18": 11_689_512}
OUTPUT_SHAPES = {"lenet5": (10,), "mlp": (10,), "cnn": (10,), "rnn": (10,), "playground": (2,),
                 "alexnet": (1000,), "vgg11": (1000,), "resnet18": (1000,)}


@pytest.fixture(scope="module")
def compiled():
    """Each template built, analysed and compiled once for the whole module (the big ones are slow)."""
    cache = {}

    def get(name):
        if name not in cache:
            project = templates.build(name)
            analysis = analyze(project.graph)
            torch.manual_seed(0)
            cache[name] = (project, analysis, build_module(project.graph, analysis).eval())
        return cache[name]
    yield get
    cache.clear()


def test_every_template_is_listed():
    assert set(templates.names()) == set(OUTPUT_SHAPES)
    assert set(REFERENCE) <= set(templates.names())


@pytest.mark.parametrize("name", list(REFERENCE))
def test_totals_equal_the_references(name):
    analysis = analyze(templates.build(name).graph)
    assert analysis.trainable_params == REFERENCE[name]
    assert f"{REFERENCE[name]:,}" in templates.TEMPLATES[name].description


@pytest.mark.parametrize("name", templates.names())
def test_template_is_valid_without_warnings(name):
    project = templates.build(name)
    analysis = analyze(project.graph)
    assert analysis.ok, [p.message for p in analysis.errors]
    assert not analysis.warnings, [p.message for p in analysis.warnings]
    assert isinstance(project, Project) and project.name and project.description
    # Laid out: every node has its own place.
    positions = [n.position for n in project.graph.nodes.values()]
    assert len(set(positions)) == len(positions)


@pytest.mark.parametrize("name", templates.names())
def test_compiled_template_matches_the_analysis(name, compiled):
    project, analysis, module = compiled(name)
    graph = project.graph
    assert sum(p.numel() for p in module.parameters()) == analysis.trainable_params
    running = sum(b.numel() for n, b in module.named_buffers() if n.endswith(("running_mean", "running_var")))
    assert running == analysis.total_params - analysis.trainable_params
    bn_channels = sum(2 * analysis.nodes[nid].output_shape[0] for nid, node in graph.nodes.items()
                      if node.type == "BatchNorm")
    assert running == bn_channels
    x = example_input(graph, analysis, batch=1, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        y = module(x)
    out = analysis.nodes[graph.output_nodes()[0].id].output_shape
    assert out == OUTPUT_SHAPES[name]
    assert tuple(y.shape) == (1, *out)
    assert torch.isfinite(y).all()


def test_resnet18_non_trainable_are_the_batchnorm_statistics():
    analysis = analyze(templates.build("resnet18").graph)
    assert analysis.trainable_params == 11_689_512
    assert analysis.total_params - analysis.trainable_params == 9_600  # 2 × Σ channels of 20 BatchNorms


def test_alexnet_last_feature_map_sees_195_pixels():
    project = templates.build("alexnet")
    analysis = analyze(project.graph)
    pool5 = project.graph.node_by_name("pool5").id
    rf = analysis.nodes[pool5].receptive_field
    assert rf.size == (195, 195) and rf.jump == (32, 32)
    assert analysis.nodes[pool5].output_shape == (256, 6, 6)
    flatten = project.graph.node_by_name("flatten").id
    assert analysis.nodes[flatten].output_shape == (9216,)


def alexnet_227():
    """AlexNet as drawn in the lecture: 227×227×3 input, 96 11×11 stride-4 filters, no padding."""
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", kind="image", channels=3, height=227, width=227)
    c.add("Conv2d", "conv1", out_channels=96, kernel_size=11, stride=4)
    c.add("ReLU", "relu1")
    c.add("MaxPool2d", "pool1", kernel_size=3, stride=2)
    c.add("LocalResponseNorm", "norm1", size=5)
    c.add("Conv2d", "conv2", out_channels=256, kernel_size=5, padding=2)
    c.add("ReLU", "relu2")
    c.add("MaxPool2d", "pool2", kernel_size=3, stride=2)
    c.add("LocalResponseNorm", "norm2", size=5)
    c.add("Conv2d", "conv3", out_channels=384, kernel_size=3, padding=1)
    c.add("ReLU", "relu3")
    c.add("Conv2d", "conv4", out_channels=384, kernel_size=3, padding=1)
    c.add("ReLU", "relu4")
    c.add("Conv2d", "conv5", out_channels=256, kernel_size=3, padding=1)
    c.add("ReLU", "relu5")
    c.add("MaxPool2d", "pool5", kernel_size=3, stride=2)
    c.add("Flatten", "flatten")
    c.add("Linear", "fc6", out_features=4096)
    c.add("Linear", "fc7", out_features=4096)
    c.add("Linear", "fc8", out_features=1000)
    c.add("Output", "output")
    return graph


def test_hand_built_227_alexnet_shapes():
    graph = alexnet_227()
    a = analyze(graph)
    assert a.ok and not a.warnings, [p.message for p in a.problems]
    shape = {graph.nodes[nid].name: info.output_shape for nid, info in a.nodes.items()}
    assert shape["input"] == (3, 227, 227)
    assert shape["conv1"] == (96, 55, 55)
    assert shape["pool1"] == (96, 27, 27)
    assert shape["conv2"] == (256, 27, 27)
    assert shape["pool2"] == (256, 13, 13)
    assert shape["conv5"] == (256, 13, 13)
    assert shape["pool5"] == (256, 6, 6)
    assert shape["flatten"] == (9216,)
    assert a.nodes[graph.node_by_name("conv1").id].trainable == 11 * 11 * 3 * 96 + 96
    assert a.nodes[graph.node_by_name("pool5").id].receptive_field.size == (195, 195)


def test_224_input_without_padding_drops_a_row():
    # Why the lecture uses 227: on 224 the 11×11 stride-4 filter leaves the last row and column out.
    graph = alexnet_227()
    inp = graph.input_nodes()[0].id
    graph.set_param(inp, "height", 224)
    graph.set_param(inp, "width", 224)
    a = analyze(graph)
    conv1 = graph.node_by_name("conv1").id
    assert a.nodes[conv1].output_shape == (96, 54, 54)
    assert any("last 1 row and 1 column" in w for w in a.nodes[conv1].warnings)


def test_vgg16_pool5_receptive_field_is_212():
    graph = Graph()
    c = Chain(graph)
    c.add("Input", "input", kind="image", channels=3, height=224, width=224)
    n = 0
    for stage, (width, convs) in enumerate([(64, 2), (128, 2), (256, 3), (512, 3), (512, 3)], start=1):
        for _ in range(convs):
            n += 1
            c.add("Conv2d", f"conv{n}", out_channels=width, kernel_size=3, padding=1)
            c.add("ReLU", f"relu{n}")
        c.add("MaxPool2d", f"pool{stage}", kernel_size=2, stride=2)
    c.add("Flatten", "flatten")
    for i, units in enumerate([4096, 4096, 1000], start=6):
        c.add("Linear", f"fc{i}", out_features=units)
    c.add("Output", "output")
    a = analyze(graph)
    assert a.ok
    pool5 = a.nodes[graph.node_by_name("pool5").id]
    assert pool5.receptive_field.size == (212, 212) and pool5.receptive_field.jump == (32, 32)
    assert pool5.output_shape == (512, 7, 7)
    assert a.trainable_params == 138_357_544  # torchvision's VGG-16


def test_build_returns_fresh_projects():
    a, b = templates.build("mlp"), templates.build("mlp")
    a.graph.set_param(a.graph.node_by_name("fc1").id, "out_features", 3)
    assert b.graph.nodes[b.graph.node_by_name("fc1").id].params["out_features"] == 128


def test_unknown_template():
    with pytest.raises(KeyError, match="choose one of"):
        templates.build("googlenet")


def test_templates_carry_training_settings():
    lenet = templates.build("lenet5")
    assert lenet.settings["optimizer"]["type"] == "adam" and lenet.settings["training"]["epochs"] == 10
    alex = templates.build("alexnet")
    assert alex.settings["optimizer"]["type"] == "sgd" and alex.settings["optimizer"]["momentum"] == 0.9
    assert templates.build("playground").settings["data"]["dataset"] == "toy-2d"


def test_chain_fork_and_merge():
    graph = Graph()
    c = Chain(graph)
    entry = c.add("Input", "input", kind="vector", features=4)
    a = c.add("Linear", "a", out_features=4)
    b = c.add("Tanh", "b", after=entry)
    m = c.merge("Add", [a, b], "sum")
    assert c.last == m
    assert graph.predecessors(m) == [a, b] and graph.predecessors(b) == [entry]
