"""Each script's summary (the verdicts the README states) on hand-built results whose answers
are worked out by hand: separated, overlapping, tied and single-seed groups."""
import math

import numpy as np
import scipy.stats
import pytest

import hw1_1_mnist_cnn
from common import report


def cnn_results(depth, original, earlier=-0.05):
    """Two epochs per seed: the first at value + earlier, the last at value."""
    def model(series, values, layers):
        return {"series": series, "conv_layers": layers,
                "runs": [{"history": {"test_acc": [v + earlier, v]}} for v in values]}
    return {"models": {**{n: model("depth", v, int(n[1:])) for n, v in depth.items()},
                       **{n: model("original", v, 2) for n, v in original.items()}}}


def test_cnn_ranking_separated_overlapping_and_single_seed():
    results = cnn_results(
        depth={"C1": [0.887, 0.889, 0.888], "C2": [0.886, 0.890, 0.8875],
               "C4": [0.868, 0.869, 0.867]},
        original={"CNN1": [0.87], "CNN2": [0.88]})
    summary = hw1_1_mnist_cnn.summarise(results)
    # C1 and C2 overlap (means 0.8880 and 0.8878); C4 lies 0.02 below both with spreads of 0.001
    assert summary["depth"]["order"] == ["C1", "C2", "C4"]
    assert summary["depth"]["text"] == "C1 > C4, C2 > C4; no difference detected: C1–C2"
    # one seed each: nothing can be tested, so no ranking is claimed
    assert summary["original"]["text"] == "not tested (one seed): CNN2–CNN1"
    assert summary["shallowest"] == "C1"
    assert summary["above_shallowest"] == [] and summary["below_shallowest"] == ["C4"]
    text = report.ranking_text(summary["depth"])
    holm = {(q["a"], q["b"]): q["p_holm"] for q in summary["depth"]["pairs"]}
    assert holm[("C1", "C4")] < 0.05 and holm[("C2", "C4")] < 0.05 <= holm[("C1", "C2")]
    assert text == (f"C1 > C4 ({report.p_text(holm[('C1', 'C4')])}), C2 > C4 "
                    f"({report.p_text(holm[('C2', 'C4')])}); no difference detected "
                    f"(p ≥ {report.p_floor(holm[('C1', 'C2')])}): C1–C2 (Welch's t, Holm-corrected, "
                    "n = 3 each)")
    one_seed = report.ranking_text(summary["original"])
    assert one_seed == "not tested (one seed): CNN2–CNN1 (Welch's t, Holm-corrected, n = 1 each)"


def test_cnn_rankings_at_two_budgets_and_the_still_rising_test():
    results = cnn_results(depth={"C1": [0.887, 0.889, 0.888], "C4": [0.868, 0.869, 0.867]},
                          original={"CNN1": [0.8, 0.81]})
    # after epoch 1 C4 is the better one: C1's history there is 0.887 - 0.05 ...
    for run in results["models"]["C4"]["runs"]:
        run["history"]["test_acc"][0] = run["history"]["test_acc"][1]    # C4 flat
    s = hw1_1_mnist_cnn.summarise(results)
    assert list(s["budgets"]) == ["1", "2"]
    assert s["budgets"]["2"]["depth"]["text"] == s["depth"]["text"] == "C1 > C4"
    assert s["budgets"]["1"]["depth"]["text"] == "C4 > C1"
    assert s["budgets"]["1"]["below_shallowest"] == [] and s["budgets"]["1"]["above_shallowest"] == ["C4"]
    # window 3 needs 4 epochs: with 2 nothing is tested
    assert s["still_rising"]["C1"]["verdict"] == "not tested"
    gains = {"C1": [0.01, 0.012, 0.011], "C4": [0.001, -0.002, 0.0005], "CNN1": [0.0, 0.0]}
    for name, g in gains.items():
        for run, gain in zip(results["models"][name]["runs"], g):
            run["history"]["test_acc"] = [0.8, 0.86, 0.86, 0.86, 0.86 + gain]
    rising = hw1_1_mnist_cnn.summarise(results)["still_rising"]
    assert rising["C1"]["verdict"] == "still rising" and rising["C1"]["n"] == 3
    assert rising["C1"]["effect"] == pytest.approx(0.011)
    assert rising["C4"]["verdict"] == "not detected away from zero"
    # the range over the tested models: mean gains 1.1 (C1), -0.05 / 3 (C4) and 0 points (CNN1)
    rr = hw1_1_mnist_cnn.summarise(results)["rising_range"]
    assert rr["gain_points"] == pytest.approx([-0.05 / 3, 1.1]) and rr["n"] == 3
    assert rr["p_holm"] == [min(t["p_holm"] for t in rising.values()),
                            max(t["p_holm"] for t in rising.values())]
    assert hw1_1_mnist_cnn.rising_range({"C1": {"verdict": "not tested", "n": 3}}) is None


def test_cnn_ranking_follows_the_data_not_the_names():
    # the same numbers under swapped names give the swapped verdict
    # the deeper model listed first: the shallowest is found by its depth, not its position
    results = cnn_results(depth={"C2": [0.887, 0.889, 0.888], "C1": [0.868, 0.869, 0.867]},
                          original={"CNN1": [0.8, 0.81], "CNN2": [0.8, 0.81]})
    summary = hw1_1_mnist_cnn.summarise(results)
    assert summary["depth"]["text"] == "C2 > C1"
    assert summary["above_shallowest"] == ["C2"] and summary["below_shallowest"] == []
    assert summary["original"]["text"] in ("no difference detected: CNN1–CNN2",
                                           "no difference detected: CNN2–CNN1")   # tied


def seeds_of(values):
    return {"mean": float(np.mean(values)), "values": values}


