#!/usr/bin/env bash
# Runs every test project of the solution in Release and ends with exactly one summary line:
#   N passed, N failed
# The counts are summed over the trx files that `dotnet test` writes, one per project under tests/.
# Extra arguments go to `dotnet test` (e.g. --filter ...).
set -uo pipefail

cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

results="${TEST_RESULTS_DIR:-$PWD/artifacts/test-results}"
rm -rf "$results"
mkdir -p "$results"

if ! dotnet build FastGate.sln -c Release --nologo; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

# One trx file per test project (named after it, so none overwrites another); the projects run in
# turn, which on two cores costs little over the solution-wide parallel run.
test_rc=0
shopt -s nullglob
for proj in tests/*/*.csproj; do
  name=$(basename "$proj" .csproj)
  echo "== $name"
  # A test that hangs fails (with a dump of the stacks) instead of eating CI's time.
  dotnet test "$proj" -c Release --no-build --nologo \
    --results-directory "$results" --blame-hang-timeout 5m \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=normal" "$@" || test_rc=$?
done

# The gateway's functional tests once more over the other transport: epoll is the default on Linux,
# Kestrel's sockets transport is what FASTGATE_TRANSPORT=sockets (and every other OS) runs.
if [[ "$(uname -s)" == Linux ]]; then
  echo "== FastGate.FunctionalTests (FASTGATE_TRANSPORT=sockets)"
  FASTGATE_TRANSPORT=sockets dotnet test tests/FastGate.FunctionalTests/FastGate.FunctionalTests.csproj -c Release --no-build --nologo \
    --results-directory "$results" --blame-hang-timeout 5m \
    --logger "trx;LogFileName=FastGate.FunctionalTests.sockets.trx" --logger "console;verbosity=normal" "$@" || test_rc=$?
fi

# A test that failed is run once more, alone, with its project (and transport): one that passes then is
# reported by name as flaky and counted as passed; one that fails again stays failed. The names of the
# failed tests are printed either way, next to the summary, where CI's tail shows them.
retry_dir="$results/retry"
mkdir -p "$retry_dir"
python3 - "$results" > "$retry_dir/plan" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.trx"))):
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        continue
    methods = set()
    for r in root.iter(f"{ns}UnitTestResult"):
        if r.get("outcome") == "Failed":
            methods.add(r.get("testName", "").split("(")[0])
    if methods:
        name = os.path.basename(path)[:-len(".trx")]
        print(name + "\t" + "|".join(f"FullyQualifiedName={m}" for m in sorted(methods)))
PY
while IFS=$'\t' read -r trx filter; do
  [[ -n "$trx" ]] || continue
  project="tests/${trx%.sockets}/${trx%.sockets}.csproj"
  transport=""
  [[ "$trx" == *.sockets ]] && transport=sockets
  echo "== retrying the failed tests of $trx once: $filter"
  env ${transport:+FASTGATE_TRANSPORT=$transport} dotnet test "$project" -c Release --no-build --nologo \
    --results-directory "$retry_dir" --blame-hang-timeout 5m --filter "$filter" \
    --logger "trx;LogFileName=$trx.trx" --logger "console;verbosity=normal" || true
done < "$retry_dir/plan"

summary=$(python3 - "$results" <<'PY'
import glob, os, sys
import xml.etree.ElementTree as ET

ns = "{http://microsoft.com/schemas/VisualStudio/TeamTest/2010}"
passed = failed = skipped = flaky = 0
files = glob.glob(os.path.join(sys.argv[1], "*.trx"))
retry = os.path.join(sys.argv[1], "retry")


def outcomes(path):
    try:
        root = ET.parse(path).getroot()
    except (ET.ParseError, OSError):
        return {}
    return {r.get("testName"): r.get("outcome") for r in root.iter(f"{ns}UnitTestResult")}


for path in files:
    name = os.path.basename(path)
    first, again = outcomes(path), outcomes(os.path.join(retry, name))
    for test, outcome in sorted(first.items()):
        if outcome != "Failed":
            continue
        if again.get(test) == "Passed":
            print(f"flaky (failed, then passed alone): {name[:-4]}: {test}", file=sys.stderr)
            flaky += 1
        else:
            print(f"FAILED: {name[:-4]}: {test}", file=sys.stderr)

    try:
        counters = ET.parse(path).getroot().find(f"{ns}ResultSummary/{ns}Counters")
    except ET.ParseError:
        failed += 1  # a truncated trx means the test host died
        continue
    if counters is None:
        failed += 1
        continue
    c = {k: int(v) for k, v in counters.attrib.items() if v.isdigit()}
    passed += c.get("passed", 0)
    failed += c.get("failed", 0) + c.get("error", 0) + c.get("timeout", 0) + c.get("aborted", 0)
    skipped += c.get("notExecuted", 0)
print(f"{passed} {failed} {skipped} {len(files)} {flaky}")
PY
) || summary="0 1 0 0 0"
read -r passed failed skipped nfiles flaky <<<"$summary"

# dotnet test failing without any failed test counted (host crash, no trx written) is a failure too.
if [[ $test_rc -ne 0 && $failed -eq 0 ]]; then
  echo "dotnet test exited $test_rc without a failed test in $nfiles trx file(s)"
  failed=1
fi

# Failed tests that passed when run again alone count as passed (named above as flaky).
passed=$((passed + flaky))
failed=$((failed - flaky))

if [[ $skipped -gt 0 ]]; then
  echo "($skipped skipped)"
fi
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
