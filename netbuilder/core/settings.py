"""Schemas of the project's training settings: data, optimizer, schedule, initialization,
regularization and training.

Pure data (no torch): the engine gives these keys their meaning, the configuration panels
build their widgets from them, and project loading validates against them. Optimizer and
schedule sections are tagged unions: `type` picks the variant, the other keys are that
variant's hyperparameters.
"""
from __future__ import annotations

import copy

from .params import ParamSpec, ValidationError, coerce_all, defaults

P = ParamSpec

# --------------------------------------------------------------------------- data
DATASETS = ("fashion-mnist", "mnist", "kmnist", "cifar10", "image-folder", "csv", "npz", "toy-2d")
TOY_GENERATORS = ("spiral", "xor", "circles", "gaussians", "moons")
PREPROCESSING = ("standardize", "zero-center", "minmax", "pca-whiten", "none")

AUGMENTATION_SPECS = [
    P("hflip", "bool", False, "Horizontal flip", "Mirror images left-right at random. Not for digits or text (b/d)."),
    P("vflip", "bool", False, "Vertical flip", "Mirror images top-bottom at random (aerial or microscope images)."),
    P("rotation", "float", 0.0, "Rotation", "Rotate by a random angle in ±degrees.", unit="°", minimum=0, maximum=180),
    P("shift", "float", 0.0, "Shift", "Translate by up to this fraction of the image size.", minimum=0, maximum=0.5),
    P("scale", "float", 0.0, "Scale", "Zoom by a random factor in [1-s, 1+s].", minimum=0, maximum=0.9),
    P("noise", "float", 0.0, "Gaussian noise", "Add N(0, σ²) noise to normalised inputs.", unit="σ", minimum=0, maximum=5),
    P("color_jitter", "float", 0.0, "Colour jitter", "Random brightness/contrast/saturation change of up to this fraction.", minimum=0, maximum=1),
    P("cutout", "int", 0, "Cutout", "Blank a random square of this many pixels (0 = off).", unit="px", minimum=0, maximum=256),
    P("mixup", "float", 0.0, "Mixup α", "Blend pairs of samples and labels with λ ~ Beta(α, α) (0 = off).", minimum=0, maximum=10),
]

DATA_SPECS = [
    P("dataset", "choice", "fashion-mnist", "Dataset", "Where the samples come from.", choices=DATASETS),
    P("root", "path", None, "Data folder", "Folder holding the dataset files; empty = search the usual places.", allow_none=True),
    P("path", "path", None, "File or folder", "The CSV/NPZ file or the image folder (one subfolder per class).",
      allow_none=True, visible_if={"dataset": ("image-folder", "csv", "npz")}),
    P("label_column", "str", "label", "Label column", "CSV column holding the class label.", visible_if={"dataset": ("csv",)}),
    P("limit", "int", None, "Limit", "Use at most this many training samples (empty = all); validation and test shrink in "
      "proportion, to no fewer than 500 samples each.", minimum=1, allow_none=True),
    P("validation_fraction", "float", 0.1, "Validation split", "Fraction of the training split held out for validation.",
      minimum=0.0, maximum=0.9),
    P("split_seed", "int", 0, "Split seed", "Seed of the train/validation split.", minimum=0),
    P("preprocessing", "choice", "standardize", "Preprocessing",
      "Statistics come from the training split only. standardize = per-channel mean/std.", choices=PREPROCESSING),
    P("toy_generator", "choice", "spiral", "Toy data", "2-D point set.", choices=TOY_GENERATORS,
      visible_if={"dataset": ("toy-2d",)}),
    P("toy_points", "int", 1000, "Points", "Number of 2-D points.", minimum=20, maximum=1_000_000,
      visible_if={"dataset": ("toy-2d",)}),
    P("toy_noise", "float", 0.1, "Noise", "Standard deviation of the noise added to each point.", minimum=0, maximum=5,
      visible_if={"dataset": ("toy-2d",)}),
    P("toy_seed", "int", 0, "Toy seed", "Seed of the point generator.", minimum=0, visible_if={"dataset": ("toy-2d",)}),
]

