"""Bad input, broken files and interrupted runs: one line on stderr, exit 2 (or 128 + signal),
and the output folder exactly as it was."""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import hw1_1_mnist_cnn
import hw1_1_simulate_function
import hw1_2_grad_norm
import hw1_2_optimization
import hw1_3_interpolation
import hw1_3_sensitivity
from common import report
from common.data import IDX_FILES, load_image_data
from conftest import (ROOT, TINY_FIT, assert_one_line_error, idx_bytes, placeholder_figures,
                      write_idx_set)

FIT = "hw1_1_simulate_function"


def snapshot(folder):
    """{name: bytes} of every file under `folder` (hidden ones too)."""
    if not folder.exists():
        return None
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file()}


@pytest.fixture(scope="module")
def finished_fit(tmp_path_factory):
    """One finished tiny function-fit run (made once; tests get copies)."""
    out = tmp_path_factory.mktemp("finished") / "out"
    with placeholder_figures():
        hw1_1_simulate_function.main([*TINY_FIT, "--out-dir", str(out)])
    return out


@pytest.fixture
def fit_dir(finished_fit, tmp_path):
    """An output folder of this test's own holding a finished tiny function-fit run."""
    return Path(shutil.copytree(finished_fit, tmp_path / "out"))


# --- environment and flags -------------------------------------------------------------------

