"""The ``spikelite`` command line: thin wrappers over the public Python API.

Every command maps its options onto one public function; errors SpikeLite raises on
purpose are printed as one line (``Error: ...``) with exit status 1.
"""
from __future__ import annotations

import functools
import json

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
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
@click.pass_context
@one_line_errors
def distill(ctx: click.Context, config_file, as_json, student_config_json, d_model, n_layers, n_heads, timesteps,
            **options) -> None:
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
    if as_json:
        click.echo(json.dumps({k: v for k, v in result.summary.items() if k != "curves"}, indent=2))
    else:
        s = result.summary
        click.echo(f"student {s['student']['model_type']} ({s['student']['params']:,} params): "
                   f"val ppl {result.student_ppl:.2f} vs teacher {result.teacher_ppl:.2f} "
                   f"({s['ppl_ratio']:.2f}x), {s['throughput_tokens_per_s']:,.0f} tokens/s, "
                   f"spike density {s['spikes']['density']:.2f}")
        click.echo(f"checkpoint, summary.json and training.png in {result.checkpoint_dir}")


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
