"""``make mutate``: mutation testing of the money path, scored per module.

Runs mutmut 3 (configured in pyproject's ``[tool.mutmut]``: the modules in ``only_mutate``,
the fast test subset in ``pytest_add_cli_args_test_selection``) over the modules below,
then prints, per module, the mutants killed, the survivors and the score, and lists every
survivor with whether tests/mutation/SURVIVORS.md explains it.

    python -m tests.mutation.run                   # every module, every mutant
    python -m tests.mutation.run _retry _poll      # some modules
    python -m tests.mutation.run --sample 5        # one mutant in 5 (by number), to save time
    python -m tests.mutation.run --report          # score the last run again, run nothing

The score of a module is caught / (run - equivalent): mutants SURVIVORS.md lists as
equivalent (no behaviour changes) are left out; the ones it accepts still count as survived.
Exit status 1 when a module scores below ``--minimum`` (90 %) or a survivor is unexplained.
mutmut keeps its work in ``mutants/`` (git-ignored); each run starts from a fresh copy
unless ``--keep`` is given.

Why mutmut rather than cosmic-ray (both maintained): mutmut 3 compiles every mutant of a
module into one copy, switched per test run by an environment variable, and runs each
in a forked worker (no new interpreter per mutant) against only the tests that reach the
mutated function (mapped in its first pass); cosmic-ray rewrites the source and starts
the whole test command anew for each mutant, several times slower for the same mutants
on a 2-core machine. mutmut also numbers mutants
per function, which gives the stable sample (``--sample``) and stable survivor names.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SURVIVORS_FILE = ROOT / "tests" / "mutation" / "SURVIVORS.md"

# Module (as imported) -> file. Keep in step with [tool.mutmut] only_mutate in pyproject.
MODULES = {
    "fluz._sending": "src/fluz/_sending.py",
    "fluz._error_mapping": "src/fluz/_error_mapping.py",
    "fluz._idempotency": "src/fluz/_idempotency.py",
    "fluz._auth": "src/fluz/_auth.py",
    "fluz._retry": "src/fluz/_retry.py",
    "fluz._poll": "src/fluz/_poll.py",
    "fluz._reveal": "src/fluz/_reveal.py",
    "fluz._validation": "src/fluz/_validation.py",
    "fluz.webhooks._signature": "src/fluz/webhooks/_signature.py",
    "fluz.webhooks._dedup": "src/fluz/webhooks/_dedup.py",
    "fluz.oauth._client": "src/fluz/oauth/_client.py",
    "fluz.oauth._tokens": "src/fluz/oauth/_tokens.py",
}

# mutmut's exit-code verdicts (mutmut.stats.status_by_exit_code) that count as caught.
_CAUGHT = {"killed", "timeout", "caught by type check", "segfault"}
# Mutants never run (outside the sample, or an interrupted run): not scored.
_UNSCORED = {"not checked", "skipped", "check was interrupted by user"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="short names (_retry) or full (fluz._retry)")
    parser.add_argument(
        "--sample", type=int, choices=(1, 2, 5, 10), default=5, help="run one mutant in N"
    )
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--minimum", type=float, default=90.0)
    parser.add_argument("--keep", action="store_true", help="reuse mutants/ and its results")
    parser.add_argument("--report", action="store_true", help="only score the last run")
    args = parser.parse_args(argv)

    modules = _pick(args.modules)
    patterns = [f"{module}.*{_SAMPLES[args.sample]}" for module in modules]
    if not args.report:
        if not args.keep:
            shutil.rmtree(ROOT / "mutants", ignore_errors=True)
        command = [
            sys.executable,
            "-m",
            "mutmut",
            "run",
            "--max-children",
            str(args.max_children),
            *patterns,
        ]
        print("$", " ".join(command), flush=True)
        # mutmut prints its progress; the verdicts are read from mutants/ below.
        subprocess.run(command, cwd=ROOT, check=False)
    return _report(modules, patterns, args.minimum)


# Sampling by the mutant's number (mutmut numbers the mutants of each function 1, 2, ...).
_SAMPLES = {1: "", 2: "__mutmut_*[13579]", 5: "__mutmut_*[05]", 10: "__mutmut_*0"}


def _pick(names: list[str]) -> list[str]:
    if not names:
        return list(MODULES)
    picked = []
    for name in names:
        full = name if name.startswith("fluz.") else f"fluz.{name.lstrip('.')}"
        full = full if full in MODULES else f"fluz.{name}"
        if full not in MODULES:
            sys.exit(f"unknown module {name!r}; one of: {', '.join(MODULES)}")
        picked.append(full)
    return picked


def _report(modules: list[str], patterns: list[str], minimum: float) -> int:
    from fnmatch import fnmatchcase

    from mutmut.stats import status_by_exit_code

    equivalent, accepted = _explained()
    failed = False
    survivors: list[tuple[str, str]] = []
    print(f"\n{'module':<28}{'mutants':>8}{'caught':>8}{'equiv.':>8}{'survived':>9}{'score':>8}")
    for module, pattern in zip(modules, patterns, strict=True):
        meta = ROOT / "mutants" / (MODULES[module] + ".meta")
        codes = json.loads(_read(meta) or "{}").get("exit_code_by_key", {})
        verdicts: Counter[str] = Counter()
        for key, code in sorted(codes.items(), key=lambda kv: _natural(kv[0])):
            if not fnmatchcase(key, pattern):
                continue
            status = status_by_exit_code[code]
            if status in _UNSCORED:
                continue
            if status in _CAUGHT:
                verdicts["caught"] += 1
                continue
            why = "equivalent" if key in equivalent else "accepted" if key in accepted else ""
            verdicts["equivalent" if why == "equivalent" else "survived"] += 1
            survivors.append((f"{key} ({status})", why))
        # Equivalent mutants (no behaviour to test) are left out of the score.
        scored = verdicts["caught"] + verdicts["survived"]
        score = 100.0 * verdicts["caught"] / scored if scored else 0.0
        failed |= score < minimum
        flag = "" if score >= minimum else "  < minimum"
        print(
            f"{module:<28}{scored + verdicts['equivalent']:>8}{verdicts['caught']:>8}"
            f"{verdicts['equivalent']:>8}{verdicts['survived']:>9}{score:>7.1f}%{flag}"
        )
    if survivors:
        print("\nsurvivors (`mutmut show NAME` prints the change; SURVIVORS.md says why):")
        for name, why in survivors:
            print(f"  {why or 'UNEXPLAINED':<11} {name}")
        failed |= not all(why for _, why in survivors)
    return 1 if failed else 0


def _explained() -> tuple[set[str], set[str]]:
    """Mutant names SURVIVORS.md lists under "Equivalent" and under "Accepted"."""
    text = _read(SURVIVORS_FILE)
    head, _, accepted = text.partition("\n## Accepted")
    name = re.compile(r"`(fluz\.[^`]+__mutmut_\d+)`")
    return set(name.findall(head)), set(name.findall(accepted))


def _natural(key: str) -> tuple[str, int]:
    head, _, number = key.rpartition("__mutmut_")
    return head, int(number) if number.isdigit() else 0


def _read(path: Path) -> str:
    return path.read_text("utf-8") if path.exists() else ""


if __name__ == "__main__":
    raise SystemExit(main())