def test_bad_hw1_dataset_environment_value(capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("HW1_DATASET", "bogus")
    err = assert_one_line_error(capsys, hw1_1_mnist_cnn.main, ["--quick", "--out-dir", str(tmp_path / "o")])
    assert "HW1_DATASET='bogus'" in err and "--dataset" in err
    assert not (tmp_path / "o").exists()
    with pytest.raises(SystemExit):
        hw1_1_mnist_cnn.main(["--help"])
    assert "bogus" not in capsys.readouterr().out


@pytest.mark.parametrize("args, message", [
    (["--seed", str(2**32)], "must be in 0 .. 4294967295"),
    (["--seed", "-1"], "must be in 0 .. 4294967295"),
    (["--train-samples", "-5"], "must be 0 or a positive integer"),
    (["--out-dir", ""], "--out-dir is empty"),
    (["--threads", "-1"], "must be 0 or a positive integer"),
])
def test_bad_values_exit_2_before_anything_is_written(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    err = assert_one_line_error(capsys, hw1_1_mnist_cnn.main, ["--quick", *args])
    assert message in err
    assert os.listdir(tmp_path) == []


def test_derived_seeds_must_stay_in_range(capsys, tmp_path):
    err = assert_one_line_error(capsys, hw1_2_optimization.main, [
        "--quick", "--seed", str(2**32 - 4), "--out-dir", str(tmp_path / "o")])
    assert "8 trainings needs seeds up to 4294967299" in err
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("main, args, message", [
    (hw1_3_sensitivity.main, ["--batch-sizes", "0,32"], "must be a positive integer, got 0"),
    (hw1_3_sensitivity.main, ["--batch-sizes", ","], "no numbers given"),
    (hw1_3_sensitivity.main, ["--batch-sizes", "32,,64"], "empty item"),
    (hw1_2_grad_norm.main, ["--phase1-min", "500", "--phase1-max", "100"], "exceeds --phase1-max"),
    (hw1_2_grad_norm.main, ["--phase1-min", "500"], "--phase1-min 500 exceeds --phase1-max 200"),
    (hw1_3_interpolation.main, ["--alpha-steps", "1"], "--alpha-steps must be at least 2"),
])
def test_quick_combinations_are_validated(capsys, tmp_path, main, args, message):
    err = assert_one_line_error(capsys, main, ["--quick", *args, "--out-dir", str(tmp_path / "o")])
    assert message in err
    assert not (tmp_path / "o").exists()


def test_explicit_flags_win_over_quick_defaults(tmp_path):
    r = hw1_1_simulate_function.main(["--quick", "--epochs", "5", "--out-dir", str(tmp_path)])
    assert r["meta"]["config"]["epochs"] == 5 and r["fits"]["sin(5πx)"]["M1"]["curve_epochs"][-1] == 5
    assert r["meta"]["config"]["points"] == hw1_1_simulate_function.QUICK["points"]


def test_quick_writes_to_its_own_folder_and_never_over_a_full_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    hw1_1_simulate_function.main(TINY_FIT)
    assert (tmp_path / "figures" / "quick" / f"{FIT}.json").is_file()
    assert not (tmp_path / "figures" / f"{FIT}.json").exists()
    full = tmp_path / "full"
    hw1_1_simulate_function.main([*TINY_FIT[1:], "--out-dir", str(full)])
    before = snapshot(full)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, ["--quick", "--out-dir", str(full)])
    assert "holds a full run's results" in err
    assert snapshot(full) == before


# --- data ------------------------------------------------------------------------------------

def write_arrays(folder, train_images, test_images=None):
    """The four IDX files from given image arrays (labels 0..9 cycling)."""
    folder.mkdir(parents=True, exist_ok=True)
    test_images = train_images[:20] if test_images is None else test_images
    arrays = {"train_images": train_images, "test_images": test_images,
              "train_labels": np.arange(len(train_images)) % 10,
              "test_labels": np.arange(len(test_images)) % 10}
    for key, stem in IDX_FILES.items():
        (folder / stem).write_bytes(idx_bytes(arrays[key]))
    return folder


def corrupt_gz(root):
    folder = write_idx_set(root / "d", gz=True)
    path = folder / f"{IDX_FILES['train_images']}.gz"
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    path.write_bytes(bytes(raw))
    return folder


def three_of_four(root):
    folder = write_idx_set(root / "d")
    (folder / IDX_FILES["test_labels"]).unlink()
    return folder


def data_dir_is_a_file(root):
    root.mkdir(parents=True, exist_ok=True)
    (root / "file").write_text("x")
    return root / "file"


@pytest.mark.parametrize("make, message", [
    (corrupt_gz, "corrupt or truncated .gz file"),
    (lambda root: write_arrays(root / "d", np.zeros((50, 32, 32), np.uint8)), "need 28x28"),
    (lambda root: write_arrays(root / "d", np.zeros((50, 28, 28), np.uint8),
                               np.zeros((0, 28, 28), np.uint8)), "the test split holds no images"),
    (three_of_four, "holds 3 of the 4 MNIST IDX files; missing: t10k-labels-idx1-ubyte"),
    (data_dir_is_a_file, "is a file, not a folder"),
])
@pytest.mark.parametrize("main", [hw1_1_mnist_cnn.main, hw1_2_optimization.main])
def test_bad_data_is_one_line_and_writes_nothing(capsys, tmp_path, make, message, main):
    data = make(tmp_path / "data")
    err = assert_one_line_error(capsys, main, ["--quick", "--dataset", "mnist", "--data-dir", str(data),
                                        "--out-dir", str(tmp_path / "o")])
    assert message in err
    assert not (tmp_path / "o").exists()


def test_failed_download_leaves_no_folders(capsys, tmp_path, monkeypatch):
    def failing_download(name, data_dir):
        raw = data_dir / "MNIST" / "raw"
        raw.mkdir(parents=True)
        (raw / "train-images-idx3-ubyte.gz.part").write_bytes(b"xx")
        raise OSError("network unreachable (test)")
    monkeypatch.setattr("common.data.download", failing_download)
    err = assert_one_line_error(capsys, hw1_1_mnist_cnn.main, [
        "--quick", "--dataset", "mnist", "--data-dir", str(tmp_path / "data"),
        "--out-dir", str(tmp_path / "o")])
    assert "MNIST not found" in err
    assert os.listdir(tmp_path) == []


def test_files_of_the_other_data_set_give_a_warning(capsys, idx_dir_gz):
    load_image_data("mnist", idx_dir_gz, "cpu")
    assert capsys.readouterr().err == ""
    # files directly in the data dir are found before the system's Fashion-MNIST copy
    load_image_data("fashion-mnist", idx_dir_gz, "cpu")  # synthetic pixels: mean near MNIST's
    err = capsys.readouterr().err.strip()
    assert err.startswith("warning:") and "look like MNIST (--dataset mnist)" in err
    assert "\n" not in err


# --- broken JSON for --replot and the report -------------------------------------------------

BROKEN_JSON = {
    "another script's": json.dumps({"meta": {"script": "hw1_1_mnist_cnn.py"}, "models": {}}),
    "an older script's": json.dumps({"meta": {"config": {}}, "models": {}}),
    "a list": "[1, 2, 3]",
    "missing a key": None,  # filled in the test: the real JSON without "fits"
    "non-UTF-8": b"\xff\xfe{\x00",
    "truncated": '{"meta": {"config": ',
}


@pytest.mark.parametrize("kind", list(BROKEN_JSON))
def test_replot_of_a_broken_json_changes_nothing(capsys, fit_dir, kind):
    path = fit_dir / f"{FIT}.json"
    content = BROKEN_JSON[kind]
    if content is None:
        obj = json.loads(path.read_text())
        del obj["fits"]
        content = json.dumps(obj)
    path.write_bytes(content if isinstance(content, bytes) else content.encode())
    before = snapshot(fit_dir)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, ["--replot", "--out-dir",
                                                                str(fit_dir)])
    assert str(path) in err
    assert snapshot(fit_dir) == before


