"""Sticker build benchmark: a 30-sticker pack of mixed art (10 flat shapes, 10 photos of 12 MP,
10 alpha cut-outs), built cold and warm, beside the same Pillow conversion done by a minimal
script (``bench/stickers_baseline.py``) in the same run; then the bad-input run of the tests.

    .venv/bin/python bench/stickers_build.py [--rounds 3]

Prints each figure with its baseline, the ratio, the budget and MET or MISSED, and peak memory
(the largest single process of each run, from ``wait4``). Budgets: the cold build at most 1.0x
the baseline, as whole processes (Python start-up and imports included) and inside the process
(from the call to the end of the build, beside the baseline's own timing of its work); warm
run < 0.2 s. When the cold budget is missed, or with ``--profile``, the phases of one cold
build are printed (imports, planning and hashing, conversions, manifests and zips).
Sources are generated once into ``bench/out/`` (not committed).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFilter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out" / "stickers"
sys.path.insert(0, str(ROOT))


# --- sources ------------------------------------------------------------------------------------


def _flat(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    image = Image.new("RGBA", (1200, 1200), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y, r = rng.randrange(200, 1000), rng.randrange(200, 1000), rng.randrange(80, 300)
        colour = (*(rng.randrange(256) for _ in range(3)), 255)
        if rng.random() < 0.5:
            draw.ellipse((x - r, y - r, x + r, y + r), fill=colour)
        else:
            draw.regular_polygon((x, y, r), rng.randrange(3, 8), fill=colour)
    image.save(path)


def _photo(path: Path, seed: int, orientation: int | None) -> None:
    rng = random.Random(seed)
    small = Image.linear_gradient("L").resize((500, 375)).convert("RGB")
    draw = ImageDraw.Draw(small)
    for _ in range(60):
        x, y, r = rng.randrange(500), rng.randrange(375), rng.randrange(5, 90)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    image = small.filter(ImageFilter.GaussianBlur(3)).resize((4000, 3000), Image.Resampling.BICUBIC)
    image = Image.blend(image, Image.effect_noise((4000, 3000), 24).convert("RGB"), 0.15)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    image.save(path, "JPEG", quality=90, exif=exif.tobytes())


def _cutout(path: Path, seed: int) -> None:
    rng = random.Random(seed)
    texture = Image.effect_noise((1600, 1600), 40).convert("RGB")
    tint = Image.new("RGB", (1600, 1600), tuple(rng.randrange(60, 220) for _ in range(3)))
    texture = Image.blend(texture, tint, 0.6)
    mask = Image.new("L", (1600, 1600), 0)
    points = []
    for k in range(14):
        a = 2 * math.pi * k / 14
        reach = rng.randrange(450, 720)
        points.append((800 + math.cos(a) * reach, 800 + math.sin(a) * reach))
    ImageDraw.Draw(mask).polygon(points, fill=255)
    texture.putalpha(mask.filter(ImageFilter.GaussianBlur(12)))
    texture.save(path)


def make_sources() -> Path:
    folder = OUT / "sources" / "mixed-art"
    if (folder / "pack.toml").exists():
        return folder.parent
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for n in range(10):
        _flat(folder / f"flat-{n:02d}.png", n)
        _photo(folder / f"photo-{n:02d}.jpg", n, 6 if n % 3 == 0 else None)
        _cutout(folder / f"cutout-{n:02d}.png", n)
        entries += [f"flat-{n:02d}.png", f"photo-{n:02d}.jpg", f"cutout-{n:02d}.png"]
    lines = ['title = "Mixed art"', 'publisher = "Benchmark"', 'unlocked_by = ["code:*"]']
    for n, file in enumerate(entries):
        lines += [
            "",
            "[[sticker]]",
            f'file = "{file}"',
            'emojis = ["🎨"]',
            f'alt = "Benchmark image {n + 1}"',
        ]
    (folder / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder.parent


def make_bad_inputs() -> Path:
    from tests.stickers import art

    stickers = OUT / "bad-input"
    if stickers.exists():
        return stickers
    makers = {
        "truncated-png": art.truncated_png,
        "truncated-jpeg": art.truncated_jpeg,
        "text-as-png": art.text_as_png,
        "svg-as-png": art.svg,
        "zero-filled": art.zero_filled_png,
        "huge-header": art.huge_header_png,
        "alpha-noise": art.alpha_noise,
    }
    for slug, make in makers.items():
        folder = art.write_pack(stickers, slug, 3)
        make(folder / "s2.png")
    art.write_pack(stickers, "thirty-one", 31)
    art.write_pack(stickers, "fine", 3)
    return stickers


# --- runs ---------------------------------------------------------------------------------------


def _run(command: list[str], env: dict[str, str] | None = None) -> tuple[float, int, str]:
    """Run ``command``; return (wall seconds, peak RSS of its largest process in bytes, out)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env
    )
    assert process.stdout is not None
    output = process.stdout.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{command} failed:\n{output}")
    _CPU.append(usage.ru_utime + usage.ru_stime)  # processor time of it and its workers
    return seconds, usage.ru_maxrss * 1024, output


