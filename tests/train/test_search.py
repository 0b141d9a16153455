"""Random hyperparameter search: ranges, log-uniform draws, ranking, edge notes, the command."""
from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given, settings, strategies as st

from netbuilder.cli import main
from netbuilder.core import templates
from netbuilder.core.project import Project
from netbuilder.train.engine import Overrides
from netbuilder.train.search import (Range, SearchError, Trial, apply_values, default_ranges, edge_notes, parse_ranges,
                                     run_search)


def playground():
    project = templates.build("playground")
    project.settings["data"].update(toy_points=400)
    return project


def test_ranges_are_parsed_with_their_scales():
    lr, dropout = parse_ranges(["lr=1e-4:1e-1", "dropout=0:0.5"])
    assert (lr.name, lr.low, lr.high, lr.scale) == ("lr", 1e-4, 1e-1, "log")
    assert (dropout.low, dropout.high, dropout.scale) == (0.0, 0.5, "linear")


@pytest.mark.parametrize("spec, words", [
    ("alpha=1:2", "cannot be searched"), ("lr=1e-4", "LOW:HIGH"), ("lr=a:b", "LOW:HIGH"),
    ("lr=0.1:0.01", "LOW ≤ HIGH"), ("lr=0:0.1", "above 0"), ("dropout=0.5:1.5", "[0, 1)"),
])
def test_bad_ranges_name_the_problem(spec, words):
    with pytest.raises(SearchError, match=None) as info:
        parse_ranges([spec])
    assert words in str(info.value)


def test_a_parameter_given_twice_is_refused():
    with pytest.raises(SearchError, match="twice"):
        parse_ranges(["lr=1e-3:1e-2", "lr=1e-4:1e-3"])


@settings(max_examples=50, deadline=None)
@given(st.floats(-8, 1), st.floats(0, 6), st.integers(0, 2**32 - 1))
def test_log_uniform_draws_stay_inside_the_range(low_exp, span, seed):
    r = Range("lr", 10 ** low_exp, 10 ** (low_exp + span), "log")
    rng = random.Random(seed)
    for _ in range(20):
        value = r.sample(rng)
        assert r.low * (1 - 1e-12) <= value <= r.high * (1 + 1e-12)


def test_log_uniform_draws_spread_evenly_over_decades():
    # 1e-6 .. 1: each decade gets about a sixth of the draws (a uniform draw would put 99.9% in the top one).
    r, rng = Range("lr", 1e-6, 1.0, "log"), random.Random(0)
    draws = [r.sample(rng) for _ in range(6000)]
    per_decade = [sum(10 ** -(k + 1) <= d < 10 ** -k for d in draws) for k in range(6)]
    assert all(850 <= n <= 1150 for n in per_decade), per_decade


def test_search_ranks_trials_best_first_and_shares_the_data():
    project = playground()
    ranges = [Range("lr", 1e-5, 1e-1, "log"), Range("l2", 1e-6, 1e-2, "log")]
    seen = []
    trials = run_search(project, ranges, trials=4, overrides=Overrides(epochs=3), progress=lambda t, n: seen.append(t))
    assert len(trials) == 4 and sorted(t.number for t in trials) == [1, 2, 3, 4] and len(seen) == 4
    scores = [t.score for t in trials]
    assert scores == sorted(scores, reverse=True) and trials[0].metric == "validation accuracy"
    for t in trials:
        assert 1e-5 <= t.values["lr"] <= 1e-1 and 1e-6 <= t.values["l2"] <= 1e-2 and len(t.history) == 3
    assert project.settings["optimizer"]["lr"] == templates.build("playground").settings["optimizer"]["lr"]
    again = run_search(project, ranges, trials=2, overrides=Overrides(epochs=1))
    assert {t.number: t.values for t in again} == {t.number: t.values for t in trials if t.number <= 2}


def test_apply_values_sets_settings_and_every_dropout_layer():
    project = templates.build("alexnet")
    tuned = apply_values(project, {"lr": 0.02, "weight_decay": 1e-4, "dropout": 0.3})
    assert tuned.settings["optimizer"]["lr"] == 0.02 and tuned.settings["regularization"]["weight_decay"] == 1e-4
    drops = [n.params["p"] for n in tuned.graph.nodes.values() if n.type == "Dropout"]
    assert drops and all(p == 0.3 for p in drops)
    assert all(n.params["p"] == 0.5 for n in project.graph.nodes.values() if n.type == "Dropout")


def test_searching_dropout_needs_a_dropout_layer():
    with pytest.raises(SearchError, match="no Dropout layer"):
        run_search(playground(), [Range("dropout", 0.0, 0.5, "linear")], trials=1)


def test_searching_momentum_needs_an_optimizer_that_has_one():
    project = playground()
    assert "momentum" not in project.settings["optimizer"]      # Adam
    with pytest.raises(SearchError, match="optimizer has no momentum"):
        run_search(project, [Range("momentum", 0.5, 0.9, "linear")], trials=1)


def test_an_optimum_at_the_edge_of_its_range_is_pointed_out():
    ranges = [Range("lr", 1e-4, 1e-1, "log"), Range("dropout", 0.0, 0.5, "linear")]
    notes = edge_notes(ranges, Trial(1, {"lr": 0.09, "dropout": 0.25}, score=0.9))
    assert len(notes) == 1 and "lr" in notes[0] and "higher" in notes[0]
    notes = edge_notes(ranges, Trial(1, {"lr": 1e-3, "dropout": 0.01}, score=0.9))
    assert len(notes) == 1 and "dropout" in notes[0] and "lower" in notes[0]


def test_default_ranges_centre_on_the_project_learning_rate():
    lr = default_ranges(playground())[0]
    centre = math.sqrt(lr.low * lr.high)
    assert centre == pytest.approx(playground().settings["optimizer"]["lr"])


def test_the_search_command(tmp_path, capsys):
    path, best = tmp_path / "p.nbproj", tmp_path / "best.nbproj"
    playground().save(path)
    args = ["search", str(path), "--trials", "3", "--epochs", "2", "--param", "lr=1e-3:1e-1", "--json",
            "--save-best", str(best)]
    assert main(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["trials"]) == 3 and report["best"] == report["trials"][0]
    assert Project.load(best).settings["optimizer"]["lr"] == pytest.approx(report["best"]["values"]["lr"])
    assert main(["search", str(path), "--param", "momentum=2"]) == 1
    assert "LOW:HIGH" in capsys.readouterr().err
