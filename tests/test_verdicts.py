"""Each script's summary (the verdicts the README states) on hand-built results whose answers
are worked out by hand: separated, overlapping, tied and single-seed groups."""
import hw1_1_mnist_cnn
from common import report


def cnn_results(depth, original):
    def model(series, values):
        return {"series": series, "final": {"test_acc": {"values": values}}}
    return {"models": {**{n: model("depth", v) for n, v in depth.items()},
                       **{n: model("original", v) for n, v in original.items()}}}


def test_cnn_ranking_separated_overlapping_and_single_seed():
    results = cnn_results(
        depth={"C1": [0.887, 0.889, 0.888], "C2": [0.886, 0.890, 0.8875],
               "C4": [0.868, 0.869, 0.867]},
        original={"CNN1": [0.87], "CNN2": [0.88]})
    summary = hw1_1_mnist_cnn.summarise(results)
    # C1 and C2 overlap (means 0.8880 and 0.8878); C4 lies 0.02 below both with spreads of 0.001
    assert summary["depth"]["order"] == ["C1", "C2", "C4"]
    assert summary["depth"]["text"] == "C1 ≈ C2 > C4"
    # one seed each: nothing can be tested, so no ranking is claimed
    assert summary["original"]["text"] == "CNN2 ≈ CNN1"
    text = report.ranking_text(summary["depth"])
    assert text.startswith("C1 ≈ C2 > C4 (Welch's t, Holm-corrected, n = 3 each; C1–C2 p = ")


def test_cnn_ranking_follows_the_data_not_the_names():
    # the same numbers under swapped names give the swapped verdict
    results = cnn_results(depth={"C1": [0.868, 0.869, 0.867], "C2": [0.887, 0.889, 0.888]},
                          original={"CNN1": [0.8, 0.81], "CNN2": [0.8, 0.81]})
    summary = hw1_1_mnist_cnn.summarise(results)
    assert summary["depth"]["text"] == "C2 > C1"
    assert summary["original"]["text"] in ("CNN1 ≈ CNN2", "CNN2 ≈ CNN1")   # tied