# --------------------------------------------------------------------------- optimizer
_LR = lambda default: P("lr", "float", default, "Learning rate", "Step size of each update.", minimum=0, maximum=100, log_scale=True)  # noqa: E731
_BETAS = [
    P("beta1", "float", 0.9, "β1", "Decay of the first-moment (momentum) average.", minimum=0, maximum=0.99999),
    P("beta2", "float", 0.999, "β2", "Decay of the second-moment (squared gradient) average.", minimum=0, maximum=0.999999),
    P("eps", "float", 1e-8, "ε", "Added to the denominator for numerical stability.", minimum=0, maximum=1, log_scale=True),
]

OPTIMIZERS: dict[str, tuple[str, str, list[ParamSpec]]] = {
    "sgd": ("SGD", "θ ← θ − lr·g; with momentum v ← a·v − lr·g, θ ← θ + v. Nesterov takes the gradient at the look-ahead point.", [
        _LR(0.01),
        P("momentum", "float", 0.9, "Momentum", "a in v ← a·v − lr·g (0.5, 0.9, 0.99 are classic).", minimum=0, maximum=0.9999),
        P("dampening", "float", 0.0, "Dampening", "Scales the new gradient in the momentum buffer.", minimum=0, maximum=1),
        P("nesterov", "bool", False, "Nesterov", "Evaluate the gradient at θ + a·v."),
    ]),
    "adagrad": ("AdaGrad", "Divides by the root of all squared gradients so far; the rate decays, often too early in deep nets.", [
        _LR(0.01),
        P("lr_decay", "float", 0.0, "LR decay", "lr / (1 + (t−1)·decay).", minimum=0, maximum=1),
        P("initial_accumulator_value", "float", 0.0, "Initial accumulator", "Starting value of the squared-gradient sum.", minimum=0),
        P("eps", "float", 1e-10, "ε", "Added to the denominator.", minimum=0, maximum=1, log_scale=True),
    ]),
    "rmsprop": ("RMSProp", "Divides by a moving average of squared gradients: cache ← ρ·cache + (1−ρ)·g².", [
        _LR(0.001),
        P("alpha", "float", 0.99, "Decay ρ", "Moving-average decay (0.9, 0.99, 0.999).", minimum=0, maximum=0.99999),
        P("eps", "float", 1e-8, "ε", "Added to the denominator.", minimum=0, maximum=1, log_scale=True),
        P("momentum", "float", 0.0, "Momentum", "Momentum on the scaled step.", minimum=0, maximum=0.9999),
        P("centered", "bool", False, "Centered", "Normalise by the variance estimate instead of the raw second moment."),
    ]),
    "adadelta": ("AdaDelta", "RMSProp whose step is scaled by a moving average of past updates; needs no learning-rate tuning.", [
        _LR(1.0),
        P("rho", "float", 0.9, "ρ", "Moving-average decay.", minimum=0, maximum=0.99999),
        P("eps", "float", 1e-6, "ε", "Added inside the square roots.", minimum=0, maximum=1, log_scale=True),
    ]),
    "adam": ("Adam", "Momentum plus RMSProp with bias correction: m̂/(√v̂ + ε). Default lr 1e-3.", [
        _LR(0.001), *_BETAS,
        P("amsgrad", "bool", False, "AMSGrad", "Use the running maximum of v (guards against a shrinking denominator)."),
    ]),
    "adamw": ("AdamW", "Adam with weight decay decoupled from the gradient (set it under Regularization ▸ weight decay).", [
        _LR(0.001), *_BETAS,
        P("amsgrad", "bool", False, "AMSGrad", "Use the running maximum of v."),
    ]),
    "nadam": ("NAdam", "Adam with Nesterov momentum.", [
        _LR(0.002), *_BETAS,
        P("momentum_decay", "float", 0.004, "Momentum decay", "ψ in the momentum schedule.", minimum=0, maximum=1),
    ]),
    "radam": ("RAdam", "Adam with a rectified variance term: a built-in warm-up.", [_LR(0.001), *_BETAS]),
    "adamax": ("Adamax", "Adam with the infinity norm in place of the squared-gradient average.", [_LR(0.002), *_BETAS]),
}

# --------------------------------------------------------------------------- schedule
_INTERVAL = P("interval", "choice", "epoch", "Step every", "Advance the schedule after each epoch or each batch.",
              choices=("epoch", "batch"))

