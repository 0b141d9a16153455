"""Checks to run before a long training run (the course's "sanity checks"):

* initial loss: a freshly initialised C-class softmax classifier should score about ln C on real
  data with regularization off; far above that, the initial weights are too large;
* regularization: turning L2 up must raise the loss (the penalty is really added);
* gradient check: backpropagation's gradients against centred differences
  (f(w+h) − f(w−h)) / 2h in float64, by relative error |a − n| / max(|a|, |n|);
* overfitting a tiny sample: with regularization and dropout off, the network must drive the
  loss on 20 training samples to nearly zero; if it cannot, something is wrong with the
  architecture, the learning rate or the data.

Each check returns a CheckResult with a verdict ("pass", "warn", "fail" or "skip") and one line a
student can act on. `run_checks` prepares the network and data as training would (same seed,
initialization and preprocessing) and runs them all; nothing here changes the project.
"""
from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass, field
from typing import Callable

import torch
from torch import nn

# Relative-error bands of the gradient check (float64, centred differences).
GRADIENT_GOOD = 1e-7        # below: correct
GRADIENT_KINKS = 1e-4       # below: fine for networks with kinks (ReLU, max-pooling)
GRADIENT_WRONG = 1e-2       # above: the gradient is wrong
GRADIENT_STEP = 1e-6
GRADIENT_WORK = 4e9         # multiply-adds the gradient check may spend; it checks fewer entries on large networks

INITIAL_LOSS_TOLERANCE = 0.25   # relative distance from ln C still counted as "about ln C"
OVERFIT_SAMPLES = 20
OVERFIT_STEPS = 300
OVERFIT_SECONDS = 30.0
OVERFIT_TARGET_LOSS = 0.05
RAISED_L2 = 0.1


@dataclass
class CheckResult:
    name: str
    verdict: str           # pass | warn | fail | skip
    summary: str           # one line: the measurement and what it means
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "verdict": self.verdict, "summary": self.summary, "details": self.details}


