#!/usr/bin/env python3
"""Expected chat-template renderings for tests/tokenizer/chat_template_test.cpp, made by real Jinja2.

Jinja2 is configured as Hugging Face transformers' apply_chat_template configures it:
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]),
the filter tojson = json.dumps(x, ensure_ascii=False, indent, separators, sort_keys), the globals
raise_exception (raises TemplateError) and strftime_now (here fixed to 2024-09-01 00:00 so the
output is reproducible; the C++ test passes the same instant), and the context messages, tools
(None when absent; [] for the *tool_use templates, which iterate it unguarded),
add_generation_prompt, bos_token, eos_token plus per-template extras.

Usage (from the repository root, with ../shared beside it):
    python3 tests/tokenizer/data/chat/generate.py [--shared ../shared]
Writes manifest.json (every case: template source, inputs, expected file or error) and one
<template>__<case>.txt per rendering into this folder. Needs Debian's python3-jinja2 (3.1).
"""
import argparse
import datetime
import json
import os
import sys

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment

HERE = os.path.dirname(os.path.abspath(__file__))
FIXED_NOW = datetime.datetime(2024, 9, 1, 0, 0, 0)
FIXED_NOW_UNIX = 1725148800  # 2024-09-01T00:00:00Z
BOS, EOS = "<BOS>", "<EOS>"

TEMPLATE_DIR = "models/chat-templates-llamacpp"
HF_CONFIGS = {"llama3-hf": "models/tokenizers/llama3-hf/tokenizer_config.json",
              "qwen3-hf": "models/tokenizers/qwen3-hf/tokenizer_config.json"}

# Templates that splice tool-call arguments into the text as a string (the others take a dict).
STRING_ARGUMENTS = {"meetkai-functionary-medium-v3.1", "meetkai-functionary-medium-v3.2",
                    "deepseek-ai-DeepSeek-R1-Distill-Llama-8B", "deepseek-ai-DeepSeek-R1-Distill-Qwen-32B",
                    "llama-cpp-deepseek-r1", "fireworks-ai-llama-3-firefunction-v2"}
# Variables a template reads without checking that they are defined.
EXTRAS = {"fireworks-ai-llama-3-firefunction-v2": {"functions": "[]", "datetime": "2024-09-01"},
          "qwen3-hf": {"enable_thinking": False}}

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Get the current weather in a city",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "City name, e.g. Paris"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"], "description": "Temperature unit"},
            },
            "required": ["location"],
        },
    },
}

SEARCH_TOOL = {
    "type": "function",
    "function": {
        "name": "search_docs",
        "description": "Search the documentation",
        "parameters": {
            "type": "object",
            "properties": {
                "query": {"type": "string", "description": "What to look for"},
                "tags": {"type": "array", "items": {"type": "string"}, "description": "Filter by tags"},
                "limit": {"type": "integer", "description": "Maximum hits", "default": 5, "minimum": 1},
                "exact": {"type": "boolean", "description": "Exact match only"},
                "scope": {"type": "object", "description": "Where to search",
                          "properties": {"section": {"type": "string", "description": "Section name"}}},
            },
            "required": ["query"],
        },
    },
}

SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def tool_conversation(string_arguments):
    args = {"location": "Paris", "unit": "celsius"}
    return [
        SYSTEM,
        {"role": "user", "content": "What's the weather in Paris?"},
        {"role": "assistant", "content": None, "tool_calls": [{
            "id": "call12345", "type": "function",
            "function": {"name": "get_weather",
                         "arguments": json.dumps(args) if string_arguments else args}}]},
        {"role": "tool", "tool_call_id": "call12345", "name": "get_weather",
         "content": "{\"temperature\": 22, \"unit\": \"celsius\"}"},
        {"role": "assistant", "content": "It is 22 °C in Paris."},
        {"role": "user", "content": "Thanks!"},
    ]


def parallel_tool_conversation(string_arguments):
    calls = [("call00001", "get_weather", {"location": "Oslo"}),
             ("call00002", "search_docs", {"query": "umbrella", "tags": ["rain"], "limit": 2})]
    return [
        {"role": "user", "content": "Weather in Oslo, and find umbrella docs."},
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": cid, "type": "function",
             "function": {"name": name, "arguments": json.dumps(a) if string_arguments else a}}
            for cid, name, a in calls]},
        {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 4}"},
        {"role": "tool", "tool_call_id": "call00002", "name": "search_docs", "content": "[\"umbrella.md\"]"},
        {"role": "assistant", "content": "4 °C in Oslo; see umbrella.md."},
    ]