SCHEDULES: dict[str, tuple[str, str, list[ParamSpec]]] = {
    "constant": ("Constant", "lr(t) = lr0.", []),
    "step": ("Step decay", "lr(t) = lr0 · γ^floor(t / step): halve every 5 epochs, or ×0.1 every 20.", [
        P("step_size", "int", 5, "Step size", "Intervals between decays.", minimum=1),
        P("gamma", "float", 0.5, "γ", "Multiplier at each step.", minimum=0, maximum=1),
    ]),
    "piecewise": ("Piecewise constant", "lr = lr0 · factor[i] between milestones (e.g. ×1 to 500, ×0.17 to 900, ×0.03 after).", [
        P("milestones", "int_list", [10, 20], "Milestones", "Intervals at which the next factor starts.", minimum=1),
        P("factors", "float_list", [1.0, 0.1, 0.01], "Factors", "One more factor than milestones.", minimum=0),
    ]),
    "exponential": ("Exponential", "lr(t) = lr0 · exp(−k·t).", [
        P("k", "float", 0.1, "k", "Decay rate per interval.", minimum=0, maximum=100),
    ]),
    "inverse-time": ("1/t decay", "lr(t) = lr0 / (1 + k·t).", [
        P("k", "float", 0.1, "k", "Decay rate per interval.", minimum=0, maximum=100),
    ]),
    "linear": ("Linear to a floor", "lr(t) = (1 − t/τ)·lr0 + (t/τ)·lr_τ until τ, then lr_τ.", [
        P("tau", "int", 10, "τ", "Interval at which the floor is reached.", minimum=1),
        P("floor_fraction", "float", 0.01, "Floor", "lr_τ as a fraction of lr0 (about 1%).", minimum=0, maximum=1),
    ]),
    "cosine": ("Cosine with warm-up", "Linear warm-up from 0, then lr0 · (1 + cos(π·progress))/2 down to the floor.", [
        P("warmup", "int", 0, "Warm-up", "Intervals of linear warm-up.", minimum=0),
        P("min_fraction", "float", 0.0, "Floor", "Final lr as a fraction of lr0.", minimum=0, maximum=1),
    ]),
    "one-cycle": ("One-cycle", "Rises from lr0/div to lr0 over pct_start of the run, then anneals to lr0/final_div.", [
        P("pct_start", "float", 0.3, "Rising part", "Fraction of the run spent rising.", minimum=0.01, maximum=0.99),
        P("div_factor", "float", 25.0, "Start divisor", "Start lr = lr0 / div.", minimum=1),
        P("final_div_factor", "float", 1e4, "End divisor", "End lr = lr0 / final div.", minimum=1, log_scale=True),
    ]),
    "plateau": ("Reduce on plateau", "Multiply lr by factor when the validation metric stops improving for `patience` epochs.", [
        P("metric", "choice", "val_loss", "Metric", "Watched validation metric.", choices=("val_loss", "val_accuracy")),
        P("factor", "float", 0.5, "Factor", "Multiplier on each reduction.", minimum=0, maximum=0.999),
        P("patience", "int", 3, "Patience", "Epochs without improvement before reducing.", minimum=0),
        P("threshold", "float", 1e-4, "Threshold", "Relative improvement that counts.", minimum=0, log_scale=True),
        P("min_lr", "float", 0.0, "Minimum lr", "Never reduce below this.", minimum=0, log_scale=True),
    ]),
}

# --------------------------------------------------------------------------- initialization
INIT_SCHEMES = ("default", "zeros", "constant", "normal", "uniform", "xavier-normal", "xavier-uniform",
                "kaiming-normal", "kaiming-uniform", "orthogonal", "lecun-normal")
