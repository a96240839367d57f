"""Soak test: hold many concurrent clients against faq-serve for a bounded time, on loopback only,
and check that no request fails and that the service's memory does not grow.

    python -m bench.soak --model var/model --data ../shared/data/cloud_faq/cloud_faq_dataset.jsonl

Steps:
1. the store: --data indexed into a fresh embedded store, or a copy of --store (the soak writes,
   and must leave the caller's store as it was); --data also supplies the questions asked;
2. faq-serve on a free 127.0.0.1 port, with a random API key guarding the write endpoints;
3. a warm-up under the full load (--warmup-s): memory taken in the first seconds (allocator
   arenas, per-shape caches) is not a leak, so the memory baseline is taken after it;
4. the soak (--minutes): wrk (bench/ask.lua: the data's questions) holds all clients but
   --writers; each writer client loops POST /answers (a unique entry) -> GET it -> DELETE it, so
   writes are exercised while the collection keeps its size: memory growth is then not data;
5. throughout, the service's RSS and its request counter (/metrics) every --sample-s seconds.

Fails (exit 1) on any error — a non-2xx response, 429 included, a socket error or a timeout —,
on memory growth (last sample against the baseline) beyond --max-growth-pct, or when the service
exits. Writes --out (markdown) and a PNG of memory and throughput beside it; prints a JSON summary.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from bench.run import BENCH, Server, machine, run_json, wrk
from faq_core.settings import FASTER_PATHS

# Scrapes and readiness are not load; leave them out of the throughput.
_NOT_LOAD = frozenset({"/metrics", "/readyz", "/healthz"})


def say(message: str) -> None:
    print(f"[soak] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def clock(seconds: float) -> str:
    return f"{int(seconds) // 60}:{int(seconds) % 60:02d}"


def percentile(values: list[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return round(values[0], 2)
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)


@dataclass
class Sample:
    t_s: float  # since the service was ready
    phase: str
    rss_mb: float | None
    requests: int | None  # the service's own count of load requests so far
    ok: int | None  # of which answered 2xx: a shedding service answers fast, but not usefully


@dataclass
class WriteStats:
    """What the writer clients saw in one phase."""

    cycles: int = 0
    statuses: Counter[str] = field(default_factory=Counter)  # "POST 201"
    errors: Counter[str] = field(default_factory=Counter)  # "POST 429", "GET timeout"
    latency_ms: dict[str, list[float]] = field(default_factory=dict)

    def merge(self, other: WriteStats) -> None:
        self.cycles += other.cycles
        self.statuses.update(other.statuses)
        self.errors.update(other.errors)
        for method, values in other.latency_ms.items():
            self.latency_ms.setdefault(method, []).extend(values)

    def as_dict(self, seconds: float) -> dict[str, Any]:
        # A request that got no response at all has no status; count it too.
        requests = sum(self.statuses.values()) + sum(
            n for key, n in self.errors.items() if key.endswith((" timeout", " socket"))
        )
        return {
            "cycles": self.cycles,
            "requests": requests,
            "rps": round(requests / seconds, 2) if seconds else 0.0,
            "statuses": dict(sorted(self.statuses.items())),
            "errors": dict(sorted(self.errors.items())),
            "latency_ms": {
                method: {"p50": percentile(v, 50), "p99": percentile(v, 99), "n": len(v)}
                for method, v in sorted(self.latency_ms.items())
            },
        }


class Writer(threading.Thread):
    """One client that adds a unique entry, reads it back and deletes it, over and over."""

    def __init__(
        self,
        url: str,
        api_key: str,
        rows: list[dict[str, str]],
        tag: str,
        timeout_s: float,
        stop: threading.Event,
    ) -> None:
        super().__init__(daemon=True, name=f"writer-{tag}")
        self.rows, self.tag, self.stop = rows, tag, stop
        self.client = httpx.Client(
            base_url=url,
            timeout=timeout_s,
            headers={"Authorization": f"Bearer {api_key}"},
        )
        self.stats = WriteStats()

    def take_stats(self) -> WriteStats:
        # A plain swap is enough: the GIL makes the assignment atomic, and a cycle that straddles
        # the swap is split between two phases, which is where its requests happened.
        taken, self.stats = self.stats, WriteStats()
        return taken

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        started = time.perf_counter()
        try:
            response = self.client.request(method, path, json=body)
        except httpx.TimeoutException:
            self.stats.errors[f"{method} timeout"] += 1
            raise
        except httpx.TransportError:
            self.stats.errors[f"{method} socket"] += 1
            raise
        self.stats.latency_ms.setdefault(method, []).append((time.perf_counter() - started) * 1000)
        self.stats.statuses[f"{method} {response.status_code}"] += 1
        if not response.is_success:
            self.stats.errors[f"{method} {response.status_code}"] += 1
        return response

    def cycle(self, n: int) -> None:
        row = self.rows[(n * 7919) % len(self.rows)]
        mark = f"(soak {self.tag}-{n})"
        # Unique text, so each POST creates an entry rather than finding the one from last cycle.
        entry = {
            "question": f"{row['question'][:1500]} {mark}",
            "answer": f"{row['answer'][:1500]} {mark}",
            "source": "soak",
        }
        added = self.call("POST", "/answers", {"entries": [entry]})
        if added.status_code != 201:
            # Already counted; a pause, as a client honouring Retry-After would, keeps a refusing
            # service from being flooded with refused writes.
            self.stop.wait(0.2)
            return
        entry_id = added.json()["ids"][0]
        got = self.call("GET", f"/answers/{entry_id}")
        if got.status_code == 200 and got.json().get("answer") != entry["answer"].strip():
            self.stats.errors["GET mismatch"] += 1
        self.call("DELETE", f"/answers/{entry_id}")
        self.stats.cycles += 1

    def run(self) -> None:
        n = 0
        with self.client:
            while not self.stop.is_set():
                n += 1
                try:
                    self.cycle(n)
                except httpx.TransportError:
                    # Already counted; a pause keeps a dead service from being hammered.
                    self.stop.wait(0.5)


def served_requests(client: httpx.Client) -> dict[str, int] | None:
    """The service's own request counts (its /metrics), by "METHOD route status"."""
    try:
        text = client.get("/metrics").text
    except httpx.TransportError:
        return None
    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "faq_http_requests":
            continue
        for s in family.samples:
            if s.name.endswith("_total") and s.labels["route"] not in _NOT_LOAD:
                counts[f"{s.labels['method']} {s.labels['route']} {s.labels['status']}"] = int(
                    s.value
                )
    return counts


