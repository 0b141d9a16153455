"""Classic ImageNet architectures in torchvision's layout (parameter totals match torchvision)."""
from __future__ import annotations

from . import new_project, template

_IMAGENET_NOTE = " Point Data at an image folder (one subfolder per class) to train it."


def _imagenet_project(name, description):
    project, c = new_project(name, description + _IMAGENET_NOTE, dataset="image-folder", optimizer="sgd",
                             epochs=90, batch_size=256, lr=0.01, momentum=0.9)
    c.add("Input", "input", kind="image", channels=3, height=224, width=224)
    return project, c


def _classifier(c, in_features, classes=1000):
    c.add("Flatten", "flatten")
    c.add("Dropout", "drop1", p=0.5)
    c.add("Linear", "fc1", out_features=4096)
    c.add("ReLU", "relu_fc1")
    c.add("Dropout", "drop2", p=0.5)
    c.add("Linear", "fc2", out_features=4096)
    c.add("ReLU", "relu_fc2")
    c.add("Linear", "fc3", out_features=classes)
    c.add("Output", "output")


@template("alexnet", "AlexNet", "Five convolutions and three dense layers, torchvision's layout (61,100,840 parameters).")
def alexnet():
    project, c = _imagenet_project("AlexNet", "AlexNet (Krizhevsky et al. 2012) as in torchvision.")
    for i, (filters, k, s, p, pool) in enumerate([(64, 11, 4, 2, True), (192, 5, 1, 2, True), (384, 3, 1, 1, False),
                                                  (256, 3, 1, 1, False), (256, 3, 1, 1, True)], start=1):
        c.add("Conv2d", f"conv{i}", out_channels=filters, kernel_size=k, stride=s, padding=p)
        c.add("ReLU", f"relu{i}")
        if pool:
            c.add("MaxPool2d", f"pool{i}", kernel_size=3, stride=2)
    c.add("AdaptiveAvgPool2d", "avgpool", output_size=[6, 6])
    _classifier(c, 256 * 6 * 6)
    return project


@template("vgg11", "VGG-11", "Eight 3×3 convolutions in five stages and three dense layers (132,863,336 parameters).")
def vgg11():
    project, c = _imagenet_project("VGG-11", "VGG-11 (configuration A, Simonyan & Zisserman 2014) as in torchvision.")
    stages = [[64], [128], [256, 256], [512, 512], [512, 512]]
    n = 0
    for stage, widths in enumerate(stages, start=1):
        for width in widths:
            n += 1
            c.add("Conv2d", f"conv{n}", out_channels=width, kernel_size=3, padding=1)
            c.add("ReLU", f"relu{n}")
        c.add("MaxPool2d", f"pool{stage}", kernel_size=2, stride=2)
    c.add("AdaptiveAvgPool2d", "avgpool", output_size=[7, 7])
    _classifier(c, 512 * 7 * 7)
    return project


@template("resnet18", "ResNet-18", "Residual blocks joined by Add nodes, torchvision's layout (11,689,512 parameters).")
def resnet18():
    project, c = _imagenet_project("ResNet-18", "ResNet-18 (He et al. 2015) as in torchvision: residual Adds.")
    c.add("Conv2d", "conv1", out_channels=64, kernel_size=7, stride=2, padding=3, bias=False)
    c.add("BatchNorm", "bn1")
    c.add("ReLU", "relu")
    c.add("MaxPool2d", "maxpool", kernel_size=3, stride=2, padding=1)
    for stage, width in enumerate([64, 128, 256, 512], start=1):
        for block in range(2):
            tag = f"layer{stage}_{block}"
            stride = 2 if stage > 1 and block == 0 else 1
            entry = c.last
            c.add("Conv2d", f"{tag}_conv1", out_channels=width, kernel_size=3, stride=stride, padding=1, bias=False)
            c.add("BatchNorm", f"{tag}_bn1")
            c.add("ReLU", f"{tag}_relu1")
            c.add("Conv2d", f"{tag}_conv2", out_channels=width, kernel_size=3, padding=1, bias=False)
            main = c.add("BatchNorm", f"{tag}_bn2")
            skip = entry
            if stride != 1:
                c.add("Conv2d", f"{tag}_down", after=entry, out_channels=width, kernel_size=1, stride=stride, bias=False)
                skip = c.add("BatchNorm", f"{tag}_down_bn")
            c.merge("Add", [main, skip], f"{tag}_add")
            c.add("ReLU", f"{tag}_out")
    c.add("AdaptiveAvgPool2d", "avgpool", output_size=[1, 1])
    c.add("Flatten", "flatten")
    c.add("Linear", "fc", out_features=1000)
    c.add("Output", "output")
    return project