def test_sensitivity_trends_and_ends():
    import hw1_3_sensitivity
    keys = hw1_3_sensitivity.MEASURES

    def run(level, spread):
        # every measure at `level` + spread per seed; gap = test - train = level
        out = {k: seeds_of([level + d for d in spread]) for k in keys if k != "gap"}
        out["train_loss"] = seeds_of([0.0, 0.0, 0.0])
        out["test_loss"] = seeds_of([level + d for d in spread])
        out["epochs"] = seeds_of([4.0, 5.0, 6.0])
        return out
    sizes = [32, 64, 128, 256]
    falling = {str(b): run(10 - i, [-0.1, 0.0, 0.1]) for i, b in enumerate(sizes)}
    results = {"batch_sizes": sizes, "runs": falling,
               "matched": {"batch_sizes": [32, 256], "target_train_loss": 0.25, "train_samples": 90,
                           "seeds": [0, 1, 2],
                           "runs": {"32": run(1.0, [-0.3, 0.0, 0.3]),
                                    "256": run(1.1, [-0.3, 0.0, 0.3])}}}
    for r in results["matched"]["runs"].values():          # every training reached the target
        r["last_epoch_loss"] = seeds_of([0.24, 0.25, 0.2])
    s = hw1_3_sensitivity.summarise(results)
    t = s["fixed_epochs"]["trend"]["sensitivity"]
    assert t["verdict"] == "falls" and t["n"] == 12 and t["p"] < 0.05
    # rho = Pearson correlation of the ranks: x has 4 tied groups of 3 (average ranks 2, 5, 8,
    # 11), y falls through all 12 values (ranks 12 .. 1 in the order of x)
    x_ranks = np.repeat([2.0, 5.0, 8.0, 11.0], 3)
    y_ranks = np.asarray([12 - i for i in range(12)], dtype=float)
    y_ranks = np.concatenate([sorted(y_ranks[3 * i:3 * i + 3]) for i in range(4)])
    assert t["effect"] == pytest.approx(np.corrcoef(x_ranks, y_ranks)[0, 1], rel=1e-12)
    assert s["fixed_epochs"]["ends"]["sensitivity"]["verdict"] == "lower"
    assert s["fixed_epochs"]["trend"]["gap"]["verdict"] == "falls"
    # the fixed-epoch peak: means 10, 9, 8, 7 -> batch 32; a hump at batch 128 moves it there
    assert s["fixed_epochs"]["peak"]["sharpness_1e-3"] == {"batch_size": 32, "mean": 10.0}
    results["runs"]["128"]["hessian_max_eig"] = seeds_of([20.0, 21.0, 22.0])
    hump = hw1_3_sensitivity.summarise(results)["fixed_epochs"]["peak"]["hessian_max_eig"]
    assert (hump["batch_size"], hump["mean"]) == (128, 21.0)
    # its hump test: 20, 21, 22 against 9.9, 10, 10.1 (batch 32) and 6.9, 7, 7.1 (batch 256);
    # Welch: se^2 = 1/3 + 0.01/3, df = 1.01^2 / ((1 + 0.0001) / 2); the nearer end (batch 32)
    # gives the larger p, times the 2 inner batch sizes (64, 128) the peak was picked from
    se, df = math.sqrt(1.01 / 3), 1.01 ** 2 / (1.0001 / 2)
    p32, p256 = (2 * scipy.stats.t.sf(d / se, df) for d in (11, 14))
    assert [e["p"] for e in hump["hump"]["ends"]] == pytest.approx([p32, p256], rel=1e-9)
    assert hump["hump"]["p"] == pytest.approx(2 * p32, rel=1e-9) and 2 * p32 < 0.05
    assert hump["hump"]["verdict"] == "above both ends" and hump["hump"]["candidates"] == 2
    assert report.peak_text(hump) == (
        f"21 at batch 128, above both ends (p = {2 * p32:.2g}, n = 3 each)")
    assert report.hump_text(hump) == ("The ends test misses a hump: matched ε-sharpness is "
                                      f"{report.peak_text(hump)}")
    # the same peak spread wide (10, 21, 32: se^2 = 121/3 + 0.01/3) is not detectably above
    results["runs"]["128"]["hessian_max_eig"] = seeds_of([10.0, 21.0, 32.0])
    wide = hw1_3_sensitivity.summarise(results)["fixed_epochs"]["peak"]["hessian_max_eig"]
    se, df = math.sqrt(121.01 / 3), 121.01 ** 2 / ((121 ** 2 + 0.0001) / 2)
    assert wide["hump"]["p"] == pytest.approx(2 * 2 * scipy.stats.t.sf(11 / se, df), rel=1e-9)
    assert wide["hump"]["verdict"] == "no hump detected"
    assert report.hump_text(wide).startswith(
        "Matched ε-sharpness is highest between the ends: 21 at batch 128, not detectably "
        "above both ends (p = ")
    # matched: means 1.0 vs 1.1 with spread 0.3: no difference detected
    ends = s["matched"]["ends"]["sensitivity"]
    assert ends["verdict"] == "no difference detected" and ends["n"] == [3, 3]
    assert abs(ends["effect"] - 0.1) < 1e-12
    assert s["matched"]["left_out"] == {"32": [], "256": []}
    # the matched peak of each sharpness measure: 1.1 at batch 256 (an end here)
    assert s["matched"]["peak"]["sharpness_1e-3"] == {"batch_size": 256,
                                                      "mean": pytest.approx(1.1)}
    assert "hump" not in s["matched"]["peak"]["sharpness_1e-3"]
    assert report.hump_text(s["matched"]["peak"]["sharpness_1e-3"]) == (
        "Matched ε-sharpness is highest at an end (1.1 at batch 256, an end)")
    # a hump test with a seed left out at one end, and one with a single seed at the peak
    ends = [{"n": [10, 10]}, {"n": [10, 9]}]
    assert report.peak_text({"batch_size": 256, "mean": 17.6, "hump": {
        "verdict": "above both ends", "p": 3e-5, "ends": ends}}) == (
        "17.6 at batch 256, above both ends (p < 1e-4, n = 10 at the peak, 10 and 9 at the ends)")
    assert report.peak_text({"batch_size": 256, "mean": 2.0, "hump": {
        "verdict": "not tested", "p": None, "ends": ends}}) == (
        "2 at batch 256, its hump not tested (a group with one seed)")
    # the check target: the same trainings at loss 0.35, where only the sensitivity differs
    # (spread 0.03, not 0.3): Welch's t = 0.1 / sqrt(2 x 0.0009 / 3) = 4.08, df 4, p = 0.015
    check = {b: {k: dict(v) for k, v in r.items()} for b, r in results["matched"]["runs"].items()}
    check["32"]["sensitivity"] = seeds_of([0.97, 1.0, 1.03])
    check["256"]["sensitivity"] = seeds_of([1.07, 1.1, 1.13])
    results["matched"]["check"] = {"target_train_loss": 0.35, "runs": check}
    c = hw1_3_sensitivity.summarise(results)["matched_check"]
    assert c["target_train_loss"] == 0.35 and c["ends"]["sensitivity"]["verdict"] == "higher"
    assert c["agreement"]["sensitivity"] == {"target": "no difference detected",
                                             "check": "higher", "same": False}
    assert [k for k, a in c["agreement"].items() if not a["same"]] == ["sensitivity"]
    half = 2.7764451 * math.sqrt(2 * 0.0009 / 3)        # t(0.975, 4) x standard error
    v = report.values_matched({**results, "epsilons": ["1e-3", "5e-4"],
                               "summary": hw1_3_sensitivity.summarise(results)})
    assert v["m.check_agree"] == (
        "the same for 4 of 5 measures; sensitivity higher (Welch's t: difference 0.100, "
        f"95 % CI {0.1 - half:.3f} to {0.1 + half:.3f}, p = 0.015, n = 3 + 3)")
    assert v["m.answer"] == ("sharper by the top Hessian eigenvalue: no difference detected; "
                             "by ε-sharpness: no difference detected; "
                             "more sensitive: no difference detected (higher at loss 0.35)")
    # the batch-256 eigenvalue raised to 5.1 ± 0.1 at both targets: "yes" there alone
    for runs in (results["matched"]["runs"], check):
        runs["256"] = {**runs["256"], "hessian_max_eig": seeds_of([5.0, 5.1, 5.2])}
    v = report.values_matched({**results, "epsilons": ["1e-3", "5e-4"],
                               "summary": hw1_3_sensitivity.summarise(results)})
    assert v["m.answer"].startswith("sharper by the top Hessian eigenvalue: yes; by ε-sharpness: "
                                    "no difference detected; ")
    # seed 2 at batch 256 misses the main target but passes the check target: left out of both
    saved = results["matched"]["runs"]["256"]["last_epoch_loss"]
    results["matched"]["runs"]["256"]["last_epoch_loss"] = seeds_of([0.24, 0.25, 2.3])
    c = hw1_3_sensitivity.summarise(results)["matched_check"]
    assert c["left_out"] == {"32": [], "256": [2]} and c["ends"]["sensitivity"]["n"] == [3, 2]
    assert c["runs"]["256"]["sensitivity"]["values"] == pytest.approx([1.07, 1.1])
    results["matched"]["runs"]["256"]["last_epoch_loss"] = saved
    # batch 256 reaches the check target only: the check compares no two batch sizes either
    saved = results["matched"]["runs"]["256"]["last_epoch_loss"]
    results["matched"]["runs"]["256"]["last_epoch_loss"] = seeds_of([2.3, 2.3, 2.3])
    c = hw1_3_sensitivity.summarise(results)["matched_check"]
    assert c["batch_sizes"] == [32] and "ends" not in c and c["agreement"] == {}
    results["matched"]["runs"]["256"]["last_epoch_loss"] = saved
    del results["matched"]["check"]
    # seed 2 at batch 256 stops at the epoch cap above the target: it is left out, and its
    # sensitivity (1.4) with it: the ends compare 0.7, 1.0, 1.3 with 0.8, 1.1
    results["matched"]["runs"]["256"]["last_epoch_loss"] = seeds_of([0.24, 0.25, 2.3])
    m = hw1_3_sensitivity.summarise(results)["matched"]
    assert m["left_out"] == {"32": [], "256": [2]} and m["batch_sizes"] == [32, 256]
    assert m["ends"]["sensitivity"]["n"] == [3, 2]
    assert m["ends"]["sensitivity"]["effect"] == pytest.approx(0.95 - 1.0)
    assert m["runs"]["256"]["sensitivity"]["values"] == pytest.approx([0.8, 1.1])
    assert m["trend"]["sensitivity"]["n"] == 5
    # no training of a batch size reached it: the batch size drops out of the comparisons
    results["matched"]["runs"]["256"]["last_epoch_loss"] = seeds_of([2.3, 2.3, 2.3])
    m = hw1_3_sensitivity.summarise(results)["matched"]
    assert m["batch_sizes"] == [32] and "256" not in m["runs"]