def request_rates(samples: list[Sample], ok: bool = False) -> list[tuple[float, float]]:
    """(t_s, requests/s since the previous counted sample), all or only the 2xx ones."""
    counted: list[tuple[float, int]] = []
    for s in samples:
        n = s.ok if ok else s.requests
        if n is not None:
            counted.append((s.t_s, n))
    return [(t1, (n1 - n0) / (t1 - t0)) for (t0, n0), (t1, n1) in pairwise(counted) if t1 > t0]


class Sampler(threading.Thread):
    """Samples the service's RSS and request count, and prints a progress line now and then."""

    def __init__(
        self, server: Server, interval_s: float, progress_s: float, writers: list[Writer]
    ) -> None:
        super().__init__(daemon=True, name="sampler")
        self.server, self.interval_s, self.progress_s = server, interval_s, progress_s
        self.writers = writers
        self.metrics = httpx.Client(base_url=server.url, timeout=5)
        self.origin = time.monotonic()
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.phase, self.phase_start, self.phase_s = "start", 0.0, 0.0
        self.baseline_mb: float | None = None

    def begin(self, phase: str, seconds: float) -> Sample:
        self.phase, self.phase_s = phase, seconds
        self.phase_start = time.monotonic() - self.origin
        return self.sample()

    def sample(self) -> Sample:
        try:
            rss: float | None = self.server.memory_mb()["VmRSS"]
        except (OSError, KeyError):
            rss = None  # the process is gone
        served = served_requests(self.metrics)
        sample = Sample(
            t_s=round(time.monotonic() - self.origin, 2),
            phase=self.phase,
            rss_mb=rss,
            requests=sum(served.values()) if served is not None else None,
            ok=sum(n for k, n in served.items() if k.rsplit(" ", 1)[1].startswith("2"))
            if served is not None
            else None,
        )
        with self.lock:
            self.samples.append(sample)
        return sample

    def progress(self, sample: Sample) -> None:
        with self.lock:
            window = [s for s in self.samples if s.t_s >= sample.t_s - self.progress_s]
        rates, ok = request_rates(window), request_rates(window, ok=True)
        rate = ""
        if rates and ok:
            rate = (
                f"  {statistics.fmean(r for _, r in rates):.1f} req/s"
                f" ({statistics.fmean(r for _, r in ok):.1f} 2xx)"
            )
        memory = "  service gone" if sample.rss_mb is None else f"  rss {sample.rss_mb:.1f} MB"
        if sample.rss_mb is not None and self.baseline_mb:
            memory += f" ({(sample.rss_mb / self.baseline_mb - 1) * 100:+.1f}%)"
        write_errors = sum(sum(w.stats.errors.values()) for w in self.writers)
        cycles = sum(w.stats.cycles for w in self.writers)
        say(
            f"{self.phase} {clock(sample.t_s - self.phase_start)}/{clock(self.phase_s)}"
            f"{memory}{rate}  writes {cycles} cycles, {write_errors} errors"
        )

    def run(self) -> None:
        next_progress = time.monotonic() + self.progress_s
        with self.metrics:
            while not self.stop.wait(self.interval_s):
                sample = self.sample()
                if time.monotonic() >= next_progress:
                    next_progress += self.progress_s
                    self.progress(sample)


