"""`make bench`: runs every measurement of issue 4 and writes bench/results.{md,json}.

Why one driver script: the measurements come from three programs (the Rust `sstcast-bench`
and `sstcast` binaries of the one release build, and PyTorch / matplotlib in a venv outside
the clone) and the results must land in one table with the issue's targets next to them.
This script uses the Python standard library only, so it runs with the system `python3`
whether or not the venv could be built; a reference that cannot run is reported as null
with the reason, never as a failure of the whole bench.

Measurements (all single-threaded except the 2-thread pipeline run):
- ms per training step, median and p10/p90 over --steps steps after --warmup: the issue's
  reference model and the pipeline's per-region model, sstcast vs PyTorch (bench/torch_step.py);
- ms per heatmap figure, sstcast's renderer vs matplotlib (bench/mpl_heatmap.py), the same
  figure: field, contours, colour bar and the coastlines sstcast draws (when `make coastlines`
  fetched them; sstcast-bench writes them to the field file), both written to a file without
  fsync, in alternating rounds (--render-rounds) whose samples are pooled;
- the pipeline end to end (`sstcast forecast --threads 1` and `--threads 2`): wall time,
  parallel efficiency t1 / (2 t2), peak RSS (the child's ru_maxrss from wait4).
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time

KEYS = [
    "ref_step_ms_sstcast",
    "ref_step_ms_pytorch",
    "default_step_ms_sstcast",
    "default_step_ms_pytorch",
    "pipeline_wall_s_threads1",
    "pipeline_wall_s_threads2",
    "hindcast_wall_s_kaplan",
    "hindcast_wall_s_ersst",
    "peak_rss_mib",
    "render_ms_sstcast",
    "render_ms_matplotlib",
    "machine",
    "date",
]


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def run_json(cmd, what, env=None):
    """Runs `cmd` (with `env`, else this environment), parses its stdout as JSON;
    (value, None) or (None, reason)."""
    log(f"{what}: {' '.join(cmd)}")
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env)
    except OSError as e:
        return None, f"{what}: cannot run {cmd[0]}: {e}"
    if p.returncode != 0:
        tail = "\n".join(p.stderr.strip().splitlines()[-5:])
        return None, f"{what}: exit {p.returncode}: {tail}"
    try:
        return json.loads(p.stdout), None
    except json.JSONDecodeError as e:
        return None, f"{what}: bad JSON output: {e}"


def machine():
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cores": os.cpu_count(),
        "cpu_model": model,
        "loadavg_1m_at_start": round(os.getloadavg()[0], 2),
    }


def venv_has(python, module):
    if not python or not os.path.exists(python):
        return False
    return subprocess.run([python, "-c", f"import {module}"], capture_output=True).returncode == 0


def pipeline_run(binary, config, year, threads, out_root):
    """One end-to-end run; returns (wall_s, maxrss_mib) or raises RuntimeError."""
    out = os.path.join(out_root, f"pipeline-threads{threads}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log_path = os.path.join(out_root, f"pipeline-threads{threads}.log")
    cmd = [binary, "forecast", "--config", config, "--year", str(year), "--threads", str(threads), "--out", out]
    log(f"pipeline, {threads} thread(s): {' '.join(cmd)} (log: {log_path})")
    with open(log_path, "w") as lf:
        t0 = time.monotonic()
        p = subprocess.Popen(cmd, stdout=lf, stderr=subprocess.STDOUT)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise RuntimeError(f"pipeline --threads {threads} exited {p.returncode}; see {log_path}")
    return wall, ru.ru_maxrss / 1024.0  # Linux: KiB


# The two default hindcasts of `make hindcast` (issue 12): pipeline, training end, starts.
HINDCASTS = {
    "kaplan": ("pipelines/kaplan-monthly.yaml", "1999-12", "2000-01..2013-10"),
    "ersst": ("pipelines/ersst-monthly.yaml", "2015-12", "2016-01..2019-08"),
}


def hindcast_run(binary, name, out_root):
    """One default hindcast from scratch (fits included), 2 threads; returns wall seconds."""
    config, train_end, starts = HINDCASTS[name]
    out = os.path.join(out_root, f"hindcast-{name}")
    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    log_path = os.path.join(out_root, f"hindcast-{name}.log")
    cmd = [binary, "hindcast", "--config", config, "--train-end", train_end, "--starts", starts,
           "--threads", "2", "--out", out]
    log(f"hindcast {name}: {' '.join(cmd)} (log: {log_path})")
    with open(log_path, "w") as lf:
        t0 = time.monotonic()
        rc = subprocess.call(cmd, stdout=lf, stderr=subprocess.STDOUT)
        wall = time.monotonic() - t0
    if rc != 0:
        raise RuntimeError(f"hindcast {name} exited {rc}; see {log_path}")
    return wall


def skill_tables(work, year):
    """{threads: text of skill_<year>.md} for the pipeline runs that wrote one."""
    out = {}
    for n in (1, 2):
        for root, _, files in os.walk(os.path.join(work, f"pipeline-threads{n}")):
            if f"skill_{year}.md" in files:
                with open(os.path.join(root, f"skill_{year}.md")) as f:
                    out[n] = f.read()
    return out


def summary(ms):
    """{n, median, p10, p90} of a list of times, as the two render scripts report them."""
    ms = sorted(ms)
    q = lambda p: ms[min(len(ms) - 1, round(p * (len(ms) - 1)))]  # noqa: E731
    return {"n": len(ms), "median": statistics.median(ms), "p10": q(0.1), "p90": q(0.9)}


def fmt(v, unit="", nd=1):
    return "n/a" if v is None else f"{v:.{nd}f}{unit}"


def spread(s):
    return "" if s is None else f" [{s['p10']:.1f}-{s['p90']:.1f}]"


def verdict(ok):
    return "n/a" if ok is None else ("**pass**" if ok else "**fail**")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin-dir", default="target/release")
    ap.add_argument("--config", default="pipelines/ersst-monthly.yaml")
    ap.add_argument("--year", type=int, default=2018)
    ap.add_argument("--python", default="", help="the venv's python (torch, numpy, matplotlib)")
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--renders", type=int, default=20)
    ap.add_argument("--mpl-renders", type=int, default=10)
    ap.add_argument("--render-rounds", type=int, default=5, help="alternating sstcast/matplotlib rounds")
    ap.add_argument("--pipeline", type=int, default=1, help="0 skips the end-to-end runs")
    ap.add_argument("--note", default="", help="free text for the report (e.g. machine busy)")
    ap.add_argument("--results", default="bench", help="where results.{md,json} go")
    ap.add_argument(
        "--tch-bin-dir",
        default="target/tch/debug",
        help="sstcast-bench built with --features tch (make check-tch); timed when present",
    )
    ap.add_argument("--libtorch", default="", help="the libtorch that build links (its lib/ goes on LD_LIBRARY_PATH)")
    a = ap.parse_args()

    work = os.path.join(a.results, "out")
    os.makedirs(work, exist_ok=True)
    bench_bin = os.path.join(a.bin_dir, "sstcast-bench")
    sstcast_bin = os.path.join(a.bin_dir, "sstcast")
    notes = [a.note] if a.note else []
    mach = machine()
    date = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = dict.fromkeys(KEYS + ["ref_step_ms_tch", "default_step_ms_tch"])
    r["machine"], r["date"] = mach, date
    detail = {}

    # 1. Training steps, sstcast.
    steps, err = run_json(
        [bench_bin, "steps", "--config", a.config, "--steps", str(a.steps), "--warmup", str(a.warmup)], "sstcast steps"
    )
    if err:
        notes.append(err)
    else:
        detail["sstcast_steps"] = steps
        r["ref_step_ms_sstcast"] = steps["reference"]["step_ms"]["median"]
        r["default_step_ms_sstcast"] = steps["default"]["step_ms"]["median"]

    # 1b. The same steps on libtorch (burn-tch, the GPU-node build), when it was built.
    tch_bin = os.path.join(a.tch_bin_dir, "sstcast-bench")
    if os.path.exists(tch_bin) and a.libtorch and os.path.isdir(os.path.join(a.libtorch, "lib")):
        env = dict(os.environ)
        lib = os.path.join(a.libtorch, "lib")
        env["LD_LIBRARY_PATH"] = lib + (":" + env["LD_LIBRARY_PATH"] if env.get("LD_LIBRARY_PATH") else "")
        env.setdefault("OMP_NUM_THREADS", "1")
        tch_steps, err = run_json(
            [tch_bin, "steps", "--config", a.config, "--steps", str(max(a.steps // 4, 20)), "--warmup", "5", "--only-engine"],
            "sstcast steps on libtorch (tch)",
            env=env,
        )
        if err:
            notes.append(err)
        else:
            detail["tch_steps"] = tch_steps
            r["ref_step_ms_tch"] = tch_steps["reference"]["step_ms"]["median"]
            r["default_step_ms_tch"] = tch_steps["default"]["step_ms"]["median"]
    else:
        notes.append(
            f"no libtorch build at {tch_bin} (with --libtorch): tch step times not measured; "
            "`make check-tch` builds it"
        )

    # 2. Training steps, PyTorch (same shapes as sstcast printed).
    here = os.path.dirname(os.path.abspath(__file__))
    torch_ok = venv_has(a.python, "torch")
    if not torch_ok:
        notes.append(f"PyTorch not available in the bench venv ({a.python or 'none given'}): PyTorch numbers are null")
    elif steps:
        shapes = {k: steps[k]["shape"] for k in ("reference", "default")}
        tj, err = run_json(
            [
                a.python,
                os.path.join(here, "torch_step.py"),
                "--shapes",
                json.dumps(shapes),
                "--steps",
                str(a.steps),
                "--warmup",
                str(a.warmup),
            ],
            "PyTorch steps",
        )
        if err:
            notes.append(err)
        else:
            detail["torch_steps"] = tj
            r["ref_step_ms_pytorch"] = tj["models"]["reference"]["step_ms"]["median"]
            r["default_step_ms_pytorch"] = tj["models"]["default"]["step_ms"]["median"]

    # 3. Heatmap rendering, sstcast and matplotlib in alternating rounds: this machine's speed
    # drifts by a quarter within minutes, and the ratio must not depend on which ran when.
    # Each side's samples are pooled over the rounds.
    mpl = venv_has(a.python, "matplotlib")
    if not mpl:
        notes.append("matplotlib not available in the bench venv: its render time is null")
    pooled = {"sstcast_render": [], "matplotlib_render": []}
    for _ in range(max(a.render_rounds, 1)):
        rj, err = run_json(
            [bench_bin, "render", "--config", a.config, "--renders", str(a.renders), "--out", work], "sstcast render"
        )
        if err:
            notes.append(err)
            break
        detail["sstcast_render"] = rj
        pooled["sstcast_render"] += rj.pop("samples_ms")
        if not mpl:
            continue
        mj, err = run_json(
            [
                a.python,
                os.path.join(here, "mpl_heatmap.py"),
                rj["field"],
                os.path.join(work, "heatmap_matplotlib.png"),
                "--renders",
                str(a.mpl_renders),
            ],
            "matplotlib render",
        )
        if err:
            notes.append(err)
            mpl = False
            continue
        detail["matplotlib_render"] = mj
        pooled["matplotlib_render"] += mj.pop("samples_ms")
    for key, ms in pooled.items():
        if ms and key in detail:
            detail[key]["render_ms"] = summary(ms)
            r[f"render_ms_{key.split('_')[0]}"] = detail[key]["render_ms"]["median"]

    # 4. The pipeline end to end.
    if a.pipeline:
        try:
            for n in (1, 2):
                wall, rss = pipeline_run(sstcast_bin, a.config, a.year, n, work)
                r[f"pipeline_wall_s_threads{n}"] = wall
                r["peak_rss_mib"] = max(r["peak_rss_mib"] or 0.0, rss)
        except (RuntimeError, OSError) as e:
            notes.append(str(e))
        for name in HINDCASTS:
            if not os.path.exists(HINDCASTS[name][0]):
                notes.append(f"hindcast {name}: no pipeline file, null")
                continue
            try:
                r[f"hindcast_wall_s_{name}"] = hindcast_run(sstcast_bin, name, work)
            except (RuntimeError, OSError) as e:
                notes.append(str(e))
        skill = skill_tables(work, a.year)
        if skill.get(2):
            detail["skill_md"] = skill[2]
            if skill.get(1) is not None:
                same = "identical" if skill[1] == skill[2] else "DIFFERENT"
                notes.append(f"skill tables of the 1- and 2-thread runs: {same}")
    else:
        notes.append("pipeline end-to-end runs skipped (BENCH_PIPELINE=0): their numbers are null")

    with open(os.path.join(a.results, "results.json"), "w") as f:
        json.dump(r, f, indent=2)
        f.write("\n")
    with open(os.path.join(work, "detail.json"), "w") as f:
        json.dump(detail, f, indent=2)
    md = report(r, detail, notes, a)
    with open(os.path.join(a.results, "results.md"), "w") as f:
        f.write(md)
    print(md)


def report(r, d, notes, a):
    def ms(key, src, name):
        s = d.get(src, {})
        s = s.get("models", s).get(name, {}).get("step_ms") if s else None
        return f"{fmt(r[key])}{spread(s)}" if r[key] is not None else "n/a"

    def ratio(x, y):
        return None if x is None or y is None else x / y

    t1, t2 = r["pipeline_wall_s_threads1"], r["pipeline_wall_s_threads2"]
    eff = None if t1 is None or t2 is None else t1 / (2 * t2)
    ref_r = ratio(r["ref_step_ms_sstcast"], r["ref_step_ms_pytorch"])
    def_r = ratio(r["default_step_ms_sstcast"], r["default_step_ms_pytorch"])
    ren_r = ratio(r["render_ms_matplotlib"], r["render_ms_sstcast"])
    ts = d.get("torch_steps", {})
    shp = d.get("sstcast_steps", {}).get("default", {}).get("shape")
    shape_txt = (
        f"{shp['cell'].upper()} {shp['layers']}x{shp['hidden']}, {shp['channels']} channels, "
        f"T={shp['window']}+{shp['horizon']}, batch {shp['batch']}"
        if shp
        else "see the pipeline file"
    )
    lstm = lambda n: ts.get("models", {}).get(n, {}).get("step_ms")  # noqa: E731
    m = r["machine"]
    rows = [
        (
            "Reference step, GRU 2x12, 25 ch, T=60+60, batch 8 (ms)",
            ms("ref_step_ms_sstcast", "sstcast_steps", "reference"),
            "nn.GRU " + ms("ref_step_ms_pytorch", "torch_steps", "reference"),
            "sstcast <= 1/3 of nn.GRU",
            f"{verdict(None if ref_r is None else ref_r <= 1 / 3)} ({fmt(ref_r, 'x', 2)})",
        ),
        (
            f"Default per-region step, {shape_txt} (ms)",
            ms("default_step_ms_sstcast", "sstcast_steps", "default"),
            f"nn.{(shp or {}).get('cell', 'gru').upper()} " + ms("default_step_ms_pytorch", "torch_steps", "default"),
            "sstcast <= PyTorch",
            f"{verdict(None if def_r is None else def_r <= 1)} ({fmt(def_r, 'x', 2)})",
        ),
        ("Pipeline wall, --threads 1 (s)", fmt(t1), "", "", ""),
        ("Pipeline wall, --threads 2 (s)", fmt(t2), "", "<= 600 s", verdict(None if t2 is None else t2 <= 600)),
        ("Hindcast wall, Kaplan 2000-01..2013-10, 2 threads (s)", fmt(r["hindcast_wall_s_kaplan"]), "", "<= 300 s",
         verdict(None if r["hindcast_wall_s_kaplan"] is None else r["hindcast_wall_s_kaplan"] <= 300)),
        ("Hindcast wall, ERSST 2016-01..2019-08, 2 threads (s)", fmt(r["hindcast_wall_s_ersst"]), "", "<= 300 s",
         verdict(None if r["hindcast_wall_s_ersst"] is None else r["hindcast_wall_s_ersst"] <= 300)),
        (
            "Parallel efficiency t1 / (2 t2)",
            "n/a" if eff is None else f"{100 * eff:.0f}%",
            "",
            ">= 90%",
            verdict(None if eff is None else eff >= 0.9),
        ),
        (
            "Peak RSS (MiB)",
            fmt(r["peak_rss_mib"], nd=0),
            "",
            "<= 1024 MiB",
            verdict(None if r["peak_rss_mib"] is None else r["peak_rss_mib"] <= 1024),
        ),
        (
            "Heatmap render, 89x180 field, per figure (ms)",
            f"{fmt(r['render_ms_sstcast'])}{spread(d.get('sstcast_render', {}).get('render_ms'))}",
            "matplotlib "
            + (
                f"{fmt(r['render_ms_matplotlib'])}{spread(d.get('matplotlib_render', {}).get('render_ms'))}"
                if r["render_ms_matplotlib"] is not None
                else "n/a"
            ),
            ">= 20x faster",
            f"{verdict(None if ren_r is None else ren_r >= 20)} ({fmt(ren_r, 'x', 1)})",
        ),
    ]
    out = [
        "# sstcast benchmark (`make bench`)",
        "",
        f"- date: {r['date']}",
        f"- machine: {m['cores']} cores, {m['cpu_model']}, 1-minute load average at start {m['loadavg_1m_at_start']}",
        f"- PyTorch: {ts.get('torch_version', 'n/a')} (1 thread); matplotlib: "
        f"{d.get('matplotlib_render', {}).get('matplotlib_version', 'n/a')}",
        f"- step times: median [p10-p90] of {a.steps} steps after {a.warmup} warm-up steps, one thread; "
        f"renders: median of {a.render_rounds} alternating rounds of {a.renders} (sstcast) / "
        f"{a.mpl_renders} (matplotlib) figures, each round after one warm-up",
        f"- pipeline: `sstcast forecast --config {a.config} --year {a.year}` (read, fit all regions, write, render)",
        "",
        "| measurement | sstcast | reference | target | result |",
        "|---|---|---|---|---|",
    ]
    out += [f"| {' | '.join(row)} |" for row in rows]
    ss = d.get("sstcast_steps", {})
    engine = ss.get("engine", "n/a")
    burn_rows = [(n, ss.get(n + "_burn", {}).get("step_ms")) for n in ("reference", "default")]
    burn_rows = [(n, s) for n, s in burn_rows if s]
    out += [
        "",
        f"sstcast's steps above are the pipeline's engine (`{engine}`: the hand-written forward and backward "
        "pass of `src/model/fused/`, with the Adam of `src/train/fused.rs`). For information, the same steps with burn autodiff on `flex` "
        "(the generic path, kept for other backends): "
        + ("; ".join(f"{n} {s['median']:.1f} ms [{s['p10']:.1f}-{s['p90']:.1f}]" for n, s in burn_rows) or "n/a")
        + ".",
    ]
    oc = ss.get("default_other_cell")
    if oc:
        out += [
            "",
            f"The other cell at the default sizes on the same engine: {oc['shape']['cell'].upper()} "
            f"{oc['step_ms']['median']:.1f} ms [{oc['step_ms']['p10']:.1f}-{oc['step_ms']['p90']:.1f}].",
        ]
    tch = d.get("tch_steps")
    if tch:
        out += [
            "",
            "burn-tch on libtorch CPU (the `tch` build for GPU nodes, dev profile with optimised "
            "dependencies, OMP_NUM_THREADS=1): "
            + "; ".join(
                f"{n} {tch[n]['step_ms']['median']:.1f} ms [{tch[n]['step_ms']['p10']:.1f}-{tch[n]['step_ms']['p90']:.1f}]"
                for n in ("reference", "default")
            )
            + ". No GPU figures: this machine has none.",
        ]
    extra = [(n, lstm(n + "_lstm")) for n in ("reference", "default")]
    extra = [(n, s) for n, s in extra if s]
    if extra:
        out += [
            "",
            "For information, PyTorch `nn.LSTM` (oneDNN) at the same sizes: "
            + "; ".join(f"{n} {s['median']:.1f} ms [{s['p10']:.1f}-{s['p90']:.1f}]" for n, s in extra)
            + ".",
        ]
    out += [
        "",
        "The pipeline fits one model per region (no region batching), so PyTorch's form of the default "
        "model is one `nn.GRU`/`nn.LSTM` encoder-decoder per region, as above. The render times are "
        "one `render_heatmap` call as the pipeline makes it (draw, coastlines included when fetched, "
        "PNG encode, write; no fsync, as `savefig`) against building the matplotlib figure with the same "
        "coastlines (one `LineCollection`) and `savefig` (no fsync).",
    ]
    if d.get("skill_md"):
        out += [
            "",
            "## Forecast skill of the 2-thread pipeline run",
            "",
            "(the quality side of the speed work: compare with the table of the run before it)",
            "",
            d["skill_md"].strip(),
        ]
    if notes:
        out += ["", "Notes:", ""] + [f"- {n}" for n in notes]
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    main()
