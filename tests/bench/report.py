"""The bench's output: a table for people, the same figures as JSON for CI."""

import json
from pathlib import Path

TARGET_RATIO = 0.60  # issue 4: the webhook at ≥ 60 % of the bare view's throughput
TARGET_P99_MS = 100.0  # … with p99 under 100 ms at that load


def verdict(figures: dict) -> dict:
    ack = figures["acknowledgement"]
    ratio = ack["webhook"]["rps"] / ack["bare"]["rps"] if ack["bare"]["rps"] else 0.0
    return {
        "ratio": round(ratio, 3),
        "ratio_met": ratio >= TARGET_RATIO,
        "p99_met": ack["webhook"]["p99_ms"] < TARGET_P99_MS,
    }


def _ack_row(name: str, run: dict) -> str:
    bad = sum(n for code, n in run["statuses"].items() if code != "200")
    return (
        f"  {name:<22}{run['requests']:>9}{run['rps']:>10.1f}{run['p50_ms']:>9.1f}"
        f"{run['p99_ms']:>9.1f}{run['max_ms']:>9.1f}{bad:>9}"
    )


def table(figures: dict) -> str:
    setup, ack, turns = figures["setup"], figures["acknowledgement"], figures["conversations"]
    result = figures["verdict"]
    met = "met" if result["ratio_met"] and result["p99_met"] else "NOT met"
    lines = [
        f"govtech bench — {setup['cpus']} CPUs, PostgreSQL + Redis on loopback, "
        f"gunicorn {setup['gunicorn']}",
        "",
        f"Webhook acknowledgement: {ack['concurrency']} keep-alive connections, "
        f"{ack['seconds']:g} s per target (after {ack['warmup']:g} s warm-up)",
        f"  {'':<22}{'requests':>9}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'non-200':>9}",
        _ack_row("bare Django view", ack["bare"]),
        _ack_row("LINE webhook (signed)", ack["webhook"]),
        f"  webhook / bare throughput: {result['ratio'] * 100:.1f} %   "
        f"(target ≥ {TARGET_RATIO * 100:.0f} % with p99 < {TARGET_P99_MS:.0f} ms: {met})",
        f"  events stored: {ack['events_stored']} of {ack['webhook']['requests']} "
        f"({ack['inbox']} inbox{_drained(ack)})",
    ]
    if turns is None:
        return "\n".join(lines)
    lines += ["", *conversation_lines(turns, setup)]
    return "\n".join(lines)


def conversation_lines(turns: dict, setup: dict) -> list[str]:
    lines = [
        f"Conversation turns end to end: {turns['residents']} residents at once, "
        f"{turns['rounds']} application(s) each, simulator (own gunicorn) → webhook → "
        f"inbox consumer → engine workers ({setup['worker']}) → emulated Messaging API",
        f"  {'turns':>7}{'seconds':>9}{'turns/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
        f"{'completed':>12}{'submissions':>13}",
        f"  {turns['turns']:>7}{turns['seconds']:>9.2f}{turns['turns_per_s']:>9.1f}"
        f"{turns['turn_p50_ms']:>9.1f}{turns['turn_p95_ms']:>9.1f}{turns['turn_p99_ms']:>9.1f}"
        f"{turns['completed']:>8} / {turns['residents']:<3}{turns['submissions']:>11}",
        "  (latency: the resident's input sent → the reply received by the emulated API)",
    ]
    lines += [f"  error: {error}" for error in turns["errors"][:5]]
    used = turns.get("cpu_ms_per_turn")
    if used is None:
        return lines
    sql = turns["sql_per_turn"]
    lines += [
        f"  CPU ms per turn (load average {' '.join(f'{v:g}' for v in turns['load_average'])}"
        f" during the run: the robust figure on a shared machine)",
        f"    {'product':<18}{'CPU ms':>8}{'queries':>9}{'SQL ms':>8}"
        f"      {'rig':<14}{'CPU ms':>8}",
    ]
    product, rig = list(used["product"].items()), list(used["rig"].items())
    product.append(("= product total", used["product_total"]))
    for row in range(max(len(product), len(rig))):
        left = " " * 43
        if row < len(product):
            name, ms = product[row]
            counted = sql.get(name)
            queries = f"{counted['queries_per_turn']:>9.1f}" if counted else " " * 9
            sql_ms = f"{counted['sql_ms_per_turn']:>8.2f}" if counted else " " * 8
            left = f"    {name:<18}{ms:>8.2f}{queries}{sql_ms}"
        right = f"      {rig[row][0]:<14}{rig[row][1]:>8.2f}" if row < len(rig) else ""
        lines.append(left + right)
    hops = turns["broker_and_database"]
    top = ", ".join(f"{name} {n:g}" for name, n in list(hops["redis_commands"].items())[:6])
    lines.append(
        f"  per turn: {hops['redis_commands_per_turn']:g} Redis commands ({top}); "
        f"{hops['pg_transactions_per_turn']:g} PostgreSQL transactions"
    )
    return lines


def _drained(ack: dict) -> str:
    if ack["inbox"] != "redis":
        return ""
    after = ack["inbox_drained_after_s"]
    return "; not drained" if after is None else f", empty {after:g} s after the load"


def write_json(figures: dict, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n")