def read_rows(data: Path) -> list[dict[str, str]]:
    rows = [json.loads(line) for line in data.read_text().splitlines() if line.strip()]
    return [r for r in rows if r.get("question") and r.get("answer")]


def memory_summary(samples: list[Sample], baseline: Sample, final: Sample) -> dict[str, Any]:
    soak = [s for s in samples if s.phase == "soak" and s.rss_mb is not None]
    summary: dict[str, Any] = {
        "baseline_mb": baseline.rss_mb,
        "final_mb": final.rss_mb,
        "max_mb": max((s.rss_mb for s in soak if s.rss_mb is not None), default=None),
        "growth_pct": None,
        "slope_last_half_mb_per_min": None,
        "samples": len(soak),
    }
    if baseline.rss_mb and final.rss_mb:
        summary["growth_pct"] = round((final.rss_mb / baseline.rss_mb - 1) * 100, 2)
    # A leak too slow to cross the threshold in one run still shows as a steady slope; the first
    # half is left out because it may still hold the tail of the warm-up.
    if soak:
        middle = (soak[0].t_s + soak[-1].t_s) / 2
        half = [s for s in soak if s.t_s >= middle]
        if len(half) >= 3:
            fit = statistics.linear_regression(
                [s.t_s / 60 for s in half], [float(s.rss_mb or 0.0) for s in half]
            )
            summary["slope_last_half_mb_per_min"] = round(fit.slope, 3)
    return summary