INIT_HELP = {
    "default": "PyTorch's own initialisation for each layer type.",
    "zeros": "All weights 0: every hidden unit computes the same thing and never differentiates (symmetry).",
    "constant": "All weights equal: the same symmetry problem as zeros.",
    "normal": "N(0, std²). std 0.01 works for shallow nets; activations collapse in deep ones.",
    "uniform": "U(−r, r).",
    "xavier-normal": "std = gain·√(2/(fan_in+fan_out)); good for tanh, activations shrink with ReLU.",
    "xavier-uniform": "U(±gain·√(6/(fan_in+fan_out))).",
    "kaiming-normal": "std = √2/√fan (He): keeps ReLU activations at a healthy scale.",
    "kaiming-uniform": "U(±√(6/fan)) (He, uniform).",
    "orthogonal": "A (semi-)orthogonal matrix scaled by gain: preserves norms through depth.",
    "lecun-normal": "std = 1/√fan_in: the pairing for SELU.",
}
INIT_SPECS = [
    P("weight", "choice", "default", "Weights", "How weights start.", choices=INIT_SCHEMES),
    P("value", "float", 0.0, "Value", "Every weight's value.", visible_if={"weight": ("constant",)}),
    P("std", "float", 0.01, "Std", "Standard deviation.", minimum=0, maximum=10, log_scale=True,
      visible_if={"weight": ("normal",)}),
    P("r", "float", 0.05, "Range r", "Half-width of the uniform range.", minimum=0, maximum=10, visible_if={"weight": ("uniform",)}),
    P("gain", "float", 1.0, "Gain", "Scale factor.", minimum=0, maximum=10,
      visible_if={"weight": ("xavier-normal", "xavier-uniform", "orthogonal")}),
    P("mode", "choice", "fan_in", "Fan mode", "fan_in keeps forward activations steady, fan_out the gradients.",
      choices=("fan_in", "fan_out"), visible_if={"weight": ("kaiming-normal", "kaiming-uniform")}),
    P("nonlinearity", "choice", "relu", "Nonlinearity", "The activation that follows (sets the gain).",
      choices=("relu", "leaky_relu", "tanh", "sigmoid", "linear", "selu"),
      visible_if={"weight": ("kaiming-normal", "kaiming-uniform")}),
    P("bias", "choice", "zeros", "Biases", "How biases start.", choices=("zeros", "constant", "default")),
    P("bias_value", "float", 0.0, "Bias value", "Every bias's value.", visible_if={"bias": ("constant",)}),
]

# --------------------------------------------------------------------------- regularization
REGULARIZATION_SPECS = [
    P("l2", "float", 0.0, "L2 penalty λ", "Adds λ/2·‖w‖² to the loss (coupled: under Adam it is rescaled per weight).",
      minimum=0, maximum=10, log_scale=True),
    P("l1", "float", 0.0, "L1 penalty λ", "Adds λ·‖w‖₁: drives weights to exactly zero. L1 and L2 together = elastic net.",
      minimum=0, maximum=10, log_scale=True),
    P("weight_decay", "float", 0.0, "Decoupled weight decay", "w ← w − lr·wd·w after each step (AdamW-style), not through the gradient.",
      minimum=0, maximum=10, log_scale=True),
    P("exclude_bias_and_norm", "bool", True, "Skip biases and norm layers", "Penalise only weight matrices and kernels."),
    P("early_stopping", "bool", False, "Early stopping", "Stop when the monitored metric stops improving."),
    P("es_metric", "choice", "val_loss", "Monitor", "Validation metric to watch.", choices=("val_loss", "val_accuracy"),
      visible_if={"early_stopping": (True,)}),
    P("patience", "int", 5, "Patience", "Epochs without improvement before stopping.", minimum=0,
      visible_if={"early_stopping": (True,)}),
    P("min_delta", "float", 0.0, "Min delta", "Smallest change that counts as improvement.", minimum=0,
      visible_if={"early_stopping": (True,)}),
    P("restore_best", "bool", True, "Restore best weights", "Roll back to the best epoch when stopping.",
      visible_if={"early_stopping": (True,)}),
    P("clip_mode", "choice", "none", "Gradient clipping", "Cap the gradient norm or each value: tames cliffs and explosions.",
      choices=("none", "norm", "value")),
    P("clip_value", "float", 1.0, "Clip at", "Maximum norm or absolute value.", minimum=0, visible_if={"clip_mode": ("norm", "value")}),
    P("max_norm", "float", 0.0, "Max-norm", "Rescale each unit's incoming weight vector to at most this norm (0 = off).", minimum=0),
    P("label_smoothing", "float", 0.0, "Label smoothing ε", "Targets become 1−ε and ε/(k−1).", minimum=0, maximum=0.5),
    P("input_noise", "float", 0.0, "Input noise σ", "Gaussian noise added to every training input.", minimum=0, maximum=5),
]