def test_random_label_summary_is_paired_by_seed():
    import hw1_3_random_labels
    def curve(epochs):        # training accuracy that first reaches 0.99 at `epochs`
        return [0.4] * (epochs - 1) + [0.99]
    per_seed = [{"epochs_to_target": {"true labels": t, "random labels": r},
                 "runs": {"true labels": {"train_acc": curve(t)},
                          "random labels": {"train_acc": curve(r)}}}
                for t, r in ((40, 90), (42, 97), (41, 95))]
    s = hw1_3_random_labels.summarise({"per_seed": per_seed, "target_acc": 0.99})
    assert s["fitted"] == 3 and s["longer"]["verdict"] == "higher"
    assert s["longer"]["test"] == "paired t" and s["longer"]["effect"] == (50 + 55 + 54) / 3
    # the slowdown curve stops at the target: thresholds 0.5 ... 0.99, each reached at the same
    # epoch as 0.99 here
    rows = s["slowdown"]["thresholds"]
    assert [r["threshold"] for r in rows] == [t for t in hw1_3_random_labels.THRESHOLDS
                                              if t <= 0.99]
    assert all(r["true"] == [40, 42, 41] and r["random"] == [90, 97, 95] for r in rows)
    per_seed[2]["epochs_to_target"]["random labels"] = None      # one seed never got there
    s = hw1_3_random_labels.summarise({"per_seed": per_seed, "target_acc": 0.9})
    assert s["fitted"] == 2 and s["longer"]["n"] == [2, 2]
    assert s["slowdown"]["thresholds"][-1]["threshold"] == 0.9


def test_parameter_sweep_trend():
    import hw1_3_params_generalization
    widths = [1, 2, 4, 8]
    runs = {str(w): {"n_params": 100 * w, "test_loss": seeds_of([0.5 + 0.1 * w, 0.5 + 0.1 * w]),
                     "train_loss": seeds_of([0.5, 0.5]),
                     "test_acc": seeds_of([0.8, 0.81])} for w in widths}
    s = hw1_3_params_generalization.summarise({"widths": widths, "runs": runs})
    assert s["trend"]["gap"]["verdict"] == "rises" and s["trend"]["gap"]["n"] == 8
    assert s["trend"]["test_acc"]["verdict"] == "no trend detected"
    assert s["gap"] == pytest.approx({str(w): 0.1 * w for w in widths})