def soak(
    server: Server, args: argparse.Namespace, rows: list[dict[str, str]], questions: Path, key: str
) -> dict[str, Any]:
    readers = args.clients - args.writers
    seconds = max(1, round(args.minutes * 60))
    stop = threading.Event()
    nonce = secrets.token_hex(3)
    writers = [
        Writer(server.url, key, rows, f"{nonce}-{i}", args.timeout_s, stop)
        for i in range(args.writers)
    ]
    sampler = Sampler(server, args.sample_s, args.progress_s, writers)
    sampler.start()
    for writer in writers:
        writer.start()
    try:
        warm: dict[str, Any] | None = None
        warm_writes = WriteStats()
        if args.warmup_s > 0:
            sampler.begin("warm-up", args.warmup_s)
            say(f"warm-up: {args.clients} clients for {args.warmup_s} s")
            warm = wrk(server.url, readers, args.warmup_s, questions, args.timeout_s)
            for writer in writers:
                warm_writes.merge(writer.take_stats())
        baseline = sampler.begin("soak", seconds)
        sampler.baseline_mb = baseline.rss_mb
        say(f"soak: {args.clients} clients for {clock(seconds)}, baseline {baseline.rss_mb} MB")
        load = wrk(server.url, readers, seconds, questions, args.timeout_s)
        final = sampler.sample()
        writes = WriteStats()
        for writer in writers:
            writes.merge(writer.take_stats())
    finally:
        stop.set()
        sampler.stop.set()
        for writer in writers:
            writer.join(timeout=args.timeout_s + 5)
        sampler.join(timeout=10)
    assert server.process is not None
    exit_code = server.process.poll()
    with httpx.Client(base_url=server.url, timeout=5) as client:
        served = served_requests(client) if exit_code is None else None
    try:
        peak = server.memory_mb().get("VmHWM")
    except OSError:
        peak = None
    return {
        "warmup": {"wrk": warm, "writes": warm_writes.as_dict(args.warmup_s or 1)},
        "wrk": load,
        "writes": writes.as_dict(seconds),
        "seconds": seconds,
        "memory": {**memory_summary(sampler.samples, baseline, final), "peak_since_start_mb": peak},
        "served": served,
        "service_exit_code": exit_code,
        "samples": [vars(s) for s in sampler.samples],
    }


def wrk_errors(load: dict[str, Any]) -> tuple[dict[str, int], int]:
    """Non-2xx responses by status, and requests that got no response (wrk's socket errors)."""
    # 429 counts: the service shedding load it was asked to hold is a failure of the soak, though
    # it is the service working as designed. (bench/ask.lua does not report wrk's write errors;
    # on loopback a failed write shows up as a read error or timeout too.)
    by_status = {k: n for k, n in load["statuses"].items() if not k.startswith("2")}
    return by_status, load["timeouts"] + load["connect_errors"] + load["read_errors"]


def judge(r: dict[str, Any], max_growth_pct: float) -> dict[str, Any]:
    load, writes = r["wrk"], r["writes"]
    by_status, socket_errors = wrk_errors(load)
    write_errors = sum(writes["errors"].values())
    # Warm-up errors are reported, not judged: the warm-up exists to keep start-up transients
    # out of the verdict; the requirement is about holding the load.
    warm_errors = sum(r["warmup"]["writes"]["errors"].values())
    if r["warmup"]["wrk"] is not None:
        warm_by_status, warm_socket = wrk_errors(r["warmup"]["wrk"])
        warm_errors += sum(warm_by_status.values()) + warm_socket
    too_many = by_status.get("429", 0) + sum(
        n for k, n in writes["errors"].items() if k.endswith(" 429")
    )
    errors = sum(by_status.values()) + socket_errors + write_errors
    growth = r["memory"]["growth_pct"]
    checks = {
        "no errors": errors == 0,
        f"memory growth <= {max_growth_pct:g}%": growth is not None and growth <= max_growth_pct,
        "service still running": r["service_exit_code"] is None,
    }
    requests = load["requests"] + writes["requests"]
    return {
        "passed": all(checks.values()),
        "checks": checks,
        "requests": requests,
        "rps": round(requests / r["seconds"], 2),
        "write_share_pct": round(100 * writes["requests"] / requests, 2) if requests else 0.0,
        "errors": errors,
        "errors_429": too_many,
        "ask_non_2xx": by_status,
        "ask_socket_errors": {
            "timeouts": load["timeouts"],
            "connect": load["connect_errors"],
            "read": load["read_errors"],
        },
        "write_errors": writes["errors"],
        "warmup_errors": warm_errors,
        "ask_latency_ms": {"p50": load["p50_ms"], "p99": load["p99_ms"], "max": load["max_ms"]},
        "memory": {k: v for k, v in r["memory"].items() if k != "samples"},
    }