_CPU: list[float] = []


def _child(stickers: str, output: str) -> None:
    """Build in this process (as ``flask stickers build`` does) and print the figures."""
    imported = time.perf_counter()
    from app.stickers import build
    from app.stickers.worker import peak_rss

    imported = time.perf_counter() - imported
    phases: dict[str, float] = {}
    run_jobs, finish = build._run_jobs, build._finish

    def timed_run(*args: Any) -> Any:
        phases["planned"] = time.perf_counter()
        return run_jobs(*args)

    def timed_finish(*args: Any) -> Any:
        phases["converted"] = time.perf_counter()
        outcome = finish(*args)
        phases["finished"] = time.perf_counter()
        return outcome

    build._run_jobs, build._finish = timed_run, timed_finish  # type: ignore[assignment]
    options = build.BuildOptions(Path(stickers), Path(output), "PullfirstBot", 36_000_000)
    started = time.perf_counter()
    report = build.build_packs(options)
    ended = time.perf_counter()
    steps = {"imports": imported}
    if "finished" in phases:
        steps.update(
            plan=phases["planned"] - started,
            convert=phases["converted"] - phases["planned"],
            publish=phases["finished"] - phases["converted"],
            stop=ended - phases["finished"],
        )
    print(
        json.dumps(
            {
                "seconds": ended - started,
                "peak_worker_rss": report.peak_worker_rss,
                "parent_rss": peak_rss(),
                "steps": steps,
                "states": {o.slug: o.state for o in report.outcomes},
            }
        )
    )