def _sample_batch(trainer, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The first n training samples, preprocessed as training sees them (no augmentation)."""
    split = trainer.data.train
    normalizer = trainer.loader.normalizer
    x = normalizer.to_input(normalizer.standardize(split.x[:n].to(trainer.device)))
    return x, split.y[:n].to(trainer.device)


def _plain_loss(trainer):
    """The Output node's loss without label smoothing (the checks measure the bare data loss)."""
    from .regularize import make_loss
    return make_loss(trainer.loss_name, 0.0)


def _data_loss(trainer, samples: int) -> tuple[float, int]:
    """The bare data loss of the untrained network on the first samples (evaluation mode), and
    how many samples that was."""
    model = trainer.model
    x, y = _sample_batch(trainer, samples)
    was_training = model.training
    model.eval()
    with torch.no_grad():
        loss = float(_plain_loss(trainer)(model(x), y))
    model.train(was_training)
    return loss, int(len(y))


def _without_dropout(model: nn.Module) -> nn.Module:
    for module in model.modules():
        if isinstance(module, (nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d, nn.AlphaDropout)):
            module.eval()
    return model


# --------------------------------------------------------------------------- the checks
def check_initial_loss(trainer, samples: int = 256) -> CheckResult:
    name = "initial loss"
    classes = trainer.num_classes
    if trainer.loss_name != "cross-entropy" or not classes or classes < 2:
        return CheckResult(name, "skip", "Only for classifiers trained with cross-entropy: ln C is a softmax's loss "
                                         "when it guesses uniformly among C classes.")
    loss, used = _data_loss(trainer, samples)
    expected = math.log(classes)
    off = abs(loss - expected) / expected
    details = {"loss": loss, "expected": expected, "classes": classes, "samples": used}
    line = f"{loss:.4f} before training; ln {classes} = {expected:.4f} for a uniform guess among {classes} classes"
    if off <= INITIAL_LOSS_TOLERANCE:
        return CheckResult(name, "pass", line + ".", details)
    if loss > expected:
        return CheckResult(name, "warn", line + ": the untrained network is confidently wrong. The initial weights "
                           "are probably too large (try Kaiming or Xavier initialization, or a smaller scale).", details)
    return CheckResult(name, "warn", line + ": lower than chance before any training. Check that the labels are "
                       "not leaking into the inputs.", details)


def check_regularization_raises_loss(trainer, samples: int = 256) -> CheckResult:
    from .regularize import penalty
    name = "regularization"
    data_loss, _used = _data_loss(trainer, samples)
    raised = dict(trainer.settings["regularization"], l2=RAISED_L2, l1=0.0)
    with torch.no_grad():
        extra = penalty(trainer.model, raised, trainer.multipliers)
    if extra is None:
        return CheckResult(name, "skip", "No weight is penalised (every layer's L2 multiplier is 0, or the network "
                                         "has no weights).")
    total = data_loss + float(extra)
    details = {"data_loss": data_loss, "with_l2": total, "l2": RAISED_L2}
    line = f"L2 λ = {RAISED_L2:g} raises the loss from {data_loss:.4f} to {total:.4f}"
    if total > data_loss:
        return CheckResult(name, "pass", line + ": the penalty reaches the loss.", details)
    return CheckResult(name, "fail", line + ": the penalty does not raise the loss.", details)


def _entries_to_check(model: nn.Module, budget: int, generator: torch.Generator) -> list[tuple[str, int]]:
    """Up to `budget` (parameter name, flat index) pairs, spread over every trainable tensor."""
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.numel()]
    if not params:
        return []
    per_tensor = max(1, budget // len(params))
    chosen = []
    for name, p in params:
        k = min(per_tensor, p.numel())
        chosen += [(name, int(i)) for i in torch.randperm(p.numel(), generator=generator)[:k]]
    return chosen[:max(budget, len(params))]


def check_gradients(trainer, samples: int = 2, macs_per_sample: int | None = None) -> CheckResult:
    name = "gradient check"
    model = _without_dropout(copy.deepcopy(trainer.model).double().train())
    # BatchNorm's batch statistics couple the samples and update running averages on every
    # forward pass: checked with its running statistics, as at evaluation time.
    for module in model.modules():
        if isinstance(module, nn.modules.batchnorm._BatchNorm):
            module.eval()
    x, y = _sample_batch(trainer, samples)
    if x.is_floating_point():   # token indices stay integers
        x = x.double()
    if y.is_floating_point():
        y = y.double()
    criterion = _plain_loss(trainer)
    work = max(1, (macs_per_sample or 1_000_000) * len(x) * 2)
    budget = int(min(60, max(6, GRADIENT_WORK // work)))
    entries = _entries_to_check(model, budget, torch.Generator().manual_seed(0))
    if not entries:
        return CheckResult(name, "skip", "The network has no trainable parameters.")
    model.zero_grad(set_to_none=True)
    criterion(model(x), y).backward()
    params = dict(model.named_parameters())
    worst, worst_at, errors = 0.0, None, []
    with torch.no_grad():
        for pname, index in entries:
            p = params[pname]
            at = tuple(int(i) for i in torch.unravel_index(torch.tensor(index), p.shape))  # channels-last safe
            analytic = float(p.grad[at]) if p.grad is not None else 0.0
            original = float(p[at])
            p[at] = original + GRADIENT_STEP
            up = float(criterion(model(x), y))
            p[at] = original - GRADIENT_STEP
            down = float(criterion(model(x), y))
            p[at] = original
            numeric = (up - down) / (2 * GRADIENT_STEP)
            scale = max(abs(analytic), abs(numeric))
            error = 0.0 if scale < 1e-12 else abs(analytic - numeric) / scale
            errors.append(error)
            if error > worst:
                worst, worst_at = error, (pname, index)
    median = sorted(errors)[len(errors) // 2]
    tensors = len({n for n, _ in entries})
    details = {"max_relative_error": worst, "median_relative_error": median, "entries": len(entries),
               "tensors": tensors, "worst": f"{worst_at[0]}[{worst_at[1]}]" if worst_at else None}
    where = f" (worst at {details['worst']})" if worst_at and worst >= GRADIENT_KINKS else ""
    line = (f"largest relative error {worst:.1e}, median {median:.1e}, over {len(entries)} weights in "
            f"{tensors} tensors (float64, centred differences, h = {GRADIENT_STEP:g}){where}")
    if worst < GRADIENT_GOOD:
        return CheckResult(name, "pass", line + ": backpropagation is correct.", details)
    if worst < GRADIENT_KINKS:
        return CheckResult(name, "pass", line + ": fine for a network with kinks (ReLU, max-pooling).", details)
    if median < GRADIENT_KINKS and worst < GRADIENT_WRONG:
        return CheckResult(name, "warn", line + ": a few entries sit on a kink (a ReLU or max-pool switching "
                           "inside ±h); the rest agree.", details)
    if median < GRADIENT_KINKS:
        return CheckResult(name, "warn", line + ": most entries agree; the outliers are probably kinks crossed "
                           "inside ±h.", details)
    return CheckResult(name, "fail", line + ": the gradients disagree with the loss.", details)


def check_overfit_small_sample(trainer, samples: int = OVERFIT_SAMPLES, steps: int = OVERFIT_STEPS,
                               seconds: float = OVERFIT_SECONDS, should_stop: Callable[[], bool] | None = None
                               ) -> CheckResult:
    from .optim import build_optimizer
    name = f"overfit {samples} samples"
    model = _without_dropout(copy.deepcopy(trainer.model).train())
    x, y = _sample_batch(trainer, samples)
    criterion = _plain_loss(trainer)
    no_regularization = dict(trainer.settings["regularization"], weight_decay=0.0, l1=0.0, l2=0.0)
    optimizer = build_optimizer(model, trainer.settings["optimizer"], no_regularization)
    classifier = trainer.loss_name == "cross-entropy"
    started = time.perf_counter()
    loss = accuracy = float("nan")
    step = 0
    timed_out = False
    for step in range(1, steps + 1):
        optimizer.zero_grad(set_to_none=True)
        out = model(x)
        loss_t = criterion(out, y)
        loss_t.backward()
        optimizer.step()
        loss = float(loss_t.detach())
        if classifier:
            accuracy = float((out.argmax(1) == y).float().mean())
        if not math.isfinite(loss) or loss < OVERFIT_TARGET_LOSS / 5:
            break
        if time.perf_counter() - started > seconds:
            timed_out = True
            break
        if should_stop is not None and should_stop():
            break
    model.eval()
    with torch.no_grad():
        out = model(x)
        loss = float(criterion(out, y))
        if classifier:
            accuracy = float((out.argmax(1) == y).float().mean())
    lr = trainer.settings["optimizer"].get("lr")
    details = {"loss": loss, "accuracy": accuracy if classifier else None, "steps": step, "samples": int(len(y)),
               "seconds": time.perf_counter() - started}
    acc = f", accuracy {accuracy * 100:.0f}%" if classifier else ""
    line = f"loss {loss:.4f}{acc} on {len(y)} training samples after {step} steps (regularization and dropout off)"
    if not math.isfinite(loss):
        return CheckResult(name, "fail", line + f": the loss diverged; lower the learning rate ({lr:g}).", details)
    if loss <= OVERFIT_TARGET_LOSS and (not classifier or accuracy == 1.0):
        return CheckResult(name, "pass", line + ": the network can learn.", details)
    if timed_out:
        return CheckResult(name, "warn", line + f": not there yet when the {seconds:g} s allowed ran out. A network "
                           f"this size needs more time per step; run the check on a GPU to finish it.", details)
    return CheckResult(name, "warn", line + f": a network should memorise so few samples. Check the learning "
                       f"rate ({lr:g}: too low crawls, too high stalls), the output layer and the labels.", details)


# --------------------------------------------------------------------------- all of them
CHECKS = ("initial loss", "regularization", "gradient check", "overfit")


def run_checks(project, *, overrides=None, project_dir=None, data=None,
               progress: Callable[[str], None] | None = None,
               should_stop: Callable[[], bool] | None = None) -> list[CheckResult]:
    """Prepare the network and data as a training run would, then run every check."""
    from ..core.shapes import analyze
    from .engine import Trainer
    say = progress or (lambda _message: None)
    say("Preparing the network and data")
    trainer = Trainer(project, overrides=overrides, project_dir=project_dir, data=data)
    trainer.prepare()
    macs = analyze(project.graph).total_macs
    results = []
    steps = (("Initial loss", lambda: check_initial_loss(trainer)),
             ("Regularization", lambda: check_regularization_raises_loss(trainer)),
             ("Gradient check", lambda: check_gradients(trainer, macs_per_sample=macs)),
             ("Overfitting 20 samples", lambda: check_overfit_small_sample(trainer, should_stop=should_stop)))
    for title, check in steps:
        if should_stop is not None and should_stop():
            break
        say(title)
        results.append(check())
    return results
