"""The standalone training script: one train.py that reproduces a project without NetBuilder.

The script holds the network's code and everything training needs, written out for the
project's own settings only (the chosen optimizer, schedule, initialization and regularization
appear as plain code, not as a general engine):

* data (script_data.py): Fashion-MNIST / MNIST / KMNIST from their IDX files (in --data-root or
  the project's data folder, else ./data, $NETBUILDER_DATA, NetBuilder's user data folder and
  /usr/share/datasets/<name>; --download fetches them), CIFAR-10 through torchvision, an image
  folder, a CSV table, an NPZ archive, or the 2-D toy generators (copied from NetBuilder);
* NetBuilder's validation split, training limit, adaptation to the Input node, preprocessing
  statistics from the training split only, per-epoch shuffle and augmentation streams, so that
  a single-process run takes the steps a NetBuilder run takes;
* initialization (the seed, the scheme and per-node overrides), the optimizer with parameter
  groups for L2/L1 and decoupled weight decay, the learning-rate schedule, gradient clipping,
  max-norm, input noise, label smoothing, early stopping, epochs and batch size;
* DistributedDataParallel when launched by torchrun (RANK/WORLD_SIZE set): NCCL on GPUs, Gloo on
  CPUs, a DistributedSampler per epoch, gradients averaged, metrics reduced over all
  processes; only rank 0 prints and writes files.

Export checks the script before keeping it: it must compile and import without running,
its network must reproduce NetBuilder's outputs with the exported weights, its initialization
must give the same initial weights as NetBuilder for the project's seed, and its learning-rate
schedule must match NetBuilder's over the whole run.
"""
from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path

from . import verify
from .common import ExportError, ExportReport, Prepared, Staging, first_line
from .python_code import docstring_safe, import_file, model_body
from .script_data import CLASSES, augmentation_active, augmentation_section, check_data, data_section


def _lit(value) -> str:
    """A Python literal for settings values (None, bools, numbers, strings, lists, dicts)."""
    if isinstance(value, float):
        if math.isinf(value):
            return "math.inf" if value > 0 else "-math.inf"
        return repr(value)
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_lit(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)}: {_lit(v)}" for k, v in value.items()) + "}"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


def _block(text: str) -> str:
    return textwrap.dedent(text).strip("\n") + "\n"


# =========================================================================== initialization
_GAINS = {"relu": "math.sqrt(2.0)", "leaky_relu": "math.sqrt(2.0 / (1 + 0.01 ** 2))", "tanh": "5.0 / 3.0",
          "sigmoid": "1.0", "linear": "1.0", "selu": "3.0 / 4.0"}


def _fill_branches(schemes: list[dict]) -> list[str]:
    kinds = []
    for s in schemes:
        if s["weight"] not in kinds and s["weight"] != "default":
            kinds.append(s["weight"])
    lines = []
    for i, kind in enumerate(kinds):
        head = "if" if i == 0 else "elif"
        lines.append(f'    {head} kind == "{kind}":')
        body = {
            "zeros": ["block.zero_()"],
            "constant": ['block.fill_(scheme["value"])'],
            "normal": ['block.normal_(0.0, scheme["std"])'],
            "uniform": ['block.uniform_(-scheme["r"], scheme["r"])'],
            "xavier-normal": ['block.normal_(0.0, scheme["gain"] * math.sqrt(2.0 / (fan_in + fan_out)))'],
            "xavier-uniform": ['bound = scheme["gain"] * math.sqrt(6.0 / (fan_in + fan_out))',
                               "block.uniform_(-bound, bound)"],
            "kaiming-normal": ['fan = fan_in if scheme["mode"] == "fan_in" else fan_out',
                               'block.normal_(0.0, GAINS[scheme["nonlinearity"]] / math.sqrt(fan))'],
            "kaiming-uniform": ['fan = fan_in if scheme["mode"] == "fan_in" else fan_out',
                                'bound = math.sqrt(3.0) * GAINS[scheme["nonlinearity"]] / math.sqrt(fan)',
                                "block.uniform_(-bound, bound)"],
            "orthogonal": ["fresh = torch.empty(block.shape, dtype=block.dtype, device=block.device)",
                           'nn.init.orthogonal_(fresh, gain=scheme["gain"])',
                           "block.copy_(fresh)  # RNN gate blocks are views: fill a real tensor, then copy"],
            "lecun-normal": ["block.normal_(0.0, 1.0 / math.sqrt(fan_in))"],
        }[kind]
        lines += [f"        {b}" for b in body]
    return lines


