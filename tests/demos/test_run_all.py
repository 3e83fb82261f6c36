"""run_all (the tour) and the demos as scripts: --help, running alone, the table of files."""

import subprocess
import sys
from pathlib import Path

import moons
import neuron
import pytest
import run_all
import spirals
import study_scores
import tutorial_xor

DEMOS = Path(run_all.__file__).parent
TINY = [
    (tutorial_xor, ["--iterations", "5"]),
    (study_scores, ["--epochs", "5"]),
    (neuron, []),
    (moons, ["--steps", "1", "--points", "10"]),
    (spirals, ["--epochs", "1", "--points", "15"]),
]


def test_the_tour_runs_every_demo_and_lists_what_it_wrote(out, monkeypatch, capsys):
    monkeypatch.setattr(run_all, "TOUR", TINY)
    result = run_all.main(["--out", str(out)])

    assert list(result["seconds"]) == [demo.NAME for demo, _ in TINY]
    written = sorted(p.name for p in out.iterdir())
    assert sorted(Path(f).name for f in result["files"]) == written
    assert {Path(f).suffix for f in written} == {".png", ".svg", ".html", ".gif"}
    printed = capsys.readouterr().out
    for k, (demo, _) in enumerate(TINY, 1):
        assert f"== {k}/5 {demo.NAME}: " in printed
        assert f"\n{demo.NAME}: " in printed  # its one-line result
    table = printed.split(f"== written to {out}/\n")[1].splitlines()
    assert table[0].split() == ["file", "kind", "size"]
    rows = {line.split()[0]: line.split()[1:] for line in table[2 : 2 + len(written)]}
    for f in result["files"]:
        kind, number, unit = rows[f]
        assert kind == Path(f).suffix[1:].upper()
        assert run_all.size(Path(f).stat().st_size) == f"{number} {unit}"
    assert "5 demos in " in printed
    assert f"Watch moons learn: open {out / 'moons_training.html'}" in printed


def test_the_tour_runs_the_five_demos_moons_in_full():
    assert [demo.NAME for demo, _ in run_all.TOUR] == [demo.NAME for demo, _ in TINY]
    assert dict((demo.NAME, args) for demo, args in run_all.TOUR)["moons"] == []


def test_demos_left_out_of_the_tour_are_named():
    left_out = run_all.others()
    assert all(name.endswith(".py") and (DEMOS / name).is_file() for name in left_out)
    toured = {Path(demo.__file__).name for demo, _ in run_all.TOUR}
    assert not set(left_out) & (toured | {"run_all.py", "demolib.py"})


@pytest.mark.parametrize(
    "n, text", [(0, "0 B"), (999, "999 B"), (57_047, "57.0 kB"), (1_234_567, "1.2 MB")]
)
def test_sizes_read_as_people_read_them(n, text):
    assert run_all.size(n) == text


@pytest.mark.parametrize("demo", [*(d for d, _ in TINY), run_all], ids=lambda d: d.__name__)
def test_help_is_the_docstring(demo, capsys):
    with pytest.raises(SystemExit) as e:
        demo.main(["--help"])
    assert e.value.code == 0
    printed = capsys.readouterr().out
    assert (demo.__doc__ or "").splitlines()[0] in printed
    assert "--out OUT" in printed


def test_a_demo_runs_alone_as_a_script_from_anywhere(tmp_path):
    # sys.path[0] is demos/, the cwd is elsewhere: demolib must find the project.
    done = subprocess.run(
        [sys.executable, str(DEMOS / "moons.py"), "--steps", "2", "--points", "10", "--out", "o"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("moons: 2 steps (eager, ")
    assert (tmp_path / "o" / "moons_boundary.png").stat().st_size > 0
