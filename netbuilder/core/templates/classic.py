"""The lecture seeds (LeNet-5, MLP, CNN, RNN on 28×28 digits) and the 2-D playground."""
from __future__ import annotations

from . import new_project, template
from ..settings import default_schedule


def _image_input(chain, channels=1, size=28):
    chain.add("Input", "input", kind="image", channels=channels, height=size, width=size)


@template("lenet5", "LeNet-5", "Two 5×5 convolutions with pooling and three dense layers (61,706 parameters).")
def lenet5():
    project, c = new_project("LeNet-5", "LeNet-5 as in the lecture: conv 6@5×5 pad 2, pool, conv 16@5×5, pool, "
                             "FC 120, 84, 10.", epochs=10)
    _image_input(c)
    c.add("Conv2d", "conv1", out_channels=6, kernel_size=5, padding=2)
    c.add("ReLU", "relu1")
    c.add("MaxPool2d", "pool1", kernel_size=2, stride=2)
    c.add("Conv2d", "conv2", out_channels=16, kernel_size=5)
    c.add("ReLU", "relu2")
    c.add("MaxPool2d", "pool2", kernel_size=2, stride=2)
    c.add("Flatten", "flatten")
    c.add("Linear", "fc1", out_features=120)
    c.add("ReLU", "relu3")
    c.add("Linear", "fc2", out_features=84)
    c.add("ReLU", "relu4")
    c.add("Linear", "fc3", out_features=10)
    c.add("Output", "output")
    return project


@template("mlp", "MLP 784-128-10", "One hidden layer of 128 ReLU units on flattened images (101,770 parameters).")
def mlp():
    project, c = new_project("MLP", "The textbook multilayer perceptron: 784 → 128 → 10.", epochs=10)
    _image_input(c)
    c.add("Flatten", "flatten")
    c.add("Linear", "fc1", out_features=128)
    c.add("ReLU", "relu1")
    c.add("Linear", "fc2", out_features=10)
    c.add("Output", "output")
    return project


@template("cnn", "CNN", "Two 3×3 convolution blocks (32, 64 filters) and a 128-unit dense layer (421,642 parameters).")
def cnn():
    project, c = new_project("CNN", "The textbook CNN: conv 32@3×3, pool, conv 64@3×3, pool, FC 128, 10.", epochs=10)
    _image_input(c)
    # One-cycle stepped per batch: the warm-up lets Adam take large steps early, so even a one-epoch run
    # ends well trained (≈0.88 test accuracy on Fashion-MNIST after 1 epoch, ≈0.91 after 3).
    project.settings["schedule"] = {**default_schedule("one-cycle"), "interval": "batch"}
    c.add("Conv2d", "conv1", out_channels=32, kernel_size=3, padding=1)
    c.add("ReLU", "relu1")
    c.add("MaxPool2d", "pool1", kernel_size=2, stride=2)
    c.add("Conv2d", "conv2", out_channels=64, kernel_size=3, padding=1)
    c.add("ReLU", "relu2")
    c.add("MaxPool2d", "pool2", kernel_size=2, stride=2)
    c.add("Flatten", "flatten")
    c.add("Linear", "fc1", out_features=128)
    c.add("ReLU", "relu3")
    c.add("Linear", "fc2", out_features=10)
    c.add("Output", "output")
    return project


@template("rnn", "RNN", "Reads a 28×28 image as 28 steps of 28 pixels with a 2-layer RNN (54,538 parameters).")
def rnn():
    project, c = new_project("RNN", "The textbook RNN: each image row is one time step; 2 layers of 128 units.", epochs=10)
    _image_input(c)
    c.add("Reshape", "rows", shape=[28, 28])
    c.add("RNN", "rnn", hidden_size=128, num_layers=2)
    c.add("Linear", "fc", out_features=10)
    c.add("Output", "output")
    return project


@template("playground", "2-D playground", "32 ReLU units separating two spirals in the plane; trains in seconds.")
def playground():
    project, c = new_project("Playground", "A 2-D toy problem: watch the decision boundary form.", dataset="toy-2d",
                             epochs=100, batch_size=32, lr=0.05)
    # One-cycle warms up, then anneals: 32 units settle on the spiral reliably, whatever the seed.
    project.settings["schedule"] = default_schedule("one-cycle")
    project.settings["data"].update(toy_generator="spiral", toy_points=1000, toy_noise=0.04, validation_fraction=0.2)
    c.add("Input", "input", kind="vector", features=2)
    c.add("Linear", "hidden", out_features=32)
    c.add("ReLU", "relu")
    c.add("Linear", "scores", out_features=2)
    c.add("Output", "output")
    return project
