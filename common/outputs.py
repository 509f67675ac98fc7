"""Output files: checking the output folder, reading JSON safely, and writing one run's files
together or not at all (staged in a hidden folder, then renamed into place with signals held)."""
import contextlib
import json
import os
import shutil
import signal
import tempfile
import threading
from pathlib import Path

from common.errors import Interrupted, ScriptError

HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def check_out_dir(path):
    """The output folder as a Path, checked for writability without creating anything."""
    if not str(path).strip():
        raise ScriptError("--out-dir is empty: name a folder (default: figures)")
    out = Path(path)
    probe = out
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        what = "--out-dir" if probe == out else f"{probe} (a parent of --out-dir {out})"
        raise ScriptError(f"{what} is a file, not a folder: choose another --out-dir")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise ScriptError(f"cannot write to output folder {out}: {probe} is not writable")
    return out


def atomic_write(path, write):
    """Call write(tmp_path) on a temporary file beside `path`, then rename it over `path`."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        os.chmod(tmp, 0o666 & ~_umask())
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_json(path, obj):
    """Write `obj` as indented JSON (inside a staging folder, so no temporary file is needed)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, indent=1, ensure_ascii=False)
        fh.write("\n")


def read_json(path, what="results"):
    """Parse a JSON object from `path`; every way it can be missing or broken is a ScriptError."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
        obj = json.loads(text)
    except FileNotFoundError:
        raise ScriptError(f"{path} not found") from None
    except IsADirectoryError:
        raise ScriptError(f"{path} is a folder, not a JSON file") from None
    except UnicodeDecodeError:
        raise ScriptError(f"{path} is not UTF-8 text, so not a JSON file of {what}") from None
    except json.JSONDecodeError as exc:
        raise ScriptError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}): "
                          "truncated or edited?") from None
    except OSError as exc:
        raise ScriptError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not isinstance(obj, dict):
        raise ScriptError(f"{path} holds a JSON {type(obj).__name__}, not an object of {what}")
    return obj


_PENDING = []   # signals seen by signals_as_exceptions' handler in the current block


@contextlib.contextmanager
def _handling_signals(handler):
    """SIGINT and SIGTERM call handler(signum, frame) during the block, the previous handlers
    restored after it; in the main thread only (elsewhere nothing changes). The one place that
    installs and restores handlers in a script's process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.signal(s, handler) for s in HANDLED_SIGNALS}
    try:
        yield
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@contextlib.contextmanager
def signals_as_exceptions():
    """SIGINT and SIGTERM raise Interrupted.

    A handler that runs while Python executes a finalizer (__del__, a weakref callback) has its
    exception printed and dropped, and the run would go on (a SIGTERM'd training once ran on for
    24 minutes); so the signal is also remembered, and raise_pending_interrupt() raises it again
    at the next progress step.
    """
    def handler(signum, frame):
        _PENDING.append(signum)
        raise Interrupted(signum)
    try:
        with _handling_signals(handler):
            yield
    finally:
        _PENDING.clear()


def raise_pending_interrupt():
    """Raise Interrupted for a signal whose first exception was dropped (see above)."""
    if _PENDING:
        raise Interrupted(_PENDING[0])


@contextlib.contextmanager
def signals_held(after_commit=True):
    """Hold SIGINT/SIGTERM during the block; one that arrived raises Interrupted afterwards."""
    caught = []
    with _handling_signals(lambda signum, frame: caught.append(signum)):
        yield
    if caught:
        raise Interrupted(caught[0], after_commit=after_commit)


class StagedOutputs:
    """Files of one run, written into a hidden staging folder inside `out` and then renamed over
    the previous files together: commit() either replaces all of them or restores the old ones.

    The output folder (and missing parents) is created on entry and removed again if the run
    fails before commit() and the folder was created here.
    """

    def __init__(self, out, stem):
        self.out, self.stem = Path(out), stem
        self.created, self.staging, self.committed = [], None, False

    def __enter__(self):
        missing = []
        probe = self.out
        while not probe.exists():
            missing.append(probe)
            probe = probe.parent
        try:
            self.out.mkdir(parents=True, exist_ok=True)
            self.created = missing
            self.staging = Path(tempfile.mkdtemp(dir=self.out, prefix=f".{self.stem}.staging-"))
        except OSError as exc:
            self._remove_created()
            raise ScriptError(f"cannot write to output folder {self.out}: "
                              f"{exc.strerror or exc}") from None
        return self

    def path(self, name):
        """Where to write output file `name` before commit()."""
        return self.staging / name

    def commit(self):
        """Rename every staged file into the output folder, and move this script's figures that
        the run no longer draws out of it (a stale figure would contradict the new JSON); all or
        none (signals held)."""
        names = sorted(p.name for p in self.staging.iterdir() if p.is_file())
        stale = sorted(p.name for p in self.out.glob(f"{self.stem}_*.png")
                       if p.is_file() and p.name not in names)
        backup = self.staging / ".previous"
        backup.mkdir()
        done = []
        with signals_held():
            try:
                for name in stale:
                    os.replace(self.out / name, backup / name)
                    done.append((name, True))     # rolled back like a replaced file
                for name in names:
                    target = self.out / name
                    had_old = target.exists()
                    if had_old:
                        os.replace(target, backup / name)
                    done.append((name, had_old))
                    os.replace(self.staging / name, target)
            except OSError as exc:
                self._roll_back(done, backup)
                raise ScriptError(f"cannot write to output folder {self.out}: "
                                  f"{exc.strerror or exc}; previous files kept") from None
            self.committed = True
        return [self.out / name for name in names]

    def _roll_back(self, done, backup):
        for name, had_old in reversed(done):
            with contextlib.suppress(OSError):
                if had_old:
                    os.replace(backup / name, self.out / name)
                else:
                    os.unlink(self.out / name)

    def _remove_created(self):
        for folder in self.created:  # deepest first
            with contextlib.suppress(OSError):
                folder.rmdir()

    def __exit__(self, exc_type, exc, tb):
        with signals_held(after_commit=self.committed):
            if self.staging is not None:
                shutil.rmtree(self.staging, ignore_errors=True)
            if not self.committed:
                self._remove_created()
        return False