def test_function_fit_ranking_on_log_mse():
    import hw1_1_simulate_function
    models = {n: {"series": "depth" if n != "M2" and n != "M3" else "original", "depth": d,
                  "n_params": 2100 + d}
              for n, d in (("D8", 8), ("D2", 2), ("M1", 4), ("D1", 1), ("M2", 4), ("M3", 4))}
    spread = (1.0, 1.2, 0.9, 1.1)
    # at epoch 1000 D1 leads by two decades; at 3000 (the end) D2 and M1 lead
    early = {"D1": -3, "D2": -1, "M1": -1, "D8": -1, "M2": -1, "M3": -1}
    fits = {"f": {n: {"final_loss": [v * 10 ** k for v in spread],
                      "loss_at": {"1000": [v * 10 ** early[n] for v in spread],
                                  "3000": [v * 10 ** k for v in spread]},
                      "convergence_epoch": [10, None, 30, 40] if n == "D2" else [None] * 4}
                  for n, k in (("D1", -1), ("D2", -3), ("M1", -3), ("D8", -2),
                               ("M2", -3), ("M3", -3))}}
    # a second target on which D1 falls 10-30-fold from epoch 1000 to 3000 (0.1 x spread)
    fits["g"] = {n: {**fit, "loss_at": {**fit["loss_at"]}} for n, fit in fits["f"].items()}
    fits["g"]["D1"]["loss_at"]["1000"] = [v * f for v, f in zip(spread, (1, 2, 1.5, 3))]
    s = hw1_1_simulate_function.summarise({"models": models, "fits": fits})
    assert s["f"]["converged"]["D2"] == 3 and s["f"]["converged"]["D1"] == 0
    across = s["across_targets"]
    assert across["params_range"] == [2101, 2108] and across["targets"] == 2
    # on f D1 rises from 1e-3 to 1e-1; on g it falls in every seed
    falling = s["g"]["shallowest_still_falling"]
    assert falling["verdict"] == "lower" and s["f"]["shallowest_still_falling"]["verdict"] == "higher"
    assert across["still_falling"] == ["g"] and across["still_falling_max_p"] == falling["p"]
    assert across["still_falling_pairs"] == 4
    assert across["leader_changes"] == ["f"]
    assert s["f"]["depth"]["text"] in (
        "D2 > D8, D2 > D1, M1 > D8, M1 > D1, D8 > D1; no difference detected: D2–M1",
        "M1 > D8, M1 > D1, D2 > D8, D2 > D1, D8 > D1; no difference detected: M1–D2")
    # M1, M2, M3 identical: all three pairs undetected, none ranked
    assert s["f"]["original"]["text"].startswith("no difference detected: ")
    assert s["f"]["original"]["text"].count("–") == 3 and ">" not in s["f"]["original"]["text"]
    # every deeper model beats D1 (a decade or more apart, identical spreads)
    assert s["f"]["shallowest"] == "D1"
    assert sorted(s["f"]["beat_shallowest"]) == ["D2", "D8", "M1"]
    # the contrasts with D1 alone: effects in log10 MSE worked out by hand (the spreads cancel)
    vs = s["f"]["vs_shallowest"]
    assert list(vs) == ["D8", "D2", "M1"]
    assert [vs[n]["effect"] for n in vs] == pytest.approx([-1.0, -2.0, -2.0])
    helps = s["f"]["depth_helps"]
    assert helps["verdict"] == "yes" and helps["contrasts"] == 3 and helps["n"] == 4
    assert helps["p_holm_min"] == min(c["p_holm"] for c in vs.values())
    # by ranks, 4 seeds against 4 cannot reach 5 % after Holm over 3: each deeper net is
    # entirely below D1, exact two-sided p 2 / C(8, 4) = 2 / 70 each, x 3 by Holm
    rank = s["f"]["depth_helps_rank"]
    assert rank["test"].startswith("Mann-Whitney U") and rank["contrasts"] == 3
    assert rank["verdict"] == "no difference detected" and rank["p_holm_min"] == pytest.approx(6 / 70)
    by_rank = s["f"]["vs_shallowest_rank"]
    assert list(by_rank) == ["D8", "D2", "M1"]
    assert [c["effect"] for c in by_rank.values()] == [-1.0, -1.0, -1.0]  # every pair below D1
    # every contrast of both targets: "lower" by Welch's t, not detected by ranks
    assert report.rank_net_differences({"fits": fits, "summary": s}) == "6 of 6 contrasts"
    # at epoch 1000 D1 is two decades below every deeper net: "no", with all three named
    early_helps = s["f"]["budgets"]["1000"]["depth_helps"]
    assert early_helps["verdict"] == "no"
    assert sorted(early_helps["above_shallowest"]) == ["D2", "D8", "M1"]
    # the budgets: the same ranking as the final one at 3000, D1 alone on top at 1000
    assert s["f"]["budgets"]["3000"]["depth"]["text"] == s["f"]["depth"]["text"]
    assert s["f"]["budgets"]["1000"]["depth"]["text"].startswith("D1 > ")
    assert s["f"]["budgets"]["1000"]["beat_shallowest"] == []
    lead = s["f"]["leader"]["depth"]
    assert lead["best"]["1000"] == "D1" and lead["top_group"]["1000"] == ["D1"]
    assert sorted(lead["top_group"]["3000"]) == ["D2", "M1"] and lead["changes"]
    # M1-M3 are equal at every budget: one top group, no change
    assert not s["f"]["leader"]["original"]["changes"]
    assert sorted(s["f"]["leader"]["original"]["top_group"]["1000"]) == ["M1", "M2", "M3"]


def test_separated_from_reads_both_pair_orders():
    from common.stats import separated_from
    ranking = {"pairs": [{"a": "D1", "b": "D2", "verdict": "lower"},        # D2 below D1
                         {"a": "D8", "b": "D1", "verdict": "higher"},       # D1 above D8
                         {"a": "D1", "b": "M1", "verdict": "higher"},       # M1 worse
                         {"a": "D2", "b": "D8", "verdict": "lower"},
                         {"a": "D1", "b": "D4", "verdict": "no difference detected"}]}
    assert separated_from(ranking, "D1", "lower") == ["D2", "D8"]
    assert separated_from(ranking, "D1", "higher") == ["M1"]