def test_report_on_a_truncated_json_is_one_line(capsys, fit_dir, tmp_path):
    (fit_dir / f"{FIT}.json").write_text('{"meta": {"con')
    readme = tmp_path / "README.md"
    readme.write_text("<!-- table:fits -->\n<!-- /table:fits -->\n")
    assert report.main(["--figures", str(fit_dir), "--readme", str(readme)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("report: error:") and "not valid JSON" in err and "\n" not in err


# --- interrupted runs ------------------------------------------------------------------------

@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signal_after_the_json_is_written_changes_nothing(capsys, fit_dir, monkeypatch, signum):
    before = snapshot(fit_dir)

    def interrupted_plot(results, path):
        os.kill(os.getpid(), signum)  # delivered here, after the JSON and the first figure
    monkeypatch.setattr(hw1_1_simulate_function, "plot_function_predictions", interrupted_plot)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, [
        *TINY_FIT, "--epochs", "30", "--out-dir", str(fit_dir)], code=128 + signum)
    assert f"interrupted ({signal.Signals(signum).name}); no output file was changed" in err
    assert snapshot(fit_dir) == before


def test_signal_during_the_commit_lets_it_finish(capsys, fit_dir, monkeypatch):
    real_replace = os.replace
    calls = []

    def replace_then_signal(src, dst):
        if not calls:
            os.kill(os.getpid(), signal.SIGTERM)
        calls.append(dst)
        real_replace(src, dst)
    monkeypatch.setattr("common.outputs.os.replace", replace_then_signal)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, [
        *TINY_FIT, "--epochs", "30", "--out-dir", str(fit_dir)], code=128 + signal.SIGTERM)
    assert "after this run's output files were all written" in err
    assert json.loads((fit_dir / f"{FIT}.json").read_text())["meta"]["config"]["epochs"] == 30
    assert sorted(os.listdir(fit_dir)) == [f"{FIT}.json", f"{FIT}_final_mse.png", f"{FIT}_loss.png",
                                      f"{FIT}_predictions.png"]


def test_failed_commit_restores_the_previous_files(capsys, fit_dir, monkeypatch):
    before = snapshot(fit_dir)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst):
        calls.append(dst)
        if len(calls) == 4:  # old JSON and old loss PNG already swapped for the new ones
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    monkeypatch.setattr("common.outputs.os.replace", failing_replace)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, [
        *TINY_FIT, "--epochs", "30", "--out-dir", str(fit_dir)])
    assert "No space left on device; previous files kept" in err
    assert snapshot(fit_dir) == before


@pytest.mark.parametrize("where", ["json", "figure"])
def test_full_disk_while_staging_is_one_line_and_changes_nothing(capsys, fit_dir, monkeypatch,
                                                                  where):
    """ENOSPC while the JSON or a figure is written into the staging folder (a full disk, as on
    a small tmpfs): one line, exit 2, the previous files untouched, no staging folder left."""
    before = snapshot(fit_dir)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    if where == "json":
        monkeypatch.setattr("common.cli.write_json", full)
    else:
        monkeypatch.setattr("hw1_1_simulate_function.save_figure", full)
    err = assert_one_line_error(capsys, hw1_1_simulate_function.main, [
        *TINY_FIT, "--epochs", "30", "--out-dir", str(fit_dir)])
    assert "No space left on device; the output folder is left as it was" in err
    assert snapshot(fit_dir) == before
    assert not [p for p in fit_dir.iterdir() if p.name.startswith(".")]