def _init_section(prep: Prepared) -> str:
    from ..train.init import complete
    settings = prep.project.settings
    base = complete(settings["initialization"])
    overrides = {n.name: complete(n.init) for n in prep.graph.nodes.values() if n.init is not None}
    schemes = [base, *overrides.values()]
    any_weights = any(s["weight"] != "default" for s in schemes)
    gains = sorted({s["nonlinearity"] for s in schemes if s["weight"].startswith("kaiming")})
    out = []
    out.append(f"INIT = {_lit(_compact_init(base))}")
    out.append(f"INIT_OVERRIDES = {_lit({k: _compact_init(v) for k, v in overrides.items()})}  # node name → scheme")
    if gains:
        out.append("GAINS = {" + ", ".join(f'"{g}": {_GAINS[g]}' for g in gains) + "}")
    out.append(f"NORM_LAYERS = {_NORM_TUPLE}")
    out.append("")
    out.append("")
    if any_weights:
        out.append(_block('''
            def weight_blocks(module):
                """(tensor, fan_in, fan_out) for each block initialised as a unit: a Linear or Embedding
                matrix, a convolution kernel (fans count the taps), or one gate of a recurrent weight."""
                if isinstance(module, nn.Linear):
                    yield module.weight, module.weight.shape[1], module.weight.shape[0]
                elif isinstance(module, (nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                    w = module.weight  # (out, in / groups, *kernel)
                    taps = math.prod(w.shape[2:])
                    yield w, w.shape[1] * taps, w.shape[0] // module.groups * taps
                elif isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                    w = module.weight  # (in, out / groups, *kernel)
                    taps = math.prod(w.shape[2:])
                    yield w, w.shape[0] // module.groups * taps, w.shape[1] * taps
                elif isinstance(module, nn.RNNBase):
                    gates = {"LSTM": 4, "GRU": 3}.get(module.mode, 1)
                    for name, w in module.named_parameters(recurse=False):
                        if name.startswith("weight_hr"):
                            yield w, w.shape[1], w.shape[0]
                        elif name.startswith("weight"):
                            rows = w.shape[0] // gates
                            for g in range(gates):
                                yield w[g * rows:(g + 1) * rows], w.shape[1], rows
                elif isinstance(module, nn.Embedding):
                    yield module.weight, module.weight.shape[1], module.weight.shape[0]
            '''))
        out.append("")
        out.append("def fill_block(block, scheme, fan_in, fan_out):")
        out.append('    kind = scheme["weight"]')
        out += _fill_branches(schemes)
        out.append("")
        out.append("")
    out.append(_block('''
        def biases(module):
            """(bias, share of the value): recurrent layers put the value in bias_ih and 0 in bias_hh."""
            if isinstance(module, nn.RNNBase):
                for name, b in module.named_parameters(recurse=False):
                    if name.startswith("bias_ih"):
                        yield b, 1.0
                    elif name.startswith("bias_hh"):
                        yield b, 0.0
            elif isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
                                     nn.ConvTranspose3d)) and module.bias is not None:
                yield module.bias, 1.0
        '''))
    out.append("")
    init_lines = [
        "@torch.no_grad()",
        "def initialize(net):",
        '    """The project\'s initialization: INIT for every layer, INIT_OVERRIDES for named nodes;',
        '    normalization layers start as the identity (weight 1, bias 0)."""',
        "    for node_name, child in net.named_children():",
        "        scheme = INIT_OVERRIDES.get(node_name, INIT)",
        "        for module in child.modules():",
        "            if isinstance(module, NORM_LAYERS):",
        '                if getattr(module, "weight", None) is not None:',
        "                    module.weight.fill_(1.0)",
        '                if getattr(module, "bias", None) is not None:',
        "                    module.bias.zero_()",
        "                continue",
    ]
    if any_weights:
        init_lines += [
            '            if scheme["weight"] != "default":',
            "                for block, fan_in, fan_out in weight_blocks(module):",
            "                    fill_block(block, scheme, max(fan_in, 1), max(fan_out, 1))",
            "                if isinstance(module, nn.Embedding) and module.padding_idx is not None:",
            "                    module.weight[module.padding_idx].zero_()",
        ]
    init_lines += [
        '            if scheme["bias"] != "default":',
        '                value = scheme["bias_value"] if scheme["bias"] == "constant" else 0.0',
        "                for bias, share in biases(module):",
        "                    bias.fill_(value * share)",
    ]
    out.append("\n".join(init_lines) + "\n")
    return "\n".join(out)


def _compact_init(scheme: dict) -> dict:
    """Only the keys the scheme uses."""
    keys = {"weight", "bias"}
    keys |= {"constant": {"value"}, "normal": {"std"}, "uniform": {"r"}, "xavier-normal": {"gain"},
             "xavier-uniform": {"gain"}, "orthogonal": {"gain"}, "kaiming-normal": {"mode", "nonlinearity"},
             "kaiming-uniform": {"mode", "nonlinearity"}}.get(scheme["weight"], set())
    if scheme["bias"] == "constant":
        keys.add("bias_value")
    return {k: scheme[k] for k in ("weight", "value", "std", "r", "gain", "mode", "nonlinearity", "bias",
                                   "bias_value") if k in keys}


_NORM_TUPLE = ("(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.SyncBatchNorm, nn.InstanceNorm1d, nn.InstanceNorm2d,\n"
               "               nn.InstanceNorm3d, nn.LayerNorm, nn.GroupNorm, nn.LocalResponseNorm)")


# =========================================================================== optimizer
_OPTIMIZER_CALLS = {
    "sgd": ("SGD", lambda s: f"lr={s['lr']!r}, momentum={s['momentum']!r}, dampening={s['dampening']!r}, "
                             f"nesterov={s['nesterov']!r}"),
    "adagrad": ("Adagrad", lambda s: f"lr={s['lr']!r}, lr_decay={s['lr_decay']!r}, "
                                     f"initial_accumulator_value={s['initial_accumulator_value']!r}, eps={s['eps']!r}"),
    "rmsprop": ("RMSprop", lambda s: f"lr={s['lr']!r}, alpha={s['alpha']!r}, eps={s['eps']!r}, "
                                     f"momentum={s['momentum']!r}, centered={s['centered']!r}"),
    "adadelta": ("Adadelta", lambda s: f"lr={s['lr']!r}, rho={s['rho']!r}, eps={s['eps']!r}"),
    "adam": ("Adam", lambda s: f"lr={s['lr']!r}, betas=({s['beta1']!r}, {s['beta2']!r}), eps={s['eps']!r}, "
                               f"amsgrad={s['amsgrad']!r}"),
    "adamw": ("AdamW", lambda s: f"lr={s['lr']!r}, betas=({s['beta1']!r}, {s['beta2']!r}), eps={s['eps']!r}, "
                                 f"amsgrad={s['amsgrad']!r}"),
    "nadam": ("NAdam", lambda s: f"lr={s['lr']!r}, betas=({s['beta1']!r}, {s['beta2']!r}), eps={s['eps']!r}, "
                                 f"momentum_decay={s['momentum_decay']!r}"),
    "radam": ("RAdam", lambda s: f"lr={s['lr']!r}, betas=({s['beta1']!r}, {s['beta2']!r}), eps={s['eps']!r}"),
    "adamax": ("Adamax", lambda s: f"lr={s['lr']!r}, betas=({s['beta1']!r}, {s['beta2']!r}), eps={s['eps']!r}"),
}