def test_minima_answer_names_the_counts_and_the_tolerances():
    step = {"step": 0.001, "even_negative": 100, "drop_negative": 100,
            "ratio_quartiles": [0.99, 1.0, 1.0]}
    escape = {"curved": 100, "steps": [{**step, "minima_that_escape": 42},
                                       {**step, "step": 0.1, "even_negative": 35,
                                        "minima_that_escape": 9}],
              "tolerance": "0.0001", "minima_at_tolerance": 42}
    saddles = {"points": 100, "minima": {"1e-08": 0, "1e-06": 0}, "answer": "saddles"}
    assert report.minima_answer_short(saddles, escape) == (
        "Saddles: minima 0 / 0 of 100 at 1e-08 / 1e-06 of max ∣λ∣; the loss, averaged over both "
        "ways along the most negative eigenvector, falls at 35 of 100 end points a step 0.1 "
        "away")
    depends = {"points": 100, "minima": {"1e-08": 0, "1e-06": 0, "0.0001": 42},
               "answer": "depends on the tolerance"}
    assert report.minima_answer_short(depends, escape).startswith(
        "Depends on the tolerance: minima 0 / 0 / 42 of 100 at 1e-08 / 1e-06 / 0.0001 of max")
    minima = {"points": 5, "minima": {"1e-08": 5}, "answer": "minima"}
    assert report.minima_answer_short(minima, escape).startswith("Minima: minima 5 of 5")


def test_minimal_ratio_spread_and_the_function_norms_by_hand():
    import hw1_2_grad_norm as script
    rows = [{"grad_norm": g, "loss": 2 * g, "minimal_ratio": m, "ratio_nonzero": m / 2,
             "n_negative": k, "n_zero": 10 - k, "reached": g < 1e-3}
            for g, m, k in ((5e-3, 0.2, 3), (5e-5, 0.6, 0), (2e-7, 0.4, 1), (8e-4, 0.1, 2))]
    s = script.spread(rows)
    assert s["grad_norm"] == [2e-7, pytest.approx((5e-5 + 8e-4) / 2), 5e-3]
    assert s["minimal_ratio"] == [0.1, pytest.approx(0.3), 0.6]
    assert s["n_negative"] == [0, 1.5, 3] and s["n_zero"] == [7, 8.5, 10]
    assert s["below"] == {"0.001": 3, "0.0001": 2, "1e-06": 1} and s["reached"] == 3
    f = script.function_norms({"grad_norm": [9.0, 1.0, 0.5, 0.7, 0.2]}, late_from=2)
    assert f == {"first": 9.0, "at": 1.0, "late_range": [0.2, 0.7], "late_from": 2,
                 "iterations": 5}
    assert script.function_norms({"grad_norm": [9.0, 1.0]}, late_from=2)["late_range"] is None


def test_pca_spread_of_the_optimisation_paths_by_hand():
    import hw1_2_optimization as script
    # three trainings: at the start on a 3-4-5 triangle, at the end twice as far apart
    start = np.asarray([[0.0, 0.0], [3.0, 0.0], [0.0, 4.0]])
    coords = np.stack([start, 2 * start + 1], axis=1)          # (trainings, snapshots, 2)
    assert script.mean_distance(start) == pytest.approx(4.0)   # (3 + 4 + 5) / 3
    s = script.pca_spread(coords.tolist())
    assert s["start"] == pytest.approx(4.0) and s["end"] == pytest.approx(8.0)
    assert s["ratio"] == pytest.approx(2.0)


def sweep_results(acc):
    """A sweep result of widths {width: test accuracies per seed}; n_params = 100 x width, the
    test loss 1 - accuracy."""
    import hw1_3_params_generalization as sweep
    runs = {str(w): {"n_params": 100 * w, "test_acc": sweep.described(v),
                     "test_loss": sweep.described([1 - a for a in v]),
                     "train_loss": sweep.described([0.5 - a / 2 for a in v])}
            for w, v in acc.items()}
    return {"widths": list(acc), "runs": runs, "seeds": [0, 1, 2]}


FLAT = [0.80, 0.82, 0.81]


def test_sweep_plateau_is_where_the_pooled_trend_stops_by_hand():
    import hw1_3_params_generalization as sweep
    from scipy import stats as scipy_stats
    # widths 1, 2, 4 rise; 8 and 16 hold the same three values (in another order)
    acc = {1: [0.10, 0.11, 0.12], 2: [0.50, 0.52, 0.51], 4: [0.70, 0.71, 0.72],
           8: FLAT, 16: FLAT[::-1]}
    sat = sweep.plateau(sweep_results(acc), "test_acc", higher_is_better=True)
    # window from 8: both widths hold the same values, so rank correlation 0 and p = 1
    assert sat["plateau_from"] == 8 and sat["at"]["effect"] == pytest.approx(0, abs=1e-12)
    assert sat["at"]["p"] == pytest.approx(1.0) and sat["at"]["n"] == 6
    # window from 4 (9 points): x ranks 2, 5, 8 per width; y ranks 1-3 for width 4 and 4.5,
    # 6.5, 8.5 twice: cov 40.5, var 54 and 58.5; p from t = r sqrt(7 / (1 - r^2)), 7 df
    r = 40.5 / math.sqrt(54 * 58.5)
    before = sat["before"]
    assert before["effect"] == pytest.approx(r) and before["verdict"] == "rises"
    assert before["p"] == pytest.approx(2 * scipy_stats.t.sf(r * math.sqrt(7 / (1 - r * r)), 7))
    assert sat["best"] == 8 and list(sat["windows"]) == ["1", "2", "4", "8"]
    # the loss mirrors the accuracy: it stops falling at the same width
    low = sweep.plateau(sweep_results(acc), "test_loss", higher_is_better=False)
    assert low["plateau_from"] == 8 and low["before"]["verdict"] == "falls"
    # the two widest still rising (6 points, ranks fully separated: rho 13.5 / sqrt(13.5 x
    # 17.5) = 0.88, p 0.021): no plateau
    acc[16] = [0.90, 0.91, 0.92]
    sat = sweep.plateau(sweep_results(acc), "test_acc", higher_is_better=True)
    assert sat["plateau_from"] is None and sat["at"] is None and sat["before"] is None
    assert sat["windows"]["8"]["effect"] == pytest.approx(13.5 / math.sqrt(13.5 * 17.5))
    # nothing rises: the plateau is the narrowest width, with no window before it
    flat = {w: FLAT for w in (1, 2, 4)}
    sat = sweep.plateau(sweep_results(flat), "test_acc", higher_is_better=True)
    assert sat["plateau_from"] == 1 and sat["before"] is None
    # the windows stop at the first that detects no improvement (a fixed sequence), even when a
    # later, smaller window detects one
    assert sweep.first_not_improving(["rises", "no trend detected", "rises"], "rises") == 1
    assert sweep.first_not_improving(["falls", "falls"], "falls") is None
    assert sweep.first_not_improving(["rises", "falls"], "falls") == 0
    # a late rise after a flat stretch: the window over all widths rises, so does every later one
    acc = {1: FLAT, 2: FLAT, 4: FLAT, 8: [0.90, 0.91, 0.92], 16: [0.95, 0.96, 0.97]}
    sat = sweep.plateau(sweep_results(acc), "test_acc", higher_is_better=True)
    assert sat["plateau_from"] is None and sat["windows"]["1"]["verdict"] == "rises"