def _handler_installed(pid, signum):
    """True once process `pid` catches `signum` (Linux /proc)."""
    with open(f"/proc/{pid}/status") as fh:
        caught = next(int(line.split()[1], 16) for line in fh if line.startswith("SigCgt:"))
    return bool(caught >> (signum - 1) & 1)


def _wait_or_describe(proc, err_file, timeout=60):
    """stderr of `proc` once it has exited; fails with its threads' states if it has not within
    `timeout` s (stderr goes to a file, so a lingering child cannot hold a pipe open)."""
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        tasks = {t: open(f"/proc/{proc.pid}/task/{t}/stat").read().split()[2]
                 for t in os.listdir(f"/proc/{proc.pid}/task")}
        proc.kill()
        pytest.fail(f"no exit {timeout} s after the signal; thread states {tasks}; stderr "
                    f"{err_file.read_text()[-2000:]!r}")
    return err_file.read_text()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_real_signal_to_a_running_script(finished_fit, tmp_path):
    # SIGINT and SIGTERM, each to its own running script (started together: most of a run
    # before the training loop is importing torch), each over its own finished output folder
    signums = (signal.SIGINT, signal.SIGTERM)
    dirs = {s: Path(shutil.copytree(finished_fit, tmp_path / f"out{int(s)}")) for s in signums}
    before = {s: snapshot(d) for s, d in dirs.items()}
    procs, err_files = {}, {s: tmp_path / f"stderr{int(s)}" for s in signums}
    for s in signums:
        with open(err_files[s], "w") as err_fh:
            procs[s] = subprocess.Popen([sys.executable, str(ROOT / f"{FIT}.py"), "--epochs",
                                         "1000000", "--out-dir", str(dirs[s])], stderr=err_fh,
                                        text=True)
    try:
        for s in signums:
            deadline = time.monotonic() + 60
            while not _handler_installed(procs[s].pid, signal.SIGTERM) and \
                    time.monotonic() < deadline:
                time.sleep(0.05)
        time.sleep(0.5)  # into the training loop
        for s in signums:
            procs[s].send_signal(s)
        for s in signums:
            err = _wait_or_describe(procs[s], err_files[s])
            assert procs[s].returncode == 128 + s, (s, err)
            assert err.strip().endswith("no output file was changed") and "Traceback" not in err
            assert snapshot(dirs[s]) == before[s], s
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the dropped one
def test_an_interrupt_dropped_in_a_finalizer_is_raised_at_the_next_progress_step():
    # A signal handled while a __del__ runs: Python prints and drops its exception (a training
    # once ran on for 24 minutes after SIGTERM that way); the next progress step raises it.
    from common.errors import Interrupted
    from common.outputs import signals_as_exceptions
    from common.train import progress

    class SignalOnDelete:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)   # the handler runs here, inside the finalizer
    steps = []
    with pytest.raises(Interrupted) as info:
        with signals_as_exceptions():
            SignalOnDelete()   # deleted at once: its exception is dropped
            for step in progress(range(5), "steps"):
                steps.append(step)
    assert info.value.signum == signal.SIGTERM and steps == []


def test_every_quick_key_names_a_flag_and_a_misspelt_one_is_refused():
    import importlib
    from common import cli
    scripts = sorted(p.stem for p in Path(__file__).resolve().parents[1].glob("hw1_*.py"))
    assert len(scripts) == 8
    for name in scripts:
        script = importlib.import_module(name)
        cli.check_quick(script.build_parser(), script.QUICK)        # every script's own keys
    parser = importlib.import_module("hw1_1_simulate_function").build_parser()
    with pytest.raises(ValueError, match="seeeds"):
        cli.check_quick(parser, {"epochs": 3, "seeeds": 2})