def plot(r: dict[str, Any], max_growth_pct: float, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    samples = [Sample(**s) for s in r["samples"]]
    fig, (mem, rate) = plt.subplots(2, 1, figsize=(9, 6), sharex=True)
    warm = [s.t_s / 60 for s in samples if s.phase == "warm-up"]
    for ax in (mem, rate):
        if warm:
            ax.axvspan(min(warm), max(warm), color="0.9", label="warm-up")
        ax.grid(alpha=0.3)
    with_rss = [s for s in samples if s.rss_mb is not None]
    mem.plot([s.t_s / 60 for s in with_rss], [s.rss_mb for s in with_rss], label="RSS")
    baseline = r["memory"]["baseline_mb"]
    if baseline:
        mem.axhline(baseline, color="tab:green", linestyle=":", label="baseline")
        mem.axhline(
            baseline * (1 + max_growth_pct / 100),
            color="tab:red",
            linestyle="--",
            label=f"baseline +{max_growth_pct:g}%",
        )
    mem.set_ylabel("service RSS (MB)")
    mem.legend(loc="lower right")
    for ok, label, color in ((False, "all responses", "tab:orange"), (True, "2xx", "tab:blue")):
        rates = request_rates(samples, ok=ok)
        rate.plot([t / 60 for t, _ in rates], [r for _, r in rates], color=color, label=label)
    rate.legend(loc="lower right")
    rate.set_ylabel("requests/s (service's count)")
    rate.set_xlabel("minutes since the service was ready")
    fig.suptitle(f"soak: {r['clients']} clients, {r['seconds'] / 60:g} min")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(r: dict[str, Any], summary: dict[str, Any], image: Path) -> str:
    mem, load, writes = summary["memory"], r["wrk"], r["writes"]
    lines = [
        "# Soak",
        "",
        f"`{r['command']}`, {r['started']}: {r['clients']} concurrent clients on loopback for"
        f" {r['seconds'] / 60:g} min after a {r['warmup_s']} s warm-up.",
        f"Machine: {r['machine']['cpu']}, {r['machine']['cores']} cores, "
        f"torch {r['machine']['torch']}.",
        "",
        f"**{'PASSED' if summary['passed'] else 'FAILED'}**",
        "",
        "| check | |",
        "|---|---|",
        *(f"| {name} | {'yes' if ok else '**no**'} |" for name, ok in summary["checks"].items()),
        "",
        "## Load",
        "",
        f"{summary['requests']} requests, {summary['rps']} req/s; writes "
        f"{summary['write_share_pct']}% ({writes['cycles']} POST/GET/DELETE cycles).",
        f"Errors: {summary['errors']} (of which 429: {summary['errors_429']}).",
        "",
        "| clients | requests | statuses | socket errors | p50 | p99 |",
        "|---|---|---|---|---|---|",
        f"| {r['clients'] - r['writers']} asking (wrk) | {load['requests']} | {load['statuses']} |"
        f" {summary['ask_socket_errors']} | {load['p50_ms']:.0f} ms | {load['p99_ms']:.0f} ms |",
    ]
    for method, lat in writes["latency_ms"].items():
        statuses = {k: n for k, n in writes["statuses"].items() if k.startswith(f"{method} ")}
        failed = {k: n for k, n in writes["errors"].items() if k.startswith(f"{method} ")}
        lines.append(
            f"| {r['writers']} writing: {method} | {lat['n']} | {statuses} | {failed} |"
            f" {lat['p50']:.0f} ms | {lat['p99']:.0f} ms |"
        )
    warm = r["warmup"]["wrk"]
    if warm is not None:
        lines.append(
            f"| warm-up, asking (not judged) | {warm['requests']} | {warm['statuses']} |"
            f" {wrk_errors(warm)[1]} | {warm['p50_ms']:.0f} ms | {warm['p99_ms']:.0f} ms |"
        )
    if r["served"] is not None:
        lines += ["", f"The service's own count (/metrics, whole run): `{r['served']}`."]
    lines += [
        "",
        "## Memory (service RSS)",
        "",
        "| baseline (after warm-up) | final | max | growth | slope, last half | peak since start |",
        "|---|---|---|---|---|---|",
        f"| {mem['baseline_mb']} MB | {mem['final_mb']} MB | {mem['max_mb']} MB |"
        f" {mem['growth_pct']}% | {mem['slope_last_half_mb_per_min']} MB/min |"
        f" {mem['peak_since_start_mb']} MB |",
        "",
        f"![RSS and throughput over time]({image.name})",
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, required=True, help="servable directory")
    parser.add_argument(
        "--data", type=Path, required=True, help="FAQ JSON Lines: its questions are asked"
    )
    parser.add_argument(
        "--store", type=Path, help="an embedded store already indexed for --model (copied)"
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=64, help="concurrent clients in all")
    parser.add_argument("--writers", type=int, default=1, help="of the clients, those writing")
    parser.add_argument("--warmup-s", type=int, default=60)
    parser.add_argument("--timeout-s", type=int, default=2, help="a slower answer is an error")
    parser.add_argument("--sample-s", type=float, default=5.0)
    parser.add_argument("--progress-s", type=float, default=30.0)
    parser.add_argument("--max-growth-pct", type=float, default=5.0)
    parser.add_argument("--device", choices=("cpu", "cuda", "auto"), default="cpu")
    parser.add_argument(
        "--quantize", choices=("none", *FASTER_PATHS), default="none", help="as FAQ_QUANTIZE"
    )
    parser.add_argument("--out", type=Path, default=BENCH / "SOAK.md")
    args = parser.parse_args()
    if not 0 < args.writers < args.clients or args.minutes <= 0 or args.warmup_s < 0:
        parser.error("need 0 < --writers < --clients, --minutes > 0 and --warmup-s >= 0")

    python = sys.executable
    key = secrets.token_urlsafe(24)
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "FAQ_MODEL_PATH": str(args.model.resolve()),
        "FAQ_DEVICE": args.device,
        "FAQ_QUANTIZE": args.quantize,
        "FAQ_API_KEY": key,
    }
    # Only the embedded store: a Qdrant server would be off the loopback-only path and shared.
    env.pop("FAQ_QDRANT_URL", None)
    rows = read_rows(args.data)
    if not rows:
        parser.error(f"{args.data} has no entry with both a question and an answer")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    work = Path(tempfile.mkdtemp(prefix="faq-soak-"))
    try:
        questions = work / "questions.txt"
        questions.write_text("".join(r["question"].replace("\n", " ") + "\n" for r in rows))
        env["FAQ_STORE_PATH"] = str(work / "store")
        if args.store:
            say(f"copying {args.store}")
            shutil.copytree(args.store, work / "store")
        else:
            say(f"indexing {args.data}")
            run_json([python, "-m", "indexer", "--data", str(args.data), "--quiet"], env)
        port = free_port()
        cmd = [python, "-m", "service", "--host", "127.0.0.1", "--port", str(port)]
        say(f"starting faq-serve on 127.0.0.1:{port}")
        with Server([*cmd, "--log-level", "warning"], env, port) as server:
            result = soak(server, args, rows, questions, key)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    result.update(
        command=" ".join(["python -m bench.soak", *sys.argv[1:]]),
        started=started,
        machine=machine(),
        clients=args.clients,
        writers=args.writers,
        warmup_s=args.warmup_s,
    )
    summary = judge(result, args.max_growth_pct)
    image = args.out.with_suffix(".png")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    plot(result, args.max_growth_pct, image)
    args.out.write_text(render(result, summary, image))
    say(f"wrote {args.out} and {image}")
    print(json.dumps(summary, indent=2))
    raise SystemExit(0 if summary["passed"] else 1)


if __name__ == "__main__":
    main()