def test_sweep_plateau_within_seeds_sees_what_pooling_hides():
    import hw1_3_params_generalization as sweep
    # seed k at 0.1 k + 0.01 j for the j-th width: pooled over seeds, rank correlation 18 /
    # sqrt(54 x 60) = 0.32 (x ranks 2, 5, 8; y ranks 1-9), not detected; within every seed the
    # order is the same, Page's L = 42, exact p 1 / 216
    acc = {w: [0.1 * k + 0.01 * j for k in range(3)] for j, w in enumerate((1, 2, 4))}
    r = sweep_results(acc)
    sat = sweep.plateau(r, "test_acc", higher_is_better=True)
    assert sat["windows"]["1"]["effect"] == pytest.approx(18 / math.sqrt(54 * 60))
    assert sat["plateau_from"] == 1
    blocked = sat["blocked"]
    assert list(blocked["windows"]) == ["1"] and blocked["windows"]["1"]["p"] == pytest.approx(1 / 216)
    assert blocked["plateau_from"] is None and blocked["at"] is None
    r["summary"] = {"saturation": sat,
                    "loss_plateau": sweep.plateau(r, "test_loss", higher_is_better=False)}
    assert report.blocked_check(r["summary"], 3) == (
        "stops at other widths (test accuracy: every window of 3 or more widths improves; test "
        "loss: every window of 3 or more widths improves; n = 3 seeds)")
    # a plateau at the two widest widths: Spearman finds it (window from 8, rho 0.2), Page's
    # test has no window of 2 widths, and every window of 3 or more rises within seeds
    acc = {1: [0.10, 0.11, 0.12], 2: [0.50, 0.52, 0.51], 4: [0.70, 0.71, 0.72],
           8: FLAT, 16: [0.83, 0.84, 0.79]}
    sat = sweep.plateau(sweep_results(acc), "test_acc", higher_is_better=True)
    assert sat["plateau_from"] == 8
    blocked = sat["blocked"]
    assert list(blocked["windows"]) == ["1", "2", "4"] and blocked["plateau_from"] is None
    # window from 4: within-seed ranks (1, 2, 3), (1, 2, 3), (1, 3, 2), so column rank sums
    # 3, 7, 8 and L = 1 x 3 + 2 x 7 + 3 x 8 = 41; of the 216 rank tables 7 reach 41 or more
    # (42: 1 table; 41: 6, one seed with two neighbouring ranks swapped)
    assert blocked["windows"]["4"]["effect"] == 41
    assert blocked["windows"]["4"]["p"] == pytest.approx(7 / 216)


def test_random_label_slowdown_per_threshold_by_hand():
    import hw1_3_random_labels
    # true labels: 0.85 after epoch 1, 0.95 at epoch 3; random: 0.6 at 4, 0.95 at 6 (seed 0)
    true = [[0.85, 0.9, 0.95, 0.96, 0.97, 0.98], [0.85, 0.92, 0.96, 0.97, 0.98, 0.99]]
    rand = [[0.2, 0.4, 0.5, 0.6, 0.8, 0.95], [0.2, 0.3, 0.5, 0.7, 0.9, 0.96]]
    per_seed = [{"runs": {"true labels": {"train_acc": t}, "random labels": {"train_acc": r}}}
                for t, r in zip(true, rand)]
    s = hw1_3_random_labels.slowdown(per_seed, thresholds=(0.5, 0.95, 0.99))
    low, mid, high = s["thresholds"]
    assert low["true"] == [1, 1] and low["random"] == [3, 3] and low["lower_bound"]
    assert low["ratio"] == [3.0, 3.0] and low["p"] == 0.0 and low["verdict"] == "longer"
    assert low["ratio_bound"] == [2, 2]      # random runs needed more than 2 epochs
    # 0.95: true at epochs 3 and 3, random at 6 and 6 -> ratio 2 for both, not a lower bound
    assert mid["true"] == [3, 3] and mid["random"] == [6, 6] and not mid["lower_bound"]
    assert abs(mid["geo_mean"] - 2.0) < 1e-12 and mid["verdict"] == "longer"
    # 0.99: only seed 1's true run gets there, no random run: nothing to test
    assert high["true"] == [None, 6] and high["random"] == [None, None]
    assert high["n"] == 0 and high["verdict"] == "not tested" and high["geo_mean"] is None
    assert s["tested"] == 2 and s["longer_at"] == [0.5, 0.95] and s["ratio_range"] == [2.0, 3.0]
    # seed 1: true labels at 0.5 in epoch 2, random in epoch 3 (ratio 1.5); seed 0 ratio 3:
    # geometric mean sqrt(4.5), two seeds that disagree this much cannot reject
    true[1] = [0.4, 0.6, 0.7]
    rand[1] = [0.1, 0.1, 0.5]
    per_seed[1]["runs"] = {"true labels": {"train_acc": true[1]},
                           "random labels": {"train_acc": rand[1]}}
    (row,) = hw1_3_random_labels.slowdown(per_seed, thresholds=(0.5,))["thresholds"]
    assert row["ratio"] == [3.0, 1.5] and not row["lower_bound"]
    assert abs(row["geo_mean"] - np.sqrt(4.5)) < 1e-12
    assert row["verdict"] == "no difference detected" and row["p_holm"] > 0.05


