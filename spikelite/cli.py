"""The ``spikelite`` command line: thin wrappers over the public Python API.

Every command maps its options onto one public function; errors SpikeLite raises on
purpose are printed as one line (``Error: ...``) with exit status 1.
"""
from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from . import __version__
from .errors import SpikeLiteError


def one_line_errors(fn):
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except SpikeLiteError as e:
            raise click.ClickException(str(e)) from None

    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="spikelite")
def main() -> None:
    """SpikeLite: distil, export and run small spiking language models on edge devices."""


@main.command()
@click.option("--teacher-model", required=True, help="Hugging Face causal-LM id or local directory (with its tokenizer).")
@click.option("--dataset", default="synthetic", show_default=True,
              help="'synthetic' (built-in prompts) or a `datasets` id such as wikitext:wikitext-2-raw-v1.")
@click.option("--dataset-path", type=click.Path(dir_okay=False), help="Plain-text training file (overrides --dataset).")
@click.option("--val-dataset-path", type=click.Path(dir_okay=False),
              help="Plain-text validation file; default: hold out the last 10% of the training text.")
@click.option("--output-dir", default="artifacts/snn_student", show_default=True, help="Checkpoint and report directory.")
@click.option("--student", type=click.Choice(["goose", "spikformer"]), default="goose", show_default=True)
@click.option("--d-model", type=click.IntRange(min=8), help="Student width (default 256).")
@click.option("--n-layers", type=click.IntRange(min=1), help="Student depth (default 4).")
@click.option("--n-heads", type=click.IntRange(min=1), help="Attention heads (spikformer only; default 4).")
@click.option("--timesteps", type=click.IntRange(min=1), help="LIF timesteps per token (spikformer only; default 4).")
@click.option("--student-config", "student_config_json",
              help='Further student config fields as JSON, e.g. \'{"wkv_norm": true}\'.')
@click.option("--num-steps", type=click.IntRange(min=1), default=1000, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=8, show_default=True)
@click.option("--grad-accum-steps", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--max-length", type=click.IntRange(min=2), default=128, show_default=True, help="Tokens per window.")
@click.option("--log-interval", type=click.IntRange(min=1), default=5, show_default=True)
@click.option("--eval-interval", type=click.IntRange(min=1), default=100, show_default=True)
@click.option("--eval-batches", type=click.IntRange(min=1), default=20, show_default=True,
              help="Validation batches per evaluation (the held-out ppl is measured on these).")
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=5e-4, show_default=True)
@click.option("--temperature", type=click.FloatRange(min=0, min_open=True), default=2.0, show_default=True)
@click.option("--alpha", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Weight of hard-label CE; 1-alpha weighs the T²·KL term (0 = pure KD).")
@click.option("--gamma", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Weight of hidden-state feature matching through a learned projection.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu or cuda.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True),
              help="Stop training after this much wall time (then validate, report and save as usual).")
@click.option("--compile", is_flag=True, help="torch.compile the student's forward (faster on GPU after warm-up).")
@click.option("--resume", is_flag=True, help="Continue from OUTPUT_DIR/resume after an interruption.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False),
              help="DistillConfig JSON; options given on the command line override it.")
@click.option("--export-onnx", is_flag=True,
              help="Export the trained student to an INT8 bundle in OUTPUT_DIR/bundle (and bundle.spkl).")
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
@one_line_errors
def distill(ctx: click.Context, config_file, as_json, export_onnx, student_config_json, d_model, n_layers, n_heads,
            timesteps, **options) -> None:
    """Distil a spiking student from a teacher language model."""
    from spikelite.sdk.distill import DistillConfig, distill as run

    explicit = {k: v for k, v in options.items()
                if ctx.get_parameter_source(k) is not click.core.ParameterSource.DEFAULT}
    base = DistillConfig.load(config_file).to_dict() if config_file else dict(options)
    knobs = {k: v for k, v in dict(d_model=d_model, n_layers=n_layers, n_heads=n_heads, timesteps=timesteps).items()
             if v is not None}
    try:
        extra = json.loads(student_config_json) if student_config_json else {}
    except json.JSONDecodeError as e:
        raise click.BadParameter(f"not valid JSON ({e})", param_hint="--student-config") from None
    student_config = {**base.get("student_config", {}), **extra, **knobs}
    cfg = DistillConfig(**{**base, **explicit, "student_config": student_config})
    result = run(cfg)
    bundle = None
    if export_onnx:
        from spikelite.exporters import export_bundle

        bundle = export_bundle(result.checkpoint_dir, Path(result.checkpoint_dir) / "bundle")
    if as_json:
        row = {k: v for k, v in result.summary.items() if k != "curves"}
        click.echo(json.dumps({**row, "bundle": str(bundle) if bundle else None}, indent=2))
    else:
        s = result.summary
        click.echo(f"student {s['student']['model_type']} ({s['student']['params']:,} params): "
                   f"val ppl {result.student_ppl:.2f} vs teacher {result.teacher_ppl:.2f} "
                   f"({s['ppl_ratio']:.2f}x), {s['throughput_tokens_per_s']:,.0f} tokens/s, "
                   f"spike density {s['spikes']['density']:.2f}")
        click.echo(f"checkpoint, summary.json and training.png in {result.checkpoint_dir}")
        if bundle:
            click.echo(f"bundle in {bundle} and {bundle}.spkl")