def _optimizer_section(prep: Prepared) -> str:
    from ..core.settings import OPTIMIZERS, default_optimizer
    settings = prep.project.settings
    opt = {**default_optimizer(settings["optimizer"]["type"]), **settings["optimizer"]}
    kind = opt["type"]
    reg = settings["regularization"]
    if kind == "sgd" and opt["nesterov"] and (opt["momentum"] <= 0 or opt["dampening"] != 0):
        raise ExportError("Nesterov momentum needs a momentum above 0 and a dampening of 0 (Optimizer settings)")
    cls, arguments = _OPTIMIZER_CALLS[kind]
    decay = float(reg["weight_decay"])
    out = [_block('''
        def parameter_groups(net):
            """Trainable parameters grouped by penalty factor: the node's L2_MULTIPLIERS entry (default 1),
            and 0 for biases, normalization layers and other vectors when EXCLUDE_BIAS_AND_NORM is set.
            The factor scales the L2/L1 penalties and the decoupled weight decay."""
            groups, seen = {}, set()
            for module_name, module in net.named_modules():
                for local_name, param in module.named_parameters(recurse=False):
                    if not param.requires_grad or id(param) in seen:
                        continue
                    seen.add(id(param))
                    name = f"{module_name}.{local_name}" if module_name else local_name
                    factor = float(L2_MULTIPLIERS.get(name.split(".", 1)[0], 1.0))
                    if EXCLUDE_BIAS_AND_NORM and (isinstance(module, NORM_LAYERS) or local_name.startswith("bias")
                                                  or param.dim() < 2):
                        factor = 0.0
                    group = groups.setdefault(factor, {"params": [], "param_names": [], "l2_factor": factor})
                    group["params"].append(param)
                    group["param_names"].append(name)
            return list(groups.values())
        ''')]
    title = OPTIMIZERS[kind][0]
    body = ["", "", "def build_optimizer(net):"]
    if kind == "adamw":
        body.append(f'    """{title}; decoupled weight decay {decay:g} × each group\'s factor."""')
        body.append("    groups = parameter_groups(net)")
        body.append("    for group in groups:")
        body.append('        group["weight_decay"] = WEIGHT_DECAY * group["l2_factor"]')
        body.append(f"    return torch.optim.{cls}(groups, weight_decay=0.0, {arguments(opt)})")
    elif decay > 0:
        body.append(f'    """{title} with decoupled weight decay: w ← w − lr·wd·w before each update (AdamW\'s rule)."""')
        body.append("    groups = parameter_groups(net)")
        body.append("    for group in groups:")
        body.append('        group["decoupled_decay"] = WEIGHT_DECAY * group["l2_factor"]')
        body.append(f"    optimizer = torch.optim.{cls}(groups, weight_decay=0.0, {arguments(opt)})")
        body.append("    optimizer.register_step_pre_hook(decoupled_decay)")
        body.append("    return optimizer")
        out.append(_block('''


            @torch.no_grad()
            def decoupled_decay(optimizer, args, kwargs):
                """w ← w·(1 − lr·wd) on the parameters this step updates, before the update."""
                for group in optimizer.param_groups:
                    rate = group.get("decoupled_decay", 0.0)
                    params = [p for p in group["params"] if p.grad is not None]
                    if rate and params:
                        torch._foreach_mul_(params, 1.0 - group["lr"] * rate)
            '''))
    else:
        body.append(f'    """{title} over the parameter groups (no decoupled weight decay)."""')
        body.append(f"    return torch.optim.{cls}(parameter_groups(net), weight_decay=0.0, {arguments(opt)})")
    out.append("\n".join(body) + "\n")
    return "".join(out)


# =========================================================================== schedule
def _schedule_formula(s: dict) -> tuple[str, list[str]]:
    """(docstring, body lines) of lr_factor(t, total) for the schedule."""
    kind = s["type"]
    if kind in ("constant", "plateau"):
        return ("A constant rate" if kind == "constant" else "Reduce-on-plateau changes the rate in Scheduler; no plan",
                ["return 1.0"])
    if kind == "step":
        return (f"Step decay: γ^floor(t / step_size), γ = {s['gamma']!r}, step_size = {s['step_size']}",
                [f"return {s['gamma']!r} ** (t // {s['step_size']})"])
    if kind == "piecewise":
        return ("Piecewise constant: factors[i] where i = number of milestones ≤ t",
                [f"milestones, factors = {_lit(s['milestones'])}, {_lit(s['factors'])}",
                 "return float(factors[sum(1 for m in milestones if m <= t)])"])
    if kind == "exponential":
        return f"Exponential decay: exp(−k·t), k = {s['k']!r}", [f"return math.exp(-{s['k']!r} * t)"]
    if kind == "inverse-time":
        return f"1/t decay: 1 / (1 + k·t), k = {s['k']!r}", [f"return 1.0 / (1.0 + {s['k']!r} * t)"]
    if kind == "linear":
        return (f"Linear from 1 to {s['floor_fraction']!r} at t = τ = {s['tau']}, then constant",
                [f"tau, floor = {s['tau']}, {s['floor_fraction']!r}",
                 "if t >= tau:", "    return float(floor)", "return (1.0 - t / tau) + (t / tau) * floor"])
    if kind == "cosine":
        return (f"Linear warm-up over {s['warmup']} intervals, then half a cosine down to {s['min_fraction']!r}",
                [f"warmup, floor = {s['warmup']}, {s['min_fraction']!r}",
                 "if t < warmup:", "    return (t + 1) / warmup",
                 "span = total - warmup",
                 "progress = 1.0 if span <= 0 else min((t - warmup) / span, 1.0)",
                 "return floor + (1.0 - floor) * (1.0 + math.cos(math.pi * progress)) / 2.0"])
    if kind == "one-cycle":
        return ("One-cycle (cosine): from 1/div up to 1 over pct_start of the run, then down to 1/final_div",
                [f"start, end = 1.0 / {s['div_factor']!r}, 1.0 / {s['final_div_factor']!r}",
                 f"peak_at, last = {s['pct_start']!r} * total - 1.0, total - 1.0",
                 "if t <= peak_at:",
                 "    progress = t / peak_at if peak_at > 0 else 1.0",
                 "    return 1.0 + (start - 1.0) * (1.0 + math.cos(math.pi * progress)) / 2.0",
                 "span = last - peak_at",
                 "progress = 1.0 if span <= 0 else min((t - peak_at) / span, 1.0)",
                 "return end + (1.0 - end) * (1.0 + math.cos(math.pi * progress)) / 2.0"])
    raise ExportError(f"the training script has no formula for the schedule {kind!r}")