def test_minimal_ratio_classification_and_escape_by_hand():
    import hw1_2_grad_norm as script

    def row(by_tol, min_eig, even, predicted, drop):
        return {"by_tol": by_tol, "min_eigenvalue": min_eig,
                "escape": {"even": even, "predicted": predicted, "drop": drop}}
    saddle = {"1e-08": [5, 2, 0], "1e-06": [5, 2, 0], "0.0001": [5, 1, 1]}
    shallow = {"1e-08": [5, 1, 1], "1e-06": [5, 1, 1], "0.0001": [5, 0, 2]}   # a "minimum" at 1e-4
    rows = [row(saddle, -2.0, [-1.0, -4.0], [-1.0, -5.0], [-1.5, -6.0]),
            row(shallow, -1e-3, [-0.5, 0.1], [-0.5, -2.0], [-0.7, -0.1]),
            row({t: [6, 0, 1] for t in saddle}, 0.0, [0.0, 0.0], [0.0, 0.0], [-0.1, -0.2])]
    c = script.classify(rows)
    assert c == {"points": 3, "minima": {"1e-08": 1, "1e-06": 1, "0.0001": 2},
                 "answer": "depends on the tolerance"}
    assert script.classify(rows[:1])["answer"] == "saddles"
    assert script.classify(rows[2:])["answer"] == "minima"
    e = script.escape_summary(rows, steps=[0.01, 0.1])
    assert e["curved"] == 2 and e["tolerance"] == "0.0001"       # the third has min eig 0
    first, second = e["steps"]
    assert (first["step"], first["even_negative"], first["drop_negative"]) == (0.01, 2, 2)
    assert first["ratio_quartiles"] == pytest.approx((1.0, 1.0, 1.0))
    assert (second["even_negative"], second["drop_negative"]) == (1, 2)
    # even / predicted: 0.8 and -0.05; quartiles by numpy's linear interpolation
    assert second["ratio_quartiles"] == pytest.approx(tuple(np.percentile([0.8, -0.05],
                                                                          [25, 50, 75])))
    # one end point is a minimum at 1e-4; its even part is negative at the first step only
    assert e["minima_at_tolerance"] == 1
    assert (first["minima_that_escape"], second["minima_that_escape"]) == (1, 0)
    rows[1]["escape"]["even"][1] = -0.3
    assert script.escape_summary(rows, steps=[0.01, 0.1])["steps"][1]["minima_that_escape"] == 1


def test_rescaling_summary_by_hand():
    import hw1_3_sensitivity
    def run(sharp, rescaled_sharp, eig, rescaled_eig, change=(1e-7, 2e-7)):
        return {"sharpness_1e-3": seeds_of(sharp), "rescaled_sharpness_1e-3": seeds_of(rescaled_sharp),
                "hessian_max_eig": seeds_of(eig), "rescaled_hessian_max_eig": seeds_of(rescaled_eig),
                "rescaled_logit_change": seeds_of(list(change)),
                "rescaled_loss_change": seeds_of([-3e-7, 1e-7])}
    # small batch: flat (sharpness 2) until rescaled (x4 and x5); large batch: sharpness 5, 6
    runs = {"32": run([2.0, 2.0], [8.0, 10.0], [10.0, 20.0], [1000.0, 2000.0]),
            "2048": run([5.0, 6.0], [20.0, 30.0], [30.0, 40.0], [3000.0, 4000.0], (5e-7, 0.0))}
    s = hw1_3_sensitivity.rescaling_summary(runs, [32, 2048])
    sharp = s["sharpness_1e-3"]
    assert s["models"] == 4 and sharp["ratios"] == [4.0, 5.0, 4.0, 5.0]
    assert sharp["geo_mean"] == pytest.approx(np.sqrt(20.0)) and sharp["verdict"] == "rises"
    assert s["hessian_max_eig"]["ratios"] == [100.0] * 4 and s["hessian_max_eig"]["p"] == 0.0
    # rescaled batch-32 models (8, 10) against the original batch-2048 ones (5, 6): sharper
    c = sharp["small_rescaled_vs_large"]
    assert c["effect"] == pytest.approx(9.0 - 5.5) and c["n"] == [2, 2]
    assert sharp["small_rescaled_mean"] == 9.0 and sharp["large_mean"] == 5.5
    assert s["max_logit_change"] == 5e-7 and s["max_loss_change"] == 3e-7


def test_monotone_along_the_line_from_the_initialisation_by_hand():
    import hw1_3_interpolation as script
    assert script.largest_rise([3.0, 2.0, 2.5, 1.0]) == (0.5, 1)
    assert script.largest_rise([3.0, 2.0, 1.0])[0] == 0.0              # never rises
    # a rise over several steps counts in full, from the running minimum (index 1) on
    assert script.largest_rise([3.0, 1.0, 1.2, 1.5, 1.4]) == (0.5, 1)
    # seed 0: falls 2.0 -> 0.0 with a rise of 0.1 (5 % of the fall); seed 1: strictly falling
    lines = [{"m": {"train_loss": [2.0, 1.0, 1.1, 0.0], "test_loss": [2.0, 1.5, 1.0, 0.5]}},
             {"m": {"train_loss": [2.0, 1.5, 1.0, 0.0], "test_loss": [2.0, 1.9, 1.95, 1.0]}}]
    s = script.monotone_summary([{"init_lines": line} for line in lines], [0.0, 0.5, 0.75, 1.0])
    train, test = s["m"]["train"], s["m"]["test"]
    assert train["rise_from_alpha"] == [0.5, 0.0] and test["rise_from_alpha"] == [0.0, 0.5]
    assert train["relative_rise"] == pytest.approx([0.05, 0.0])
    assert (train["below_0"], train["below_0.01"], train["below_0.1"]) == (1, 1, 2)
    # test: seed 0 falls at every step; seed 1 rises 0.05 above its minimum, of a fall of 1.0
    assert test["relative_rise"] == pytest.approx([0.0, 0.05])
    assert (test["below_0"], test["below_0.01"], test["below_0.1"]) == (1, 1, 2)
    totals = script.monotone_totals({"m": s["m"], "n": s["m"]})        # two models, 4 lines each
    assert totals["train"]["lines"] == 4 and totals["train"]["never"] == 2
    assert totals["train"]["rise_at"] == [0.5, 0.5]
    assert totals["test"]["largest_rise"] == pytest.approx(0.05)


def fit_answer_results(verdicts):
    """A function-fit result whose targets have the given depth_helps verdicts."""
    helps = {"yes": ([], 0.0004), "no": (["D8"], 0.002), "no difference detected": ([], 0.25)}
    return {"fits": {f"t{i}": {} for i in range(len(verdicts))},
            "summary": {f"t{i}": {"shallowest": "D1", "depth_helps": {
                "n": 40, "contrasts": 3, "verdict": v, "above_shallowest": helps[v][0],
                "p_holm_min": helps[v][1] * (i + 1)}} for i, v in enumerate(verdicts)}}