def _last_json(output: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(output.strip().splitlines()[-1])
    return data


BUDGET = 1.0


def _verdict(ratio: float) -> str:
    return "MET" if ratio <= BUDGET else "MISSED"


def _mib(count: int) -> str:
    return f"{count / 2**20:.0f} MiB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile",
        action="store_true",
        help="print the phases of a cold build even when the budget is met",
    )
    args = parser.parse_args()
    python = sys.executable
    sources = make_sources()
    pack_dir = sources / "mixed-art"
    print(
        f"load: {os.getloadavg()[0]:.2f} {os.getloadavg()[1]:.2f} {os.getloadavg()[2]:.2f}, "
        f"{os.cpu_count()} cores; 30 stickers: 10 flat PNG 1200x1200, "
        "10 JPEG 4000x3000 (12 MP), 10 RGBA cut-outs 1600x1600"
    )

    baseline, cold, cold_inner, rss_base, rss_cold, workers = [], [], [], [], [], []
    baseline_inner: list[float] = []
    baseline_cpu: list[float] = []
    cold_cpu: list[float] = []
    steps: list[dict[str, float]] = []
    for round_number in range(args.rounds):
        target = OUT / "runs" / f"round-{round_number}"
        shutil.rmtree(target, ignore_errors=True)
        seconds, rss, output = _run(
            [python, "bench/stickers_baseline.py", str(pack_dir), str(target / "baseline")]
        )
        baseline.append(seconds)
        baseline_cpu.append(_CPU[-1])
        baseline_inner.append(_last_json(output)["seconds"])
        rss_base.append(rss)
        seconds, rss, output = _run(
            [python, __file__, "--child", str(sources), str(target / "ours")]
        )
        figures = _last_json(output)
        assert figures["states"] == {"mixed-art": "built"}, figures
        cold.append(seconds)
        cold_inner.append(figures["seconds"])
        cold_cpu.append(_CPU[-1])
        steps.append(figures["steps"])
        rss_cold.append(rss)
        workers.append(figures["peak_worker_rss"])

    warm_inner, warm = [], []
    last = OUT / "runs" / f"round-{args.rounds - 1}" / "ours"
    for _ in range(5):
        seconds, _, output = _run([python, __file__, "--child", str(sources), str(last)])
        figures = _last_json(output)
        assert figures["states"] == {"mixed-art": "up-to-date"}, figures
        warm.append(seconds)
        warm_inner.append(figures["seconds"])
    env = {
        **os.environ,
        "PULLFIRST_STICKERS_DIR": str(sources),
        "PULLFIRST_INSTANCE_PATH": str(OUT / "runs" / "cli-instance"),
    }
    shutil.rmtree(OUT / "runs" / "cli-instance", ignore_errors=True)
    (OUT / "runs" / "cli-instance").mkdir(parents=True)
    command = [python, "-m", "flask", "--app", "app", "stickers", "build"]
    _run(command, env=env)  # the site's own settings (BASE_URL) make its own build first
    cli_warm, _, cli_output = _run(command, env=env)
    assert "up to date" in cli_output, cli_output

    b, c, ci = statistics.median(baseline), statistics.median(cold), statistics.median(cold_inner)
    bi = statistics.median(baseline_inner)
    paired = statistics.median(ours / base for ours, base in zip(cold, baseline, strict=True))
    paired_inner = statistics.median(
        ours / base for ours, base in zip(cold_inner, baseline_inner, strict=True)
    )
    print(
        f"\ncold build, whole process (median of {args.rounds}):  {c:6.2f} s   "
        f"baseline {b:6.2f} s   ratio {c / b:.2f} (median of the rounds' ratios "
        f"{paired:.2f})  budget <= {BUDGET:.2f}  {_verdict(paired)}"
    )
    print(
        f"cold build, inside the process (median of {args.rounds}): {ci:6.2f} s   "
        f"baseline {bi:6.2f} s   ratio {ci / bi:.2f} (median of the rounds' ratios "
        f"{paired_inner:.2f})  budget <= {BUDGET:.2f}  {_verdict(paired_inner)}"
    )
    cpu, cpu_base = statistics.median(cold_cpu), statistics.median(baseline_cpu)
    print(
        f"cold build, processor time of all processes:  {cpu:6.2f} s   baseline {cpu_base:6.2f} s"
        f"   ratio {cpu / cpu_base:.2f}  (reported: the same work costs the same, whatever "
        "the load)"
    )
    print(
        "  runs, whole process: "
        + ", ".join(f"{s:.2f}" for s in cold)
        + " s; baseline: "
        + ", ".join(f"{s:.2f}" for s in baseline)
        + " s"
    )
    if args.profile or paired > BUDGET or paired_inner > BUDGET:
        print(
            "  where a cold build's time goes (median of the rounds): "
            + ", ".join(
                f"{name} {statistics.median(s[name] for s in steps):.2f} s" for name in steps[0]
            )
        )
        print(
            "  (imports: Python modules the build loads that the baseline script does not; "
            "convert: the workers' Pillow work, the baseline's whole job)"
        )
    warm_ms = statistics.median(warm_inner) * 1000
    print(f"warm run, inside the process (median of 5):    {warm_ms:6.1f} ms  (budget < 200 ms)")
    print(
        f"warm run, whole process (python + imports):    {statistics.median(warm):6.2f} s;"
        f"  flask --app app stickers build: {cli_warm:.2f} s"
    )
    print(
        f"peak RSS, cold build: largest process {_mib(max(rss_cold))} "
        f"(worker {_mib(max(workers))}); baseline largest process {_mib(max(rss_base))}"
    )

    bad = make_bad_inputs()
    shutil.rmtree(OUT / "runs" / "bad-output", ignore_errors=True)
    seconds, rss, output = _run(
        [python, __file__, "--child", str(bad), str(OUT / "runs" / "bad-output")]
    )
    figures = _last_json(output)
    failed = sorted(s for s, state in figures["states"].items() if state == "failed")
    print(
        f"bad-input run: {len(failed)} packs refused ({', '.join(failed)}), "
        f"'fine' {figures['states']['fine']}; {seconds:.2f} s; peak RSS largest process "
        f"{_mib(rss)}, worker {_mib(figures['peak_worker_rss'])}"
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child(sys.argv[2], sys.argv[3])
    else:
        main()