def _schedule_section(prep: Prepared) -> str:
    from ..train.schedules import complete
    s = complete(prep.project.settings["schedule"])
    doc, body = _schedule_formula(s)
    lines = ["def lr_factor(t, total):",
             f'    """{doc}: the factor on the base rate at interval t (from 0) of `total` intervals."""']
    lines += [f"    {b}" for b in body]
    out = "\n".join(lines) + "\n\n\n"
    if s["type"] == "plateau":
        mode = "max" if s["metric"] == "val_accuracy" else "min"
        compare = ("value > self.best * (1.0 + threshold)" if mode == "max" else "value < self.best * (1.0 - threshold)")
        out += _block(f'''
            class Scheduler:
                """Reduce on plateau: after more than {s['patience']} epochs without a relative improvement of
                {s['threshold']!r} in {s['metric']}, lr ← max(lr·{s['factor']!r}, {s['min_lr']!r})."""

                def __init__(self, optimizer, epochs, steps_per_epoch):
                    self.optimizer = optimizer
                    self.best = {'-math.inf' if mode == 'max' else 'math.inf'}
                    self.bad_epochs = 0

                def step_batch(self):
                    pass

                def step_epoch(self, metrics):
                    value = metrics.get({s['metric']!r})
                    if value is None:
                        return
                    threshold = {s['threshold']!r}
                    if {compare}:
                        self.best, self.bad_epochs = value, 0
                    else:
                        self.bad_epochs += 1
                    if self.bad_epochs > {s['patience']}:
                        for group in self.optimizer.param_groups:
                            new = max(group["lr"] * {s['factor']!r}, {s['min_lr']!r})
                            if group["lr"] - new > 1e-8:
                                group["lr"] = new
                        self.bad_epochs = 0

                def state_dict(self):
                    return {{"best": self.best, "bad_epochs": self.bad_epochs}}

                def load_state_dict(self, state):
                    self.best, self.bad_epochs = state["best"], state["bad_epochs"]
            ''')
    else:
        per_batch = s["interval"] == "batch"
        batch_step = "self.t += 1\n        self.apply()" if per_batch else "pass"
        epoch_step = "pass" if per_batch else "self.t += 1\n        self.apply()"
        out += f'''class Scheduler:
    """Sets each group's rate to base · lr_factor(t, total), t counting {'batches' if per_batch else 'epochs'}."""

    def __init__(self, optimizer, epochs, steps_per_epoch):
        self.optimizer = optimizer
        self.total = {'epochs * steps_per_epoch' if per_batch else 'epochs'}
        self.t = 0
        self.base_lrs = [group["lr"] for group in optimizer.param_groups]
        self.apply()

    def apply(self):
        factor = lr_factor(self.t, self.total)
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor

    def step_batch(self):
        {batch_step}

    def step_epoch(self, metrics):
        {epoch_step}

    def state_dict(self):
        return {{"t": self.t, "base_lrs": self.base_lrs}}

    def load_state_dict(self, state):
        self.t, self.base_lrs = state["t"], state["base_lrs"]
        self.apply()
'''
    return out


# =========================================================================== loss and regularization
def _loss_section(prep: Prepared) -> str:
    loss = prep.graph.output_nodes()[0].params["loss"]
    eps = float(prep.project.settings["regularization"]["label_smoothing"])
    if loss == "cross-entropy" and not eps:
        return _block('''
            def criterion(outputs, targets):
                """Cross-entropy of the class scores (targets: class indices or class probabilities)."""
                if targets.is_floating_point() and targets.shape != outputs.shape:
                    targets = targets.long()
                return F.cross_entropy(outputs, targets)
            ''')
    if loss == "cross-entropy":
        return _block(f'''
            def criterion(outputs, targets):
                """Cross-entropy with label smoothing ε = {eps!r}: the true class gets 1 − ε, the others ε/(k − 1) each."""
                classes = outputs.shape[1]
                smoothing = {eps!r} * classes / (classes - 1) if classes > 1 else 0.0  # PyTorch spreads ε over all k classes
                if targets.is_floating_point() and targets.shape != outputs.shape:
                    targets = targets.long()
                return F.cross_entropy(outputs, targets, label_smoothing=smoothing)
            ''')
    if loss == "mse":
        return _block(f'''
            def criterion(outputs, targets):
                """Mean squared error; integer class labels become {'smoothed ' if eps else ''}one-hot vectors."""
                if not targets.is_floating_point() and outputs.dim() == 2 and outputs.shape[1] > 1:
                    classes = outputs.shape[1]
                    off = {eps!r} / (classes - 1)
                    targets = torch.full(outputs.shape, off, dtype=outputs.dtype, device=outputs.device).scatter_(
                        1, targets.long().unsqueeze(1), 1.0 - {eps!r})
                else:
                    targets = targets.to(outputs.dtype).reshape(outputs.shape)
                return F.mse_loss(outputs, targets)
            ''')
    smoothing = f"\n    targets = targets * (1.0 - 2.0 * {eps!r}) + {eps!r}" if eps else ""
    note = f"; targets smoothed to t·(1 − 2ε) + ε, ε = {eps!r}" if eps else ""
    return f'''def criterion(outputs, targets):
    """Binary cross-entropy on logits{note}."""
    if not targets.is_floating_point() and outputs.dim() == 2 and outputs.shape[1] > 1 and targets.dim() == 1:
        targets = F.one_hot(targets.long(), outputs.shape[1])
    targets = targets.to(outputs.dtype).reshape(outputs.shape){smoothing}
    return F.binary_cross_entropy_with_logits(outputs, targets)
'''


def _regularization_section(prep: Prepared) -> tuple[str, dict]:
    reg = prep.project.settings["regularization"]
    parts = []
    flags = {"penalty": reg["l1"] > 0 or reg["l2"] > 0, "clip": reg["clip_mode"] != "none",
             "max_norm": reg["max_norm"] > 0, "early": bool(reg["early_stopping"])}
    if flags["penalty"]:
        terms = []
        if reg["l2"]:
            terms.append(f"(0.5 * {reg['l2']!r} * factor) * sum(p.square().sum() for p in params)")
        if reg["l1"]:
            terms.append(f"({reg['l1']!r} * factor) * sum(p.abs().sum() for p in params)")
        names = " + ".join(n for n, v in (("λ2/2·m·‖w‖²", reg["l2"]), ("λ1·m·‖w‖₁", reg["l1"])) if v)
        parts.append(_block(f'''
            def penalty(groups):
                """{names} summed over the penalised groups (m = the group's factor), added to the loss."""
                total = 0.0
                for factor, params in groups:
                    total = total + {' + '.join(terms)}
                return total
            '''))
    if flags["max_norm"]:
        parts.append(_block(f'''
            @torch.no_grad()
            def apply_max_norm(net, limit={reg['max_norm']!r}):
                """Rescale each unit's incoming weight vector to norm ≤ limit (rows of Linear, filters of Conv)."""
                for module in net.modules():
                    if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)):
                        w = module.weight
                        norms = torch.linalg.vector_norm(w.reshape(w.shape[0], -1), dim=1)
                        w.mul_((limit / norms.clamp_min(1e-12)).clamp(max=1.0).view(-1, *([1] * (w.dim() - 1))))
                    elif isinstance(module, (nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)):
                        w = module.weight  # (in, out / groups, *kernel)
                        groups = module.groups
                        per_in, per_out = w.shape[0] // groups, w.shape[1]
                        norms = w.reshape(groups, per_in, per_out, -1).square().sum(dim=(1, 3)).sqrt()
                        scale = (limit / norms.clamp_min(1e-12)).clamp(max=1.0).repeat_interleave(per_in, dim=0)
                        w.mul_(scale.view(w.shape[0], per_out, *([1] * (w.dim() - 2))))
            '''))
    if flags["early"]:
        mode = "max" if reg["es_metric"].endswith("accuracy") else "min"
        better = (f"value > self.best + {reg['min_delta']!r}" if mode == "max"
                  else f"value < self.best - {reg['min_delta']!r}")
        parts.append(_block(f'''
            class EarlyStopping:
                """Stop after {reg['patience']} epochs without improvement of {reg['es_metric']} (by more than
                {reg['min_delta']!r}){'; the best weights are kept and restored' if reg['restore_best'] else ''}."""

                def __init__(self):
                    self.best, self.best_epoch, self.wait, self.best_state = None, None, 0, None

                def update(self, epoch, metrics, net):
                    value = metrics.get({reg['es_metric']!r})
                    if value is None:
                        value = metrics.get({('train_' + reg['es_metric'][4:])!r})
                    if value is None:
                        return False
                    if self.best is None and math.isfinite(value) or self.best is not None and {better}:
                        self.best, self.best_epoch, self.wait = value, epoch, 0
                        if {reg['restore_best']!r}:
                            self.best_state = {{k: v.detach().to("cpu", copy=True) for k, v in net.state_dict().items()}}
                        return False
                    self.wait += 1
                    return self.wait >= {reg['patience']}
            '''))
    return "\n\n".join(parts), flags