def cases(template_id):
    string_args = template_id in STRING_ARGUMENTS
    return [
        ("system_user", [SYSTEM, {"role": "user", "content": "Hello! How are you?"}], None, True),
        ("user_assistant_user", [
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "2+2 equals 4."},
            {"role": "user", "content": "And times 3?"}], None, True),
        ("user_assistant_user_nogen", [
            {"role": "user", "content": "What is 2+2?"},
            {"role": "assistant", "content": "2+2 equals 4."},
            {"role": "user", "content": "And times 3?"}], None, False),
        ("system_multiturn_unicode", [
            SYSTEM,
            {"role": "user", "content": "  Grüße aus Köln! 👋  "},
            {"role": "assistant", "content": "Hallo! \"Quotes\" and \\ backslash.\nNew line."},
            {"role": "user", "content": "Schön."}], None, False),
        ("tools", tool_conversation(string_args), [WEATHER_TOOL], True),
        ("tools_first_turn", [{"role": "user", "content": "Weather in Oslo?"}], [WEATHER_TOOL], True),
        ("two_users_in_a_row", [
            {"role": "user", "content": "Hi"},
            {"role": "user", "content": "Hello again"}], None, True),
        ("bad_role", [{"role": "robot", "content": "beep"}], None, True),
        ("parallel_tools", parallel_tool_conversation(string_args), [WEATHER_TOOL, SEARCH_TOOL], False),
        ("thinking", [
            {"role": "user", "content": "Is 7 prime?"},
            {"role": "assistant", "content": "<think>\nCheck 2, 3.\n</think>\n\nYes, 7 is prime."},
            {"role": "user", "content": "And 9?"}], None, True),
    ]


def make_env():
    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def strftime_now(fmt):
        return FIXED_NOW.strftime(fmt)

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", default=os.path.join(HERE, "..", "..", "..", "..", "..", "shared"))
    args = ap.parse_args()
    shared = os.path.abspath(args.shared)

    sources = {}
    for name in sorted(os.listdir(os.path.join(shared, TEMPLATE_DIR))):
        if name.endswith(".jinja"):
            rel = f"{TEMPLATE_DIR}/{name}"
            with open(os.path.join(shared, rel), encoding="utf-8") as f:
                sources[name[:-len(".jinja")]] = ({"file": rel}, f.read())
    for tid, rel in HF_CONFIGS.items():
        with open(os.path.join(shared, rel), encoding="utf-8") as f:
            sources[tid] = ({"hf_config": rel}, json.load(f)["chat_template"])

    for old in os.listdir(HERE):
        if old.endswith(".txt"):
            os.remove(os.path.join(HERE, old))

    env = make_env()
    manifest = {"bos_token": BOS, "eos_token": EOS, "now_unix": FIXED_NOW_UNIX, "cases": []}
    n_ok = n_err = 0
    for tid, (where, source) in sources.items():
        template = env.from_string(source)
        for case, messages, tools, add_gen in cases(tid):
            extra = EXTRAS.get(tid, {})
            if tools is None and tid.endswith("tool_use"):
                tools = []  # these templates iterate `tools` unguarded: None would only raise TypeError
            entry = {"template": tid, "source": where, "case": case, "messages": messages, "tools": tools,
                     "add_generation_prompt": add_gen, "extra": extra}
            try:
                text = template.render(messages=messages, tools=tools, add_generation_prompt=add_gen,
                                       bos_token=BOS, eos_token=EOS, **extra)
                out = f"{tid}__{case}.txt"
                with open(os.path.join(HERE, out), "w", encoding="utf-8", newline="") as f:
                    f.write(text)
                entry["expected"] = out
                n_ok += 1
            except Exception as e:  # Jinja2 refused: the C++ engine must refuse too
                entry["error"] = f"{type(e).__name__}: {e}"
                entry["raised"] = isinstance(e, jinja2.exceptions.TemplateError) and not isinstance(
                    e, jinja2.exceptions.UndefinedError)
                n_err += 1
            manifest["cases"].append(entry)
    with open(os.path.join(HERE, "manifest.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"{len(sources)} templates, {n_ok} renderings, {n_err} expected errors (jinja2 {jinja2.__version__})",
          file=sys.stderr)


if __name__ == "__main__":
    main()