@main.command()
@click.option("--output-dir", default="artifacts/demo", show_default=True, help="Where the teacher and student go.")
@click.option("--teacher-steps", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--student-steps", type=click.IntRange(min=1), default=300, show_default=True)
@click.option("--prompt", default="The smart glasses", show_default=True)
@click.option("--max-new-tokens", type=click.IntRange(min=1), default=40, show_default=True)
@one_line_errors
def demo(output_dir, teacher_steps, student_steps, prompt, max_new_tokens) -> None:
    """Run the main job end to end on the built-in default (no downloads)."""
    from .demo import run_demo

    run_demo(output_dir, teacher_steps=teacher_steps, student_steps=student_steps, prompt=prompt,
             max_new_tokens=max_new_tokens, echo=click.echo)


@main.command("pretrain-teacher")
@click.option("--tokenizer", "tokenizer_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="tokenizer.json (Hugging Face format) the teacher will use.")
@click.option("--dataset-path", required=True, type=click.Path(dir_okay=False), help="Plain-text training file.")
@click.option("--val-dataset-path", type=click.Path(dir_okay=False), help="Plain-text validation file.")
@click.option("--output-dir", required=True, help="Hugging Face model directory to write.")
@click.option("--n-layer", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--n-embd", type=click.IntRange(min=8), default=256, show_default=True)
@click.option("--n-head", type=click.IntRange(min=1), default=4, show_default=True)
@click.option("--max-length", type=click.IntRange(min=2), default=128, show_default=True)
@click.option("--num-steps", type=click.IntRange(min=1), default=500, show_default=True)
@click.option("--batch-size", type=click.IntRange(min=1), default=16, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=1e-3, show_default=True)
@click.option("--device", default="auto", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@one_line_errors
def pretrain_teacher_cmd(tokenizer_path, dataset_path, val_dataset_path, output_dir, as_json, **options) -> None:
    """Pre-train a GPT-2-style teacher from scratch (when no pretrained teacher is available)."""
    from spikelite.sdk.data import read_text_file
    from spikelite.sdk.pretrain import pretrain_teacher

    val = read_text_file(val_dataset_path) if val_dataset_path else None
    r = pretrain_teacher(output_dir, tokenizer_path, read_text_file(dataset_path), val, **options)
    row = {"directory": str(r.directory), "params": r.params, "val_ppl": r.val_ppl,
           "tokens_per_s": r.tokens_per_s, "wall_time_s": r.wall_time_s}
    click.echo(json.dumps(row, indent=2) if as_json else
               f"teacher ({r.params:,} params) in {r.directory}: held-out ppl {r.val_ppl:.2f}, "
               f"{r.tokens_per_s:,.0f} tokens/s, {r.wall_time_s:.0f}s")


@main.command()
@click.argument("checkpoint", type=click.Path(file_okay=False))
@click.option("-o", "--output", required=True, help="Bundle directory to write (NAME.spkl is written beside it).")
@click.option("--format", "formats", default="onnx", show_default=True,
              help="Comma-separated: onnx[,tflite] (tflite needs the [tflite] extra).")
@click.option("--tflite-quantize", type=click.Choice(["int8-dynamic", "int8-static", "none"]), default="int8-dynamic",
              show_default=True, help="TFLite recipe (dynamic-range int8 measured faster and closer than full int8).")
@click.option("--quantize", type=click.Choice(["int8-static", "int8-dynamic", "none"]), default="int8-static",
              show_default=True, help="ONNX recipe: calibrated QDQ, dynamic activations, or fp32.")
@click.option("--calibration-data", type=click.Path(dir_okay=False),
              help="Plain-text file to calibrate on; default: the checkpoint's held-out text, else built-in prompts.")
@click.option("--name", help="Bundle name (default: the output directory's name).")
@click.option("--exclude-ops", default="", help="Comma-separated ONNX op types to keep in float, e.g. Gather.")
@click.option("--spkl/--no-spkl", default=True, show_default=True, help="Also write the bundle as one .spkl file.")
@click.option("--json", "as_json", is_flag=True, help="Print the bundle summary as JSON.")
@one_line_errors
def export(checkpoint, output, formats, tflite_quantize, quantize, calibration_data, name, exclude_ops, spkl,
           as_json) -> None:
    """Export a student checkpoint to an INT8 bundle (graphs, weights, tokenizer, manifest)."""
    from spikelite.exporters import export_bundle
    from spikelite.runtime.inspect import describe, render

    out = export_bundle(checkpoint, output, formats=tuple(f.strip() for f in formats.split(",") if f.strip()),
                        quantize=quantize, calibration_data=calibration_data, name=name,
                        exclude_ops=tuple(o.strip() for o in exclude_ops.split(",") if o.strip()), spkl=spkl,
                        tflite_quantize=tflite_quantize)
    info = describe(out)
    click.echo(json.dumps(info, indent=2) if as_json else render(info))


@main.command()
@click.argument("bundle", type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON.")
@one_line_errors
def inspect(bundle, as_json) -> None:
    """Summarise a bundle: model, files and sizes, quantization, graph I/O, parity."""
    from spikelite.runtime.inspect import describe, render

    info = describe(bundle)
    click.echo(json.dumps(info, indent=2) if as_json else render(info))


@main.command()
@click.argument("bundle", type=click.Path())
@click.option("--against", type=click.Path(file_okay=False), help="Checkpoint to recompute parity against.")
@click.option("--text", type=click.Path(dir_okay=False), help="Held-out text for parity (default: the checkpoint's).")
@click.option("--min-top1", type=click.FloatRange(0, 1), default=0.99, show_default=True,
              help="Lowest top-1 agreement with the float model, where it is decided (see exporters/parity.py).")
@click.option("--max-ppl-delta", type=click.FloatRange(min=0), default=0.02, show_default=True,
              help="Largest allowed |relative perplexity change|.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def verify(bundle, against, text, min_top1, max_ppl_delta, as_json) -> None:
    """Check every file's sha256 and the manifest; with --against, parity too. Exits 1 on failure."""
    from spikelite.exporters import ParityError, verify_bundle

    try:
        report = verify_bundle(bundle, against, min_top1=min_top1, max_ppl_delta=max_ppl_delta, text=text)
    except ParityError as e:
        if as_json and getattr(e, "report", None):
            click.echo(json.dumps(e.report, indent=2))
        raise click.ClickException(str(e)) from None
    except SpikeLiteError as e:
        raise click.ClickException(str(e)) from None
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"{bundle}: {len(report['files'])} files match their sha256; manifest schema ok")
    for fmt, p in report.get("parity", {}).items():
        click.echo(f"{fmt} parity: top-1 {p['top1_agreement']:.2%}, where decided {p['top1_agreement_decided']:.2%} "
                   f"(>= {min_top1:.2%}), ppl {p['ppl_float']:.3f} -> "
                   f"{p['ppl_bundle']:.3f} ({p['ppl_rel_delta']:+.2%}), max logit error {p['max_logit_error']:.3g}")


def _runtime_options(fn):
    fn = click.option("--threads", type=click.IntRange(min=1), help="Intra-op threads (default: all cores).")(fn)
    return click.option("--backend", default="auto", show_default=True,
                        help="auto, tflite, onnxruntime or numpy.")(fn)


def _sampling_options(fn):
    fn = _runtime_options(fn)
    for opt in reversed([
        click.option("--max-new-tokens", type=click.IntRange(min=1), default=128, show_default=True,
                     help="Most tokens to generate."),
        click.option("--temperature", type=click.FloatRange(min=0), default=0.8, show_default=True,
                     help="0 = greedy."),
        click.option("--top-k", type=click.IntRange(min=1), default=40, show_default=True,
                     help="Sample among the k likeliest tokens."),
        click.option("--top-p", type=click.FloatRange(0, 1, min_open=True), default=0.95, show_default=True,
                     help="Sample within this cumulative probability (nucleus)."),
        click.option("--repetition-penalty", type=click.FloatRange(min=0, min_open=True), default=1.0,
                     show_default=True),
        click.option("--seed", type=int, help="Sampling seed (same seed, same text)."),
    ]):
        fn = opt(fn)
    return fn


@main.command()
@click.argument("bundle", type=click.Path())
@click.argument("prompt")
@_sampling_options
@click.option("--stop", multiple=True, help="Stop before this string (repeatable).")
@click.option("--stream/--no-stream", default=True, show_default=True, help="Print text as it is decoded.")
@click.option("--json", "as_json", is_flag=True, help="Print text and stats as JSON (implies --no-stream).")
@one_line_errors
def generate(bundle, prompt, backend, threads, max_new_tokens, stop, stream, as_json, **sampling) -> None:
    """Continue PROMPT with the model in BUNDLE."""
    from spikelite.runtime import load

    model = load(bundle, backend=backend, threads=threads)
    turn = model.turn(prompt, max_new_tokens=max_new_tokens, stop=stop, **sampling)
    if stream and not as_json:
        click.echo(prompt, nl=False)
        for delta in turn:
            click.echo(delta, nl=False)
        click.echo()
        r = turn.result(len(turn.new_ids))
        click.echo(f"[{r.tokens} tokens, {r.tokens_per_s:.1f} tokens/s, first token {r.ttft_s * 1e3:.1f} ms, "
                   f"{model.backend_name}, stop: {r.stop_reason}]", err=True)
        return
    for _ in turn:
        pass
    r = turn.result(len(turn.new_ids))
    click.echo(json.dumps({"prompt": prompt, **r.as_dict(), "backend": model.backend_name}, indent=2)
               if as_json else prompt + r.text)


@main.command()
@click.argument("bundle", type=click.Path())
@_sampling_options
@click.option("--system", help="A first line that sets up the conversation.")
@one_line_errors
def chat(bundle, backend, threads, max_new_tokens, system, **sampling) -> None:
    """Talk with the model in BUNDLE; the state carries across turns (/reset, /quit; reads piped stdin too)."""
    from spikelite.runtime import load

    model = load(bundle, backend=backend, threads=threads)
    session = model.chat(system=system, max_new_tokens=max_new_tokens, **sampling)
    interactive = sys.stdin.isatty()
    while True:
        if interactive:
            click.echo("you> ", nl=False)
        line = sys.stdin.readline()
        if not line:
            break
        message = line.rstrip("\n")
        if message.strip() in ("/quit", "/exit"):
            break
        if message.strip() == "/reset":
            session.reset()
            click.echo("(conversation reset)")
            continue
        if not message.strip():
            continue
        click.echo("bot> ", nl=False)
        for delta in session.send(message):
            click.echo(delta, nl=False)
        click.echo()


@main.group()
def profile() -> None:
    """Measure a bundle: latency, power (real sensors) and energy (from spike counts)."""


@profile.command("latency")
@click.argument("bundle", type=click.Path())
@_runtime_options
@click.option("--prompt-tokens", type=click.IntRange(min=1), default=128, show_default=True,
              help="Prompt length, taken from built-in English text.")
@click.option("--new-tokens", type=click.IntRange(min=2), default=128, show_default=True,
              help="Tokens decoded greedily per run.")
@click.option("--runs", type=click.IntRange(min=1), default=5, show_default=True, help="Timed runs (medians reported).")
@click.option("--warmup", type=click.IntRange(min=0), default=1, show_default=True, help="Untimed runs first.")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write per-token latency and its histogram (PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def profile_latency(bundle, backend, threads, prompt_tokens, new_tokens, runs, warmup, plot, as_json) -> None:
    """Load time, time to first token, per-token latency percentiles, tokens/s, peak memory."""
    from spikelite.runtime.profile import latency, plot_latency

    r = latency(bundle, prompt_tokens=prompt_tokens, new_tokens=new_tokens, runs=runs, warmup=warmup,
                threads=threads, backend=backend)
    if plot:
        plot_latency(r, plot)
    if as_json:
        click.echo(json.dumps({k: v for k, v in r.items() if k != "last_run_ms"}, indent=2))
        return
    d, t = r["decode"], r["ttft"]
    lo, hi = r["decode_tokens_per_s_spread"]
    click.echo(f"{r['model']} ({r['model_type']}) on {r['device']['cpu']}, {r['backend']} backend, "
               f"threads {threads or 'all'}")
    click.echo(f"  load                {r['load_s'] * 1e3:8.1f} ms    bundle {r['bundle_bytes'] / 1e6:.1f} MB")
    click.echo(f"  time to first token {t['p50_ms']:8.2f} ms    (prompt {prompt_tokens} tokens, median of {runs})")
    click.echo(f"  decode per token    mean {d['mean_ms']:.3f}  p50 {d['p50_ms']:.3f}  p90 {d['p90_ms']:.3f}  "
               f"p95 {d['p95_ms']:.3f}  p99 {d['p99_ms']:.3f} ms")
    click.echo(f"  throughput          prefill {r['prefill_tokens_per_s']:,.0f} tok/s, decode "
               f"{r['decode_tokens_per_s']:,.1f} tok/s (runs {lo:,.1f}-{hi:,.1f})")
    click.echo(f"  peak RSS            {r['peak_rss_mb']:.0f} MB")
    if plot:
        click.echo(f"  plot                {plot}")


@profile.command("power")
@click.argument("bundle", type=click.Path())
@_runtime_options
@click.option("--new-tokens", type=click.IntRange(min=2), default=256, show_default=True,
              help="Tokens decoded while the sensor is sampled.")
@click.option("--idle-seconds", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Idle baseline measured before the workload.")
@click.option("--interval", type=click.FloatRange(min=0.001), default=0.05, show_default=True, help="Seconds.")
@click.option("--sysfs-root", default="/", show_default=True, help="Where /sys and /proc are (for testing).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def profile_power(bundle, backend, threads, new_tokens, idle_seconds, interval, sysfs_root, as_json) -> None:
    """Mean and peak power above idle and energy per token, from the device's own sensors."""
    from spikelite.runtime.profile import SNNHardwareProfiler

    r = SNNHardwareProfiler(bundle, backend=backend, threads=threads).profile_power(
        new_tokens=new_tokens, idle_s=idle_seconds, interval_s=interval, root=sysfs_root)
    if as_json:
        click.echo(json.dumps(r, indent=2))
    elif r["sensor"] is None:
        click.echo(r["message"])
        click.echo(f"estimate from spike counts (compute only, int8, 45 nm): {r['estimate_uj_per_token']:.4f} µJ/token")
        for s in r["skipped"]:
            click.echo(f"  skipped {s}")
    else:
        click.echo(f"sensor {r['sensor']}: {r['samples']} samples, idle {r['idle_mw']:.0f} mW; above idle mean "
                   f"{r['mean_mw']:.0f} mW, peak {r['peak_mw']:.0f} mW; {r['energy_mj_per_token']:.3f} mJ/token "
                   f"over {r['tokens']} tokens")


@profile.command("energy")
@click.argument("bundle", type=click.Path())
@click.option("--tokens", type=click.IntRange(min=2), default=256, show_default=True,
              help="Tokens of text read while counting spikes.")
@click.option("--text", "text_file", type=click.Path(exists=True, dir_okay=False), help="Text to read (default built-in).")
@click.option("--precision", type=click.Choice(["int8", "fp32"]), default="int8", show_default=True,
              help="Which row of the energy table (45 nm) to use.")
@click.option("--mac-pj", type=float, help="Override the energy of one multiply-accumulate (pJ).")
@click.option("--ac-pj", type=float, help="Override the energy of one accumulate (pJ).")
@click.option("--plot", type=click.Path(dir_okay=False), help="Write the per-layer bar chart (PNG).")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@one_line_errors
def profile_energy(bundle, tokens, text_file, precision, mac_pj, ac_pj, plot, as_json) -> None:
    """Compute energy per token from measured spikes (ACs) and dense ops (MACs), against the dense twin."""
    from spikelite.runtime.profile import energy, plot_energy

    override = {k: v for k, v in (("mac", mac_pj), ("ac", ac_pj)) if v is not None}
    text = Path(text_file).read_text(encoding="utf-8") if text_file else None
    r = energy(bundle, tokens=tokens, text=text, precision=precision, energy_pj=override)
    if plot:
        plot_energy(r, plot)
    if as_json:
        click.echo(json.dumps(r, indent=2))
        return
    click.echo(f"{r['model']} ({r['model_type']}), {r['tokens']} tokens, {precision}: MAC {r['energy_pj']['mac']} pJ, "
               f"AC {r['energy_pj']['ac']} pJ; spike density {r['spike_density']:.2f}")
    click.echo(f"{'layer':<6} {'op':<24} {'MACs':>12} {'ACs':>10} {'µJ':>9} {'dense µJ':>9}")
    for row in r["rows"]:
        click.echo(f"{row['layer']!s:<6} {row['op']:<24} {row['snn_mac']:>12,.0f} {row['snn_ac']:>10,.0f} "
                   f"{row['snn_uj']:>9.4f} {row['dense_uj']:>9.4f}")
    click.echo(f"total  {r['snn_uj_per_token']:.4f} µJ/token spiking vs {r['dense_uj_per_token']:.4f} dense twin "
               f"({r['dense_over_snn']:.2f}×)")