# =========================================================================== the whole script
_HEADER = '''#!/usr/bin/env python3
"""Train {name} — a standalone training script generated by NetBuilder.

{summary}

    python train.py                               # one process; a GPU when there is one
    python train.py --epochs 1 --limit 2000       # a quick check on a subset
    torchrun --nproc_per_node=4 train.py          # 4 processes with DistributedDataParallel
    torchrun --nnodes=2 --nproc_per_node=8 --rdzv-backend=c10d --rdzv-endpoint=HOST:29500 train.py

Under torchrun each process loads the data, takes its share of every epoch through a
DistributedSampler, and the processes average their gradients (NCCL on GPUs, Gloo on CPUs).
--batch-size is the global batch, split evenly between the processes, so N processes take the
same steps as one. Only rank 0 prints and writes --out/model.pt (the state dict), metrics.csv,
summary.json and, after every epoch, checkpoint.pt (continue with --resume).
"""
import argparse
import csv
import gzip
import json
import math
import os
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DistributedSampler
'''

_MAIN = '''
# ============================================================================ distributed set-up
def setup(requested_device):
    """(rank, world size, device). torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them this
    is a single process."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    if requested_device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda was requested but no CUDA GPU is available")
    if requested_device in ("auto", "cuda") and torch.cuda.is_available():
        device = torch.device("cuda", local_rank % torch.cuda.device_count())
        torch.cuda.set_device(device)
    elif requested_device in ("auto", "mps") and world == 1 and torch.backends.mps.is_available():
        device = torch.device("mps")
    else:
        device = torch.device("cpu")
    if world > 1:
        dist.init_process_group(backend="nccl" if device.type == "cuda" else "gloo")
    return rank, world, device


def all_sum(values, world):
    """Sum a tensor of totals over all processes."""
    if world > 1:
        dist.all_reduce(values, op=dist.ReduceOp.SUM)
    return values


def seed_everything(seed):
    random.seed(seed)
    np.random.seed(seed % 2 ** 32)
    torch.manual_seed(seed)


def build_model():
    """The network with the project's initial weights (the same on every process for the same seed)."""
    seed_everything(SEED)
    net = {class_name}()
    initialize(net)
    return net


# ============================================================================ training
@torch.no_grad()
def evaluate(net, split, normalizer, device, rank, world, batch_size=1000):
    """(loss, accuracy or None) over a split; each process takes every world-th sample."""
    if split is None or len(split[1]) == 0:
        return None, None
    x, y = split
    was_training = net.training
    net.eval()
    totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, count
    mine = torch.arange(rank, len(y), world)
    for start in range(0, len(mine), batch_size):
        index = mine[start:start + batch_size]
        xb, yb = normalizer(x[index].to(device)), y[index].to(device)
        out = net(xb)
        totals[0] += criterion(out, yb).double() * len(index)
        if CLASSIFICATION:
            totals[1] += (out.argmax(1) == yb).sum()
        totals[2] += len(index)
    net.train(was_training)
    loss_sum, correct, count = all_sum(totals, world).tolist()
    return loss_sum / max(count, 1), (correct / max(count, 1) if CLASSIFICATION else None)


def main():
    global SEED
    parser = argparse.ArgumentParser(description=__doc__.split("\\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"passes over the training split (default {{EPOCHS}})")
    parser.add_argument("--batch-size", type=int, default=BATCH_SIZE, help=f"global batch size (default {{BATCH_SIZE}})")
    parser.add_argument("--limit", type=int, help="use at most N training samples (a quick run)")
    parser.add_argument("--data-root", help="folder holding the dataset files")
    parser.add_argument("--data-path", help="the CSV/NPZ file or image folder (default: the project's)")
    parser.add_argument("--download", action="store_true", help="download the dataset with torchvision if missing")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default=DEVICE, help="where to train")
    parser.add_argument("--seed", type=int, help=f"random seed (default {{SEED}})")
    parser.add_argument("--out", default="run", help="folder for model.pt, metrics.csv, summary.json, checkpoint.pt")
    parser.add_argument("--resume", action="store_true", help="continue from --out/checkpoint.pt")
    args = parser.parse_args()
    SEED = args.seed if args.seed is not None else SEED

    rank, world, device = setup(args.device)
    log = print if rank == 0 else (lambda *a, **k: None)
    out_dir = Path(args.out)
    if rank == 0:
        out_dir.mkdir(parents=True, exist_ok=True)

    splits, normalizer, source = load_data(args)
    normalizer.to(device)
    train, val, test = splits["train"], splits.get("val"), splits.get("test")
    if len(train[1]) == 0:
        raise SystemExit("the training split is empty; lower the validation fraction or raise the limit")
    if device.type == "cuda":  # the training split lives on the GPU; batches are index gathers
        train = (train[0].to(device), train[1].to(device))

    net = build_model().to(device)
{penalised_line}
    optimizer = build_optimizer(net)
    per_process = math.ceil(args.batch_size / world)
    if per_process * world != args.batch_size:
        log(f"note: batch size {{args.batch_size}} is not divisible by {{world}} processes; each takes {{per_process}}")
    sampler = EpochSampler(range(len(train[1])), num_replicas=world, rank=rank, shuffle=True, seed=SEED)
    steps_per_epoch = math.ceil(len(sampler) / per_process)
    scheduler = Scheduler(optimizer, args.epochs, steps_per_epoch)
{augmenter_line}
    early_stopping = {early_stopping}
    model = net
    if world > 1:
        model = DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None,
                                        find_unused_parameters=FIND_UNUSED_PARAMETERS)

    history, start_epoch = [], 1
    checkpoint_path = out_dir / "checkpoint.pt"
    if args.resume and checkpoint_path.is_file():
        state = torch.load(checkpoint_path, map_location=device, weights_only=True)
        net.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        history, start_epoch = json.loads(state["history"]), int(state["epoch"]) + 1
        log(f"resuming after epoch {{state['epoch']}}")
    if rank or start_epoch > 1:
        torch.manual_seed(SEED + 1_000_003 * rank + start_epoch)  # dropout differs between processes

    log(f"training {{NAME}} on {{device}} × {{world}}: {{len(train[1]):,}} samples "
        f"({{len(val[1]) if val else 0:,}} validation), "
        f"{{sum(p.numel() for p in net.parameters() if p.requires_grad):,}} parameters; data: {{source}}")
    started = time.perf_counter()
    epoch = start_epoch - 1
    stopped_early = False
    for epoch in range(start_epoch, args.epochs + 1):
        model.train()
        sampler.set_epoch(epoch - 1)  # epochs count from 0 in the shuffle's seed
{augmenter_epoch}
        order = torch.tensor(list(sampler), device=train[1].device)
        totals = torch.zeros(3, dtype=torch.float64, device=device)  # loss sum, correct, count
        epoch_start = time.perf_counter()
        for start in range(0, len(order), per_process):
            index = order[start:start + per_process]
            x, y = train[0][index].to(device, non_blocking=True), train[1][index].to(device, non_blocking=True)
{prepare_batch}
            out = model(x)
            loss = criterion(out, y)
            data_loss = loss.detach()
{penalty_line}
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
{clip_line}
            optimizer.step()
{max_norm_line}
            scheduler.step_batch()
            with torch.no_grad():
                totals[0] += data_loss.double() * len(index)
                if CLASSIFICATION:
                    target = y if y.dim() == 1 else y.argmax(1)
                    totals[1] += (out.argmax(1) == target).sum()
                totals[2] += len(index)
        loss_sum, correct, count = all_sum(totals, world).tolist()
        seconds = time.perf_counter() - epoch_start
        train_loss = loss_sum / max(count, 1)
        if not math.isfinite(train_loss):
            raise SystemExit(f"the loss became {{train_loss}} in epoch {{epoch}}: training diverged; lower the learning rate")
        val_loss, val_accuracy = evaluate(net, val, normalizer, device, rank, world)
        record = {{"epoch": epoch, "train_loss": train_loss,
                  "train_accuracy": correct / max(count, 1) if CLASSIFICATION else None,
                  "val_loss": val_loss, "val_accuracy": val_accuracy, "lr": optimizer.param_groups[0]["lr"],
                  "seconds": seconds, "samples_per_second": count / max(seconds, 1e-9)}}
        scheduler.step_epoch({{"val_loss": val_loss if val_loss is not None else train_loss,
                              "val_accuracy": val_accuracy if val_accuracy is not None else record["train_accuracy"]}})
        history.append(record)
        shown = "  ".join(f"{{k}} {{v:.4f}}" for k, v in record.items()
                          if k in ("train_loss", "train_accuracy", "val_loss", "val_accuracy") and v is not None)
        log(f"epoch {{epoch}}/{{args.epochs}}  {{shown}}  lr {{record['lr']:.3g}}  {{record['seconds']:.1f}}s")
        if rank == 0:
            write_metrics(out_dir / "metrics.csv", history)
            if CHECKPOINT:
                torch.save({{"epoch": epoch, "model": net.state_dict(), "optimizer": optimizer.state_dict(),
                            "scheduler": scheduler.state_dict(), "history": json.dumps(history)}},
                           out_dir / "checkpoint.tmp")
                os.replace(out_dir / "checkpoint.tmp", checkpoint_path)
        if early_stopping is not None and early_stopping.update(epoch, record, net):
            log(f"early stopping: no improvement for {{early_stopping.wait}} epochs (best epoch {{early_stopping.best_epoch}})")
            stopped_early = True
            break

    if early_stopping is not None and early_stopping.best_state is not None:
        net.load_state_dict(early_stopping.best_state)
        log(f"restored the weights of epoch {{early_stopping.best_epoch}}")
    test_loss, test_accuracy = evaluate(net, test, normalizer, device, rank, world)
    summary = {{"epochs": len(history), "last_epoch": epoch, "early_stopped": stopped_early, "test_loss": test_loss,
               "test_accuracy": test_accuracy, "seconds": time.perf_counter() - started, "processes": world,
               "device": str(device)}}
    if test_loss is not None:
        log(f"test loss {{test_loss:.4f}}" + (f"  accuracy {{test_accuracy:.4f}}" if test_accuracy is not None else ""))
    if rank == 0:
        torch.save(net.state_dict(), out_dir / "model.tmp")
        os.replace(out_dir / "model.tmp", out_dir / "model.pt")
        (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\\n")
        log(f"wrote {{out_dir / 'model.pt'}} in {{summary['seconds']:.1f}}s")
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def write_metrics(path, history):
    columns = ["epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "lr", "seconds", "samples_per_second"]
    with open(path, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        for row in history:
            writer.writerow({{k: "" if row.get(k) is None else row[k] for k in columns}})


if __name__ == "__main__":
    main()
'''


