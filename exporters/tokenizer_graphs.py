"""``tokenizer.onnx`` (text -> ids) and ``detokenizer.onnx`` (ids -> text) from a ``tokenizer.json``.

Built directly on onnxruntime-extensions' ``GPT2Tokenizer`` and ``BpeDecoder`` custom ops,
fed from the JSON itself: the extensions' Hugging Face converter predates transformers 5
and the list-form merges current ``tokenizers`` writes. An app then tokenizes with ONNX
Runtime plus the extensions library alone. Only byte-level BPE tokenizers (GPT-2 family)
are supported; others keep ``tokenizer.json`` only.
"""
from __future__ import annotations

import json

import onnx
from onnx import TensorProto, helper

from .errors import ExportError

DOMAIN = "ai.onnx.contrib"
_OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid(DOMAIN, 1)]


def _byte_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable character map."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = list(printable), 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {b: chr(c) for b, c in zip(printable, chars)}


def supports(tokenizer_json: str) -> bool:
    tj = json.loads(tokenizer_json)
    return (tj.get("model", {}).get("type") == "BPE" and (tj.get("pre_tokenizer") or {}).get("type") == "ByteLevel"
            and (tj.get("decoder") or {}).get("type") == "ByteLevel")


def tokenizer_graphs(tokenizer_json: str, special_text: bool = False) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The encoder and decoder graphs.

    Special tokens present in the vocab (``<|endoftext|>``) are matched either way.
    ``special_text=True`` also passes the added-token list, but onnxruntime-extensions
    0.15 then drops the character after a ``<`` near the end of the text ("x<5" -> "x<";
    measured: 6 of 3,000 random strings), so it stays off by default. The custom ops
    read C strings: text ends at a NUL character in the graph (``tokenizers`` keeps it).
    """
    if not supports(tokenizer_json):
        raise ExportError("tokenizer graphs need a byte-level BPE tokenizer (GPT-2 family); "
                          "export with tokenizer_graphs=False to ship tokenizer.json only")
    tj = json.loads(tokenizer_json)
    model = tj["model"]
    added = tj.get("added_tokens", [])
    merges = [m if isinstance(m, str) else " ".join(m) for m in model["merges"]]
    enc_attrs = {"vocab": json.dumps(model["vocab"], ensure_ascii=False, separators=(",", ":")),
                 "merges": "\n".join(merges), "model_name": "GPT2"}
    if added and special_text:
        enc_attrs["added_token"] = "\n".join(f"{t['content']}={t['id']}" for t in added)
    encoder = helper.make_graph(
        [helper.make_node("GPT2Tokenizer", ["text"], ["input_ids", "attention_mask"], domain=DOMAIN, **enc_attrs)],
        "spikelite_tokenizer", [helper.make_tensor_value_info("text", TensorProto.STRING, [None])],
        [helper.make_tensor_value_info("input_ids", TensorProto.INT64, [None, None]),
         helper.make_tensor_value_info("attention_mask", TensorProto.INT64, [None, None])])

    id_to_token = {i: t for t, i in model["vocab"].items()} | {t["id"]: t["content"] for t in added}
    n = max(id_to_token) + 1
    bpe = helper.make_node(
        "BpeDecoder", ["ids"], ["decoded"], domain=DOMAIN,
        id_vocab="\n".join(id_to_token.get(i, "") for i in range(n)),
        byte_decoder="\n".join(f"{ord(u)}\t{b}" for b, u in _byte_to_unicode().items()),
        added_tokens="\n".join(f"{t['id']}\t{t['content']}" for t in added),
        all_special_ids="\n".join(str(t["id"]) for t in added if t.get("special")), skip_special_tokens=0)
    # BpeDecoder divides by the id count: an empty input takes the other branch
    empty = helper.make_graph(
        [helper.make_node("Constant", [], ["empty_text"],
                          value=helper.make_tensor("empty", TensorProto.STRING, [1], [b""]))],
        "no_ids", [], [helper.make_tensor_value_info("empty_text", TensorProto.STRING, [1])])
    some = helper.make_graph([bpe], "some_ids", [], [helper.make_tensor_value_info("decoded", TensorProto.STRING, [1])])
    decoder = helper.make_graph(
        [helper.make_node("Size", ["ids"], ["n_ids"]),
         helper.make_node("Constant", [], ["zero"], value=helper.make_tensor("zero", TensorProto.INT64, [], [0])),
         helper.make_node("Equal", ["n_ids", "zero"], ["is_empty"]),
         helper.make_node("If", ["is_empty"], ["text"], then_branch=empty, else_branch=some)],
        "spikelite_detokenizer", [helper.make_tensor_value_info("ids", TensorProto.INT64, [None])],
        [helper.make_tensor_value_info("text", TensorProto.STRING, [1])])
    return (helper.make_model(encoder, opset_imports=_OPSETS, producer_name="spikelite"),
            helper.make_model(decoder, opset_imports=_OPSETS, producer_name="spikelite"))
