"""Run every serving benchmark and write bench/RESULTS.md.

    python -m bench.run --model var/model --data ../shared/data/cloud_faq/cloud_faq_dataset.jsonl \
        --questions ../shared/data/cloud_faq/val.jsonl

Steps, each against the same servable in the same run (ratios are what count; absolute times drift):
1. the model's own encode speed (bench/encode.py), fp32 and the faster paths: int8, and bf16
   where the CPU computes in bfloat16 natively (elsewhere it is emulated: slow, so not measured);
2. the indexer on the whole data file into a fresh embedded store (texts/s vs the raw encode),
   and that store's search (bench/search.py: ms per question, how often its top 3 is exact);
3. the service (`faq-serve`) under wrk: 1 client, 32 clients, 256 clients; its resident memory;
4. the same with each faster path;
5. the straightforward server (bench/naive_server.py) at 32 clients.
The load generator, wrk, is a process of its own (Debian package `wrk`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.report import service_key
from faq_core.quantize import choose_quantize, cpu_has_native_bf16, read_cpu_flags
from faq_core.settings import FASTER_PATHS

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
LUA = BENCH / "ask.lua"


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def run_json(cmd: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
    return json.loads(out[out.index("{") :])


class Server:
    """A server process on a loopback port, ready when /readyz answers 200."""

    def __init__(
        self, cmd: list[str], env: dict[str, str], port: int, cwd: Path | None = None
    ) -> None:
        self.cmd, self.env, self.port, self.cwd = cmd, env, port, cwd
        self.url = f"http://127.0.0.1:{port}"
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            self.cmd,
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.cmd} exited with {self.process.returncode}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.5)
        raise TimeoutError(f"{self.cmd} not ready")

    def memory_mb(self) -> dict[str, float]:
        assert self.process is not None
        fields = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                fields[key] = round(int(value.split()[0]) / 1024, 1)
        return fields

    def __exit__(self, *exc: object) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()


def wrk(
    url: str, clients: int, seconds: int, questions: Path, timeout_s: int = 2
) -> dict[str, Any]:
    threads = min(clients, 2)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{clients}",
        f"-d{seconds}s",
        f"--timeout={timeout_s}s",
        "-s",
        str(LUA),
        url,
    ]
    out = subprocess.run(
        cmd,
        env={**os.environ, "BENCH_QUESTIONS": str(questions)},
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRK_JSON "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_JSON "))
    result["command"] = " ".join([*cmd[:-2], "bench/ask.lua", url])  # the script by its repo path
    result["5xx"] = sum(n for status, n in result["statuses"].items() if status.startswith("5"))
    return result


def machine() -> dict[str, str]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import torch

    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torch_threads": str(torch.get_num_threads()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument(
        "--data", type=Path, required=True, help="the whole FAQ: indexed, and its questions asked"
    )
    parser.add_argument(
        "--questions",
        type=Path,
        help="questions whose search is checked against brute force; default: --data's",
    )
    parser.add_argument("--seconds", type=int, default=20, help="each wrk run")
    parser.add_argument("--out", type=Path, default=BENCH / "RESULTS.md")
    args = parser.parse_args()
    python = sys.executable
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "FAQ_MODEL_PATH": str(args.model.resolve()),
        "FAQ_DEVICE": "cpu",
        # Every step runs one named path; the default (auto) depends on the machine.
        "FAQ_QUANTIZE": "none",
    }
    work = Path(tempfile.mkdtemp(prefix="faq-bench-"))
    questions = work / "questions.txt"
    rows = [json.loads(line) for line in args.data.read_text().splitlines() if line.strip()]
    questions.write_text(
        "".join(r["question"].replace("\n", " ") + "\n" for r in rows if r.get("question"))
    )
    results: dict[str, Any] = {
        "machine": machine(),
        "started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        # What the default, FAQ_QUANTIZE=auto, runs on this machine.
        "auto": choose_quantize("auto", device_type="cpu", cpu_flags=read_cpu_flags()).record(),
    }
    try:
        # bf16 only where the CPU has it: emulated, it is slow, and its figures would say nothing.
        native_bf16 = cpu_has_native_bf16(read_cpu_flags())
        paths = ["none", *(q for q in FASTER_PATHS if q != "bf16" or native_bf16)]
        log(f"1/5 raw encode: {', '.join(paths)}")
        encode_cmd = [
            python,
            "-m",
            "bench.encode",
            "--model",
            str(args.model),
            "--data",
            str(args.data),
        ]
        results["encode"] = {q: run_json([*encode_cmd, "--quantize", q], env) for q in paths}

        log("2/5 indexer, whole data file, fresh embedded store; its search")
        store_env = {**env, "FAQ_STORE_PATH": str(work / "store")}
        results["index"] = run_json(
            [python, "-m", "indexer", "--data", str(args.data), "--quiet"], store_env
        )
        results["search"] = run_json(
            [python, "-m", "bench.search", "--questions", str(args.questions or args.data)],
            store_env,
        )

        for quantize in paths:
            label = service_key(quantize)
            log(f"3/5 {label} under load")
            port = 8200 + len(results)
            cmd = [python, "-m", "service", "--port", str(port), "--log-level", "warning"]
            with Server(cmd, {**store_env, "FAQ_QUANTIZE": quantize}, port) as server:
                runs = {
                    "c1": wrk(server.url, 1, args.seconds, questions),
                    "c32": wrk(server.url, 32, args.seconds, questions),
                    "c256": wrk(server.url, 256, args.seconds, questions),
                }
                runs["memory_mb"] = server.memory_mb()
            results[label] = runs

        log("5/5 straightforward server, 32 clients")
        cmd = [python, "-m", "bench.naive_server", "--port", "8299"]
        with Server(cmd, store_env, 8299) as server:
            results["naive"] = {"c32": wrk(server.url, 32, args.seconds, questions)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    (BENCH / "results.json").write_text(json.dumps(results, indent=2))
    args.out.write_text(render(results, args))
    log(f"wrote {args.out}")


def render(r: dict[str, Any], args: argparse.Namespace) -> str:
    from bench.report import render_markdown

    return render_markdown(
        r,
        " ".join(
            [
                "python -m bench.run",
                "--model",
                str(args.model),
                "--data",
                str(args.data),
                *(["--questions", str(args.questions)] if args.questions else []),
                "--seconds",
                str(args.seconds),
            ]
        ),
    )


if __name__ == "__main__":
    main()