def _find_unused(prep: Prepared) -> bool:
    """Whether some layer with parameters does not lead to the Output (DDP must then look for unused ones)."""
    graph = prep.graph
    useful, stack = set(), [n.id for n in graph.output_nodes()]
    while stack:
        nid = stack.pop()
        if nid not in useful:
            useful.add(nid)
            stack.extend(graph.predecessors(nid))
    return any(prep.analysis.nodes[nid].params > 0 for nid in graph.nodes if nid not in useful)


def _settings_section(prep: Prepared, data_constants: dict) -> str:
    project = prep.project
    s = project.settings
    data, training, reg = s["data"], s["training"], s["regularization"]
    node = prep.graph.input_nodes()[0]
    loss = prep.graph.output_nodes()[0].params["loss"]
    out_shape = prep.analysis.nodes[prep.graph.output_nodes()[0].id].output_shape
    dataset = data["dataset"]
    file_based = dataset in ("csv", "npz", "image-folder")
    rows = [
        ("NAME", project.name, ""),
        ("DATASET", dataset, ""),
        *([("DATA_PATH", data["path"], "the data file or folder (--data-path overrides)")] if file_based else
          [("DATA_ROOT", data["root"], "folder with the dataset files (--data-root overrides)")]
          if dataset != "toy-2d" else []),
        ("LIMIT", data["limit"], "at most this many training samples (--limit overrides)"),
        ("VALIDATION_FRACTION", data["validation_fraction"], "of the training samples, held out"),
        ("SPLIT_SEED", data["split_seed"], "seed of the train/validation split"),
        ("PREPROCESSING", data["preprocessing"], "statistics from the training split only"),
        *[(k, v, "") for k, v in data_constants.items()],
        ("INPUT_KIND", node.params["kind"], ""),
        ("INPUT_SHAPE", tuple(prep.analysis.nodes[node.id].output_shape), "one sample, without the batch dimension"),
        ("CLASSES", CLASSES.get(dataset, []), ""),
        ("CLASSIFICATION", loss == "cross-entropy", f"the Output node's loss is {loss}"),
        ("NUM_OUTPUTS", out_shape[-1] if out_shape else 1, ""),
        ("EPOCHS", training["epochs"], ""),
        ("BATCH_SIZE", training["batch_size"], "global: split between the processes"),
        ("SEED", training["seed"], "seeds initialization, shuffling, dropout"),
        ("DEVICE", training["device"], "auto (CUDA, MPS, CPU), cpu, cuda or mps (--device overrides)"),
        ("CHECKPOINT", bool(training["checkpoint"]), "write checkpoint.pt after every epoch"),
        ("WEIGHT_DECAY", float(reg["weight_decay"]), "decoupled: w ← w − lr·wd·w"),
        ("EXCLUDE_BIAS_AND_NORM", bool(reg["exclude_bias_and_norm"]), "biases and norm layers are not penalised"),
        ("L2_MULTIPLIERS", {n.name: n.l2_multiplier for n in prep.graph.nodes.values() if n.l2_multiplier != 1.0},
         "node name → multiplier on its penalties and decay"),
        ("FIND_UNUSED_PARAMETERS", _find_unused(prep), "a layer with weights does not lead to the output"
         if _find_unused(prep) else ""),
    ]
    lines = []
    for name, value, comment in rows:
        if isinstance(value, tuple):
            literal = "(" + ", ".join(_lit(v) for v in value) + ("," if len(value) == 1 else "") + ")"
        else:
            literal = _lit(value)
        line = f"{name} = {literal}"
        if comment:
            line = f"{line:<38}  # {comment}"
        lines.append(line)
    return "\n".join(lines) + "\n"