def test_a_figure_the_run_no_longer_draws_is_removed_and_restored_on_failure(tmp_path,
                                                                            monkeypatch):
    from common.outputs import ScriptError, StagedOutputs
    (tmp_path / "exp.json").write_text("old")
    (tmp_path / "exp_gone.png").write_text("stale figure")
    (tmp_path / "exp_kept.png").write_text("old kept")
    (tmp_path / "other_gone.png").write_text("another script's figure")
    with StagedOutputs(tmp_path, "exp") as staged:
        staged.path("exp.json").write_text("new")
        staged.path("exp_kept.png").write_text("new kept")
        staged.commit()
    assert sorted(os.listdir(tmp_path)) == ["exp.json", "exp_kept.png", "other_gone.png"]
    assert (tmp_path / "exp_kept.png").read_text() == "new kept"
    # a failing commit puts the stale figure back with everything else
    (tmp_path / "exp_gone.png").write_text("stale again")
    real_replace = os.replace
    failed = []

    def failing_replace(src, dst):   # fails once: moving the new figure into place
        if str(dst).endswith("exp_kept.png") and ".staging" in str(src) and not failed:
            failed.append(dst)
            raise OSError(28, "No space left on device")
        real_replace(src, dst)
    monkeypatch.setattr("common.outputs.os.replace", failing_replace)
    with pytest.raises(ScriptError, match="previous files kept"):
        with StagedOutputs(tmp_path, "exp") as staged:
            staged.path("exp.json").write_text("newer")
            staged.path("exp_kept.png").write_text("newer kept")
            staged.commit()
    assert (tmp_path / "exp_gone.png").read_text() == "stale again"
    assert (tmp_path / "exp.json").read_text() == "new"
    assert (tmp_path / "exp_kept.png").read_text() == "new kept"


def test_a_quick_benchmark_writes_its_table_beside_the_quick_outputs(tmp_path):
    from benchmarks.bench import table_path
    assert table_path("suite_cpu.md", True, tmp_path / "q") == tmp_path / "q" / "suite_cpu.md"
    assert (tmp_path / "q").is_dir()
    full = table_path("suite_cpu.md", False, tmp_path / "q")
    assert full == Path(__file__).resolve().parents[1] / "benchmarks" / "suite_cpu.md"


@pytest.mark.parametrize("stem", ["hw1_1_simulate_function", "hw1_1_mnist_cnn", "hw1_2_optimization",
                                  "hw1_2_grad_norm", "hw1_3_random_labels",
                                  "hw1_3_params_generalization", "hw1_3_interpolation",
                                  "hw1_3_sensitivity"])
def test_every_experiment_flag_is_a_field_of_the_scripts_settings(stem):
    """A script declares each setting once, in its Settings dataclass: its flags beyond the
    shared ones are the fields, with the fields' defaults, and QUICK is the fields' --quick
    values (so a --quick value cannot name a flag that does not exist)."""
    import dataclasses
    import importlib
    from common import cli
    module = importlib.import_module(stem)
    shared = {a.dest for a in cli.make_parser("x", "", uses_dataset=True)._actions}
    own = {a.dest: a.default for a in module.build_parser()._actions if a.dest not in shared}
    fields = dataclasses.fields(module.Settings)
    assert own == {f.name: f.default for f in fields}
    assert module.QUICK == {f.name: f.metadata["quick"] for f in fields
                            if f.metadata["quick"] is not cli._NO_QUICK}
    assert module.DEFAULTS == module.Settings()


def test_settings_become_flags_with_their_quick_values(capsys):
    import dataclasses
    from common import cli

    @dataclasses.dataclass(frozen=True)
    class Settings:
        epochs: int = cli.setting(30, cli.positive_int, "epochs per model", quick=2)
        lr: float = cli.setting(0.1, cli.positive_float, "learning rate")
        fast: bool = cli.setting(True, bool, "a switch", quick=False)
    parser = cli.make_parser("demo", "doc", Settings, uses_dataset=False)
    quick = cli.quick_settings(Settings)
    assert quick == {"epochs": 2, "fast": False}
    plain = cli.parse_args(parser, [], quick)
    assert (plain.epochs, plain.lr, plain.fast) == (30, 0.1, True)
    parser = cli.make_parser("demo", "doc", Settings, uses_dataset=False)
    fast = cli.parse_args(parser, ["--quick", "--lr", "0.5", "--fast"], quick)
    assert (fast.epochs, fast.lr, fast.fast, fast.out_dir) == (2, 0.5, True, cli.QUICK_OUT_DIR)
    parser = cli.make_parser("demo", "doc", Settings, uses_dataset=False)
    assert cli.parse_args(parser, ["--no-fast"], quick).fast is False
    with pytest.raises(SystemExit) as info:
        cli.make_parser("demo", "doc", Settings, uses_dataset=False).parse_args(["--epochs", "0"])
    assert info.value.code == 2 and "positive" in capsys.readouterr().err