def test_rank_check_says_where_the_rank_test_agrees():
    r = fit_answer_results(["yes", "yes"])
    for i, p in enumerate((1e-6, 3e-4)):
        r["summary"][f"t{i}"]["depth_helps_rank"] = {**r["summary"][f"t{i}"]["depth_helps"],
                                                     "p_holm_min": p}
    assert report.rank_check(r) == ("agrees on all 2 targets (Mann–Whitney U, the same contrasts "
                                    "and correction; every target's smallest corrected "
                                    "p ≤ 0.0003)")
    r["summary"]["t1"]["depth_helps_rank"]["verdict"] = "no difference detected"
    r["summary"]["t1"]["depth_helps_rank"]["p_holm_min"] = 0.0712
    assert report.rank_check(r) == ("agrees on 1 of 2 targets (Mann–Whitney U, the same contrasts "
                                    "and correction); it says no difference detected on "
                                    "t1 (smallest corrected p 0.071)")
    r = fit_answer_results(["no difference detected"])
    r["summary"]["t0"]["depth_helps_rank"] = dict(r["summary"]["t0"]["depth_helps"])
    assert report.rank_check(r) == ("agrees on the 1 target (Mann–Whitney U, the same contrasts "
                                    "and correction)")


def test_depth_answer_names_yes_no_and_undetected_targets():
    text = report.depth_answer(fit_answer_results(["yes", "yes"]))
    assert text == ("Yes, on all 2 targets: at least one deeper net ends with a lower mean log10 "
                    "MSE than D1 (Welch's t, Holm over the 3 contrasts with D1, n = 40 each; "
                    "every target's smallest corrected p ≤ 0.0008)")
    text = report.depth_answer(fit_answer_results(["yes", "no", "no difference detected"]))
    assert text.startswith("Yes on 1 of 3 targets (t0): ")
    assert ("; no on t1: no deeper net ends below D1, which ends below D8 on t1; no difference "
            "detected on t2 (p ≥ 0.75)") in text
    text = report.depth_answer(fit_answer_results(["no difference detected"]))
    assert text == ("No difference detected on t0 (p ≥ 0.25) (Welch's t, Holm over the 3 "
                    "contrasts with D1, n = 40 each)")


def test_blocked_check_names_the_stop_and_the_window_before():
    def plateau(found, ps):
        windows = {str(w): {"p": q} for w, q in ps.items()}
        return {"plateau_from": found, "blocked": {
            "plateau_from": found, "windows": windows,
            "at": windows[str(found)] if found is not None else None}}
    s = {"saturation": plateau(256, {128: 0.0069, 256: 0.0916}),
         "loss_plateau": plateau(1, {1: 0.30, 2: 0.5})}
    assert report.blocked_check(s, 6) == ("stops at the same widths (test accuracy from width "
                                          "256: p = 0.092, one earlier 0.0069; test loss from "
                                          "width 1: p = 0.3; n = 6 seeds)")
    s["loss_plateau"]["plateau_from"] = 2        # the pooled rule stopped elsewhere
    assert report.blocked_check(s, 6).startswith("stops at other widths (")


def test_trend_statistic_alone():
    t = {"test": "Spearman", "verdict": "no trend detected", "effect": 0.191, "p": 0.3612, "n": 24}
    assert report.stat_text(t) == "ρ = 0.19, p = 0.36, n = 24"
    assert report.stat_text({**t, "verdict": "not tested"}) == "not tested"


def test_value_range_from_smallest_to_largest():
    assert report.value_range([0.85, 0.8, 0.95, 0.85]) == "0.8 to 0.95"
    assert report.value_range([0.5, 0.5]) == "0.5" and report.value_range([]) == "none"


def test_p_bounds_round_the_right_way():
    assert report.p_ceil(0.000911) == "0.00092" and report.p_floor(0.000919) == "0.00091"
    assert report.p_ceil(3e-21) == "1e-20" and report.p_ceil(0.05) == "0.05"


def test_cnn_answer_names_its_epoch_budget():
    import json
    from pathlib import Path
    r = json.loads((Path(__file__).resolve().parents[1] / "figures" /
                    "hw1_1_mnist_cnn.json").read_text())
    s = r["summary"]
    epochs = len(r["models"]["C1"]["runs"][0]["history"]["test_acc"])
    v = report.values_cnn(r)
    assert s["above_shallowest"] == [] and s["below_shallowest"] == ["C4"]
    assert v["cnn.depth_answer"] == (f"Not after {epochs} epochs: no deeper CNN beats C1, and C4 "
                                     "is below it")
    first, last = (int(e) for e in s["budgets"])
    assert v["cnn.budget_answer"] == (f"after neither {first} nor {last} epochs does a deeper "
                                      "CNN come out above C1")


def test_loss_correlations_at_every_tolerance():
    import hw1_2_grad_norm
    # 4 end points, 10 parameters; at 1e-8 the positive count rises as the loss falls, at 1e-4
    # it falls: rank correlations -1 and +1 (ratios pos / 10 and pos / (pos + 3))
    loss = [0.4, 0.3, 0.2, 0.1]
    rows = [{"loss": l, "by_tol": {"1e-08": [2 + k, 3, 5 - k], "0.0001": [5 - k, 3, 2 + k]}}
            for k, l in enumerate(loss)]
    out = hw1_2_grad_norm.correlations_by_tol(rows)
    assert list(out) == ["1e-08", "0.0001"]
    assert out["1e-08"]["loss"]["effect"] == pytest.approx(-1.0)
    assert out["0.0001"]["loss"]["effect"] == pytest.approx(1.0)
    assert out["1e-08"]["nonzero_loss"]["effect"] == pytest.approx(-1.0)
    assert out["1e-08"]["loss"]["verdict"] == "falls" and out["0.0001"]["loss"]["verdict"] == "rises"
    assert report.by_tol_text(out, "loss") == ("ρ = -1.00 / 1.00 at the 2 tolerances (each "
                                               "p < 1e-4, n = 4): its verdict depends on the "
                                               "tolerance")
    # one mixed order (ranks of the ratio 1, 3, 2, 4 against the loss 4, 3, 2, 1): rho by hand
    rows[1]["by_tol"]["1e-08"], rows[2]["by_tol"]["1e-08"] = [4, 3, 3], [3, 3, 4]
    rho = np.corrcoef([1, 3, 2, 4], [4, 3, 2, 1])[0, 1]
    assert hw1_2_grad_norm.correlations_by_tol(rows)["1e-08"]["loss"]["effect"] == pytest.approx(rho)