def _describe_for_header(prep: Prepared) -> dict:
    from ..core.settings import OPTIMIZERS, SCHEDULES
    s = prep.project.settings
    data, reg = s["data"], s["regularization"]
    dataset = data["dataset"]
    data_text = {"toy-2d": f"{data['toy_points']} {data['toy_generator']} points", "csv": "the CSV table",
                 "npz": "the NPZ archive", "image-folder": "the image folder"}.get(dataset, dataset)
    if data["limit"]:
        data_text += f" (first {data['limit']:,} training samples)"
    reg_parts = []
    if reg["l2"]:
        reg_parts.append(f"L2 {reg['l2']:g}")
    if reg["l1"]:
        reg_parts.append(f"L1 {reg['l1']:g}")
    if reg["weight_decay"]:
        reg_parts.append(f"weight decay {reg['weight_decay']:g}")
    if reg["clip_mode"] != "none":
        reg_parts.append(f"gradient clipping ({reg['clip_mode']} {reg['clip_value']:g})")
    if reg["max_norm"]:
        reg_parts.append(f"max-norm {reg['max_norm']:g}")
    if reg["label_smoothing"]:
        reg_parts.append(f"label smoothing {reg['label_smoothing']:g}")
    if reg["input_noise"]:
        reg_parts.append(f"input noise {reg['input_noise']:g}")
    if reg["early_stopping"]:
        reg_parts.append(f"early stopping (patience {reg['patience']})")
    sched = s["schedule"]
    schedule_text = f"{SCHEDULES[sched['type']][0].lower()} schedule"
    if sched["type"] not in ("constant", "plateau"):
        schedule_text += f" (per {sched['interval']})"
    sentence = (f"It reproduces the project: {data_text}, {data['preprocessing']} preprocessing, the network below, "
                f"{_init_words(prep)}, the {OPTIMIZERS[s['optimizer']['type']][0]} optimizer "
                f"(lr {s['optimizer']['lr']:g}), a {schedule_text}"
                f"{(', ' + ', '.join(reg_parts)) if reg_parts else ''}, batch size {s['training']['batch_size']} "
                f"and {s['training']['epochs']} epochs, seed {s['training']['seed']}. It needs PyTorch and NumPy"
                f"{ {'cifar10': ' (and torchvision)', 'image-folder': ' (and Pillow)'}.get(dataset, '') } "
                f"— not NetBuilder.")
    return {"name": docstring_safe(prep.project.name), "summary": textwrap.fill(docstring_safe(sentence), 96)}


def _init_words(prep: Prepared) -> str:
    from ..train.init import complete
    s = complete(prep.project.settings["initialization"])
    weights = {"default": "PyTorch's default weights", "zeros": "all-zero weights",
               "constant": f"constant weights {s['value']:g}", "normal": f"N(0, {s['std']:g}²) weights",
               "uniform": f"U(±{s['r']:g}) weights", "xavier-normal": "Xavier-normal weights",
               "xavier-uniform": "Xavier-uniform weights",
               "kaiming-normal": f"Kaiming-normal weights ({s['mode']}, {s['nonlinearity']})",
               "kaiming-uniform": f"Kaiming-uniform weights ({s['mode']}, {s['nonlinearity']})",
               "orthogonal": "orthogonal weights", "lecun-normal": "LeCun-normal weights"}[s["weight"]]
    bias = {"zeros": "zero biases", "constant": f"biases {s['bias_value']:g}",
            "default": "PyTorch's default biases"}[s["bias"]]
    overrides = sum(1 for n in prep.graph.nodes.values() if n.init is not None)
    extra = f" ({overrides} node{'s' if overrides != 1 else ''} initialised their own way)" if overrides else ""
    return f"{weights} and {bias}{extra}"


