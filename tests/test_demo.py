"""The README's main job, shortened: teacher -> student -> INT8 bundle -> streamed text -> profile."""
from spikelite.demo import run_demo
from spikelite.runtime import load


def test_demo_runs_end_to_end_and_leaves_a_loadable_bundle(tmp_path):
    lines, written = [], []
    r = run_demo(tmp_path, teacher_steps=20, student_steps=20, max_new_tokens=8, progress=False,
                 echo=lines.append, write=written.append)
    assert r.text.startswith("The smart glasses") and "".join(written).startswith("The smart glasses")
    assert [ln[:5] for ln in lines if ln.startswith("[")] == ["[1/5]", "[2/5]", "[3/5]", "[4/5]", "[5/5]"]
    assert r.bundle.with_name("bundle.spkl").is_file()
    assert load(r.bundle.with_name("bundle.spkl"), backend="numpy").generate("The", max_new_tokens=3).tokens >= 1
    assert 0 < r.parity["top1_agreement"] <= 1