# --------------------------------------------------------------------------- training
DEVICES = ("auto", "cpu", "cuda", "mps")
TRAINING_SPECS = [
    P("epochs", "int", 10, "Epochs", "Passes over the training split.", minimum=1, maximum=100_000),
    P("batch_size", "int", 64, "Batch size", "Samples per update.", minimum=1, maximum=1_000_000),
    P("device", "choice", "auto", "Device", "auto picks CUDA, then MPS, then the CPU.", choices=DEVICES),
    P("seed", "int", 0, "Seed", "Seeds initialisation, shuffling and dropout: equal seeds give equal runs.", minimum=0),
    P("log_every", "int", 20, "Read metrics every", "Steps between reading loss values off the device.", unit="steps", minimum=1),
    P("probe_every", "int", 50, "Probe every", "Steps between histogram/filter snapshots for the monitor.", unit="steps", minimum=1),
    P("checkpoint", "bool", True, "Checkpoint each epoch", "Keep the last good state on disk; a crashed run resumes from it."),
]

# --------------------------------------------------------------------------- sections
TAGGED_SECTIONS = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES}
SECTION_TITLES = {"data": "Data", "optimizer": "Optimizer", "schedule": "Schedule", "initialization": "Initialization",
                  "regularization": "Regularization", "training": "Training"}


def variant_specs(section: str, variant: str) -> list[ParamSpec]:
    """Hyperparameter specs of one optimizer or schedule variant (schedules include `interval`)."""
    table = TAGGED_SECTIONS[section]
    specs = list(table[variant][2])
    return [_INTERVAL, *specs] if section == "schedule" else specs


def default_optimizer(kind: str = "adam") -> dict:
    return {"type": kind, **defaults(variant_specs("optimizer", kind))}


def default_schedule(kind: str = "constant") -> dict:
    return {"type": kind, **defaults(variant_specs("schedule", kind))}


def default_settings() -> dict:
    data = defaults(DATA_SPECS)
    data["augmentation"] = defaults(AUGMENTATION_SPECS)
    return {
        "data": data,
        "optimizer": default_optimizer(),
        "schedule": default_schedule(),
        "initialization": defaults(INIT_SPECS),
        "regularization": defaults(REGULARIZATION_SPECS),
        "training": defaults(TRAINING_SPECS),
    }


def validate_tagged(section: str, value: dict, path: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(path, f"expected an object, got {type(value).__name__}")
    table = TAGGED_SECTIONS[section]
    kind = value.get("type")
    if not isinstance(kind, str) or kind not in table:
        raise ValidationError(f"{path}.type", f"{kind!r} is not one of: {', '.join(table)}")
    rest = {k: v for k, v in value.items() if k != "type"}
    return {"type": kind, **coerce_all(variant_specs(section, kind), rest, path)}


def validate_init(value: dict, path: str) -> dict:
    return coerce_all(INIT_SPECS, value, path)


def validate_settings(raw: dict, path: str = "") -> dict:
    """Validate every section (missing sections and keys take their defaults)."""
    out = default_settings()
    prefix = f"{path}." if path else ""
    for name in SECTION_TITLES:
        if name not in raw:
            continue
        value = raw[name]
        where = prefix + name
        if name in TAGGED_SECTIONS:
            out[name] = validate_tagged(name, value, where)
        elif name == "data":
            if not isinstance(value, dict):
                raise ValidationError(where, f"expected an object, got {type(value).__name__}")
            plain = {k: v for k, v in value.items() if k != "augmentation"}
            out["data"] = coerce_all(DATA_SPECS, plain, where)
            out["data"]["augmentation"] = coerce_all(AUGMENTATION_SPECS, value.get("augmentation", {}), where + ".augmentation")
        else:
            specs = {"initialization": INIT_SPECS, "regularization": REGULARIZATION_SPECS, "training": TRAINING_SPECS}[name]
            out[name] = coerce_all(specs, value, where)
    sched = out["schedule"]
    if sched["type"] == "piecewise" and len(sched["factors"]) != len(sched["milestones"]) + 1:
        raise ValidationError(prefix + "schedule.factors",
                              f"needs one more factor than milestones ({len(sched['milestones']) + 1}), got {len(sched['factors'])}")
    return out


def copy_settings(settings: dict) -> dict:
    return copy.deepcopy(settings)