def generate_script(prep: Prepared) -> str:
    """The text of train.py for the project (ExportError when a setting cannot be reproduced)."""
    check_data(prep)
    s = prep.project.settings
    reg = s["regularization"]
    data_code, data_constants = data_section(prep)
    augmentation = augmentation_section(prep) if augmentation_active(prep) else ""
    regularization, flags = _regularization_section(prep)

    if augmentation:
        prepare = ["x = normalizer.standardize(x)", "x, y = augmenter(x, y, normalizer.fill)",
                   "x = normalizer.to_input(x)"]
    else:
        prepare = ["x = normalizer(x)"]
    if reg["input_noise"] > 0:
        prepare.append(f"x = x + {reg['input_noise']!r} * torch.randn_like(x) if x.is_floating_point() else x  "
                       f"# input noise")
    penalty_line = "loss = loss + penalty(penalised)" if flags["penalty"] else ""
    if reg["clip_mode"] == "norm":
        clip_line = f"torch.nn.utils.clip_grad_norm_(net.parameters(), {reg['clip_value']!r})"
    elif reg["clip_mode"] == "value":
        clip_line = f"torch.nn.utils.clip_grad_value_(net.parameters(), {reg['clip_value']!r})"
    else:
        clip_line = ""
    max_norm_line = "apply_max_norm(net)" if flags["max_norm"] else ""

    def indent(line: str) -> str:
        return ("            " + line) if line else _DROP

    penalised_line = ('    penalised = [(g["l2_factor"], g["params"]) for g in parameter_groups(net) if g["l2_factor"] > 0]'
                      if flags["penalty"] else _DROP)
    main = _MAIN.format(class_name=prep.class_name, prepare_batch="\n".join(indent(p) for p in prepare),
                        penalised_line=penalised_line,
                        early_stopping="EarlyStopping()" if flags["early"] else "None",
                        augmenter_line=("    augmenter = Augmenter(SEED + 1_000_003 * rank)  # rank 0 draws as NetBuilder does"
                                        if augmentation else _DROP),
                        augmenter_epoch="        augmenter.set_epoch(epoch - 1)" if augmentation else _DROP,
                        penalty_line=indent(penalty_line), clip_line=indent(clip_line),
                        max_norm_line=indent(max_norm_line))
    main = _drop_empty_slots(main)

    body = model_body(prep)
    body = "\n".join(line for line in body.splitlines() if line not in ("import torch", "from torch import nn"))
    sections = [
        _HEADER.format(**_describe_for_header(prep)),
        _section("the project's settings", _settings_section(prep, data_constants)),
        _section("the network", body.strip("\n") + "\n"),
        _section("data", data_code),
    ]
    if augmentation:
        sections.append(_section("augmentation", augmentation))
    sections += [
        _section("initialization", _init_section(prep)),
        _section("optimizer and learning-rate schedule", _optimizer_section(prep) + "\n\n" + _schedule_section(prep)),
        _section("loss and regularization", _loss_section(prep) + ("\n\n" + regularization if regularization else "")),
    ]
    return "\n\n".join(sections) + "\n\n" + main.lstrip("\n")


_DROP = "#<switched off>"


def _drop_empty_slots(text: str) -> str:
    """Remove the lines of optional statements that are switched off."""
    return "\n".join(line for line in text.split("\n") if line.strip() != _DROP)


def _section(title: str, code: str) -> str:
    rule = "# " + "=" * 76 + " " + title
    return rule + "\n" + code.rstrip("\n") + "\n"


# =========================================================================== export and checks
def _netbuilder_initial_weights(prep: Prepared) -> dict:
    from ..compile.build import build_module
    from ..train.engine import seed_everything
    from ..train.init import initialize
    seed_everything(prep.project.settings["training"]["seed"])
    model = build_module(prep.graph, prep.analysis, class_name=prep.class_name)
    overrides = {n.name: n.init for n in prep.graph.nodes.values() if n.init is not None}
    initialize(model, prep.project.settings["initialization"], overrides)
    return model.state_dict()


def export_script(prep: Prepared, out: Path, batch: int) -> ExportReport:
    """Write train.py and check it (see the module docstring)."""
    from ..train.schedules import lr_factor
    if out.suffix != ".py":
        raise ExportError(f"{out}: the training script needs a file name ending in .py")
    source = generate_script(prep)
    try:
        compile(source, str(out), "exec")
    except SyntaxError as exc:  # a bug here, never the user's
        raise ExportError(f"the generated training script does not compile (line {exc.lineno}: {exc.msg})") from None
    x = verify.sample_batch(prep.graph, prep.analysis, batch)
    expected = verify.run(prep.model, x)
    messages = [m for m in prep.messages if not m.startswith("no trained weights")]
    with Staging(out) as stage:
        tmp = stage.path(out)
        try:
            tmp.write_text(source, encoding="utf-8")
        except OSError as exc:
            raise ExportError(f"cannot write {out}: {exc.strerror or exc}") from None
        try:
            module = import_file(tmp)
            net = getattr(module, prep.class_name)()
            net.load_state_dict(prep.state_dict)
        except Exception as exc:
            raise verify.VerificationError(f"the generated training script does not run: {first_line(exc)}") from None
        diff = verify.check(expected, verify.run(net, x), "the network in the training script")
        # The script's initialization gives NetBuilder's initial weights for the project's seed.
        theirs = module.build_model().state_dict()
        ours = _netbuilder_initial_weights(prep)
        init_diff = max((verify.max_abs_diff(ours[k], theirs[k]) for k in ours), default=0.0) \
            if set(ours) == set(theirs) else math.inf
        if init_diff > 0:
            raise verify.VerificationError(f"the training script's initialization differs from NetBuilder's "
                                           f"(max |Δ| {init_diff:.3g})")
        # The learning-rate schedule follows NetBuilder's formula over the whole run.
        sched = prep.project.settings["schedule"]
        epochs = prep.project.settings["training"]["epochs"]
        total = min(epochs * 100 if sched.get("interval") == "batch" else epochs, 100_000)
        worst = max((abs(module.lr_factor(t, total) - lr_factor(sched, t, total)) for t in range(total)), default=0.0)
        if worst > 1e-12:
            raise verify.VerificationError(f"the training script's learning-rate schedule differs from NetBuilder's "
                                           f"by up to {worst:.3g}")
        paths = stage.commit()
    messages.append("its initial weights and learning-rate schedule match NetBuilder's; run it with "
                    f"`python {out.name}` or `torchrun --nproc_per_node=N {out.name}`")
    return ExportReport("script", paths, diff, True, messages, batch)
